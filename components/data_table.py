"""A ui.table whose header cells and row menu are part of its own Vue component (components/data_table.js)."""

from nicegui import ui


class DataTable(ui.table, component="data_table.js"):
    """ui.table with keyboard-sortable header cells and, given the `row-menu` prop, a ⋮ menu in each row.

    Compiled once with the component, these cells stay the same DOM nodes when the table re-renders (every live
    update): an open menu stays open and a focused header keeps the focus. Other slots pass through as in ui.table.
    """
