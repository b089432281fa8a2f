"""A per-row dropdown menu inside a ui.table, emitting one table event per item."""

from nicegui import ui

_ITEM = (
    "<q-item clickable v-close-popup @click=\"$parent.$emit('{event}', props.row)\">"
    "<q-item-section>{label}</q-item-section></q-item>"
)


def add_row_menu(table: ui.table, items: list[tuple[str, str]], *, column: str = "actions") -> None:
    """Give each row a ⋮ button whose menu items emit (event, row) on the table."""
    entries = "".join(_ITEM.format(event=event, label=label) for event, label in items)
    table.add_slot(
        f"body-cell-{column}",
        '<q-td :props="props" auto-width>'
        '<q-btn flat round dense icon="more_vert" :aria-label="\'Actions for \' + props.row.name">'
        f"<q-menu><q-list dense>{entries}</q-list></q-menu>"
        "</q-btn></q-td>",
    )
