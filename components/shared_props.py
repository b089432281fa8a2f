"""Props of plain data that every page showing the same element shares, instead of a copy held by each page."""

from typing import Any

from nicegui import ui


def shared_prop(element: ui.element, name: str, value: Any) -> None:
    """Give the element a prop of plain data that every page showing the same element shares and nobody changes."""
    # As a NiceGUI prop (observable), each page would hold its own deep copy: a dict and its bookkeeping per value.
    dict.__setitem__(element.props, name, value)
    element.update()
