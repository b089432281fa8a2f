"""A per-row dropdown menu inside a ui.table, emitting one table event per item."""

from dataclasses import dataclass

from nicegui import ui

# ARIA menu keys for a Quasar menu (a Vue template handler: only $event, no window or document). Quasar opens
# the menu with Enter or Space and focuses the menu itself, closes it with Escape, and lets Tab walk the items;
# these add ArrowDown and ArrowUp (wrapping) so the items can also be reached as in any menu.
_ITEMS = "Array.from($event.currentTarget.querySelectorAll('[role=menuitem]'))"
MENU_KEYS = (
    f'@keydown.down.prevent="(i => i[(i.indexOf($event.target) + 1) % i.length].focus())({_ITEMS})" '
    f'@keydown.up.prevent="(i => i[(Math.max(i.indexOf($event.target), 0) + i.length - 1) % i.length].focus())'
    f'({_ITEMS})"'
)


@dataclass(frozen=True)
class MenuItem:
    event: str
    label: str
    show_if: str = "true"  # a JavaScript condition on `props.row`, e.g. "!props.row.archived"


def add_row_menu(table: ui.table, items: list[MenuItem], *, column: str = "actions", name_field: str = "name") -> None:
    """Give each row a ⋮ button whose menu items emit (event, row) on the table; mouse or keyboard."""
    entries = "".join(
        f'<q-item v-if="{item.show_if}" clickable v-close-popup role="menuitem" '
        f"@click=\"$parent.$emit('{item.event}', props.row)\">"
        f"<q-item-section>{item.label}</q-item-section></q-item>"
        for item in items
    )
    table.add_slot(
        f"body-cell-{column}",
        '<q-td :props="props" auto-width>'
        f'<q-btn flat round dense icon="more_vert" aria-haspopup="menu" '
        f":aria-label=\"'Actions for ' + props.row.{name_field}\">"
        f'<q-menu {MENU_KEYS}><q-list dense role="none">{entries}</q-list></q-menu>'
        "</q-btn></q-td>",
    )
