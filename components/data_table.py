"""A ui.table whose header cells, row menu, selection checkboxes and badge cells are part of its own Vue component
(components/data_table.js)."""

import functools

from nicegui import ui

from components.shared_props import shared_prop

# A column of addresses (no spaces to wrap at): a long one breaks inside, so the table still fits its box.
ADDRESS_CELL = {"classes": "break-anywhere"}


class DataTable(ui.table, component="data_table.js"):
    """ui.table with keyboard-sortable header cells and, given the `row-menu` prop, a ⋮ menu in each row.

    Compiled once with the component, these cells stay the same DOM nodes when the table re-renders (every live
    update): an open menu stays open and a focused header or checkbox keeps the focus. Other slots pass through as
    in ui.table.
    """


def name_selection(table: DataTable, *, every: str, one: str, name_field: str) -> None:
    """Name the selection checkboxes (Quasar's have none): the header's `every`, a row's `one` + its name_field."""
    shared_prop(table, "selection-labels", _labels(every, one, name_field))


def add_badge_cell(table: DataTable, column: str, *, when: str, label: str, color: str) -> None:
    """Show a badge instead of the column's value in rows where the row field `when` is true."""
    cells = [*table.props.get("badge-cells", []), _badge(column, when, label, color)]
    shared_prop(table, "badge-cells", cells)


@functools.cache
def _labels(every: str, one: str, name_field: str) -> dict[str, str]:
    return {"every": every, "one": one, "name": name_field}


@functools.cache
def _badge(column: str, when: str, label: str, color: str) -> dict[str, str]:
    return {"slot": f"body-cell-{column}", "when": when, "label": label, "color": color}
