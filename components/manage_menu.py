"""A button opening a menu of fixed items, built in the browser; choosing one emits `choose` with its key."""

import functools
from collections.abc import Awaitable, Callable

from nicegui import ui
from nicegui.events import GenericEventArguments

from components.shared_props import shared_prop


class ManageMenu(ui.element, component="manage_menu.js"):
    """One element for the button, its menu and items (keyboard: Enter or Space opens, arrows move, Escape closes)."""

    def __init__(self, label: str, items: dict[str, str], on_choose: Callable[[str], Awaitable[None]]) -> None:
        super().__init__()
        self._props["label"] = label
        shared_prop(self, "items", _items(tuple(items.items())))  # pages offered the same items share one list
        self.on("choose", lambda event: self._chosen(event, items, on_choose))

    @staticmethod
    async def _chosen(
        event: GenericEventArguments, items: dict[str, str], on_choose: Callable[[str], Awaitable[None]]
    ) -> None:
        if str(event.args) in items:  # only what was offered: the browser may send anything
            await on_choose(str(event.args))


@functools.cache
def _items(items: tuple[tuple[str, str], ...]) -> list[list[str]]:
    return [[key, text] for key, text in items]
