"""A per-row dropdown menu inside a ui.table, emitting one table event per item."""

from dataclasses import dataclass

from nicegui import ui


@dataclass(frozen=True)
class MenuItem:
    event: str
    label: str
    show_if: str = "true"  # a JavaScript condition on `props.row`, e.g. "!props.row.archived"


def add_row_menu(table: ui.table, items: list[MenuItem], *, column: str = "actions", name_field: str = "name") -> None:
    """Give each row a ⋮ button whose menu items emit (event, row) on the table."""
    entries = "".join(
        f'<q-item v-if="{item.show_if}" clickable v-close-popup '
        f"@click=\"$parent.$emit('{item.event}', props.row)\">"
        f"<q-item-section>{item.label}</q-item-section></q-item>"
        for item in items
    )
    table.add_slot(
        f"body-cell-{column}",
        '<q-td :props="props" auto-width>'
        f'<q-btn flat round dense icon="more_vert" :aria-label="\'Actions for \' + props.row.{name_field}">'
        f"<q-menu><q-list dense>{entries}</q-list></q-menu>"
        "</q-btn></q-td>",
    )
