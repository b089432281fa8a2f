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

# The same keys for a ui.menu built in Python (a browser-side handler: the arrows never reach the server).
MENU_KEYS_JS = """(e) => {
  const step = {ArrowDown: 1, ArrowUp: -1}[e.key];
  const items = Array.from(e.currentTarget.querySelectorAll('[role=menuitem]'));
  if (!step || !items.length) return;
  e.preventDefault();
  const at = Math.max(items.indexOf(e.target), step > 0 ? -1 : 0);
  items[(at + step + items.length) % items.length].focus();
}"""


def keyboard_menu(menu: ui.menu) -> ui.menu:
    """Let ArrowDown and ArrowUp move between the menu's items (give each item role="menuitem")."""
    return menu.on("keydown", js_handler=MENU_KEYS_JS)


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
