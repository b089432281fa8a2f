"""A callback every so many seconds for each element on an open page that asks, run by one task for all of them.

A ui.timer per page is an element and a task of its own on every open page (about 9 KB of server memory each,
docs/PERFORMANCE.md); the pages' callbacks here share one task per period. The task takes the pages in turn, giving
the event loop a turn every few pages, as live lists do (components/live.py), and ends when no page is left.
"""

import asyncio
import itertools
from collections.abc import Awaitable, Callable

from nicegui import Client, background_tasks, core, ui

Callback = Callable[[], Awaitable[None] | None]
PAGES_PER_TURN = 32  # then the event loop takes a turn: a change heard meanwhile is not kept waiting
_keys = itertools.count()  # not id(callback): an id is reused once its callback is let go


class _Clock:
    """The pages' callbacks of one period, and the task that runs them (one per event loop: tests each run one)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.callbacks: dict[int, tuple[ui.element, Callback]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None

    def add(self, owner: ui.element, callback: Callback) -> None:
        key = next(_keys)
        self.callbacks[key] = (owner, callback)
        owner.client.on_delete(lambda: self.callbacks.pop(key, None))  # a closed page's view is let go at once
        if self.loop is not asyncio.get_running_loop():
            self.loop = asyncio.get_running_loop()
            background_tasks.create(self._run(self.loop), name=f"clock every {self.seconds} s")

    async def _run(self, loop: asyncio.AbstractEventLoop) -> None:
        while self.callbacks and self.loop is loop:
            await asyncio.sleep(self.seconds)
            for done, (key, (owner, callback)) in enumerate(list(self.callbacks.items()), 1):
                if owner.is_deleted or owner.client.id not in Client.instances:
                    self.callbacks.pop(key, None)  # removed from its page (another view shown), or the page is gone
                else:
                    await _call(owner.client, callback)
                if not done % PAGES_PER_TURN:
                    await asyncio.sleep(0)
        if self.loop is loop:
            self.loop = None  # the next page to ask starts the clock again


async def _call(client: Client, callback: Callback) -> None:
    try:
        with client:
            result = callback()
            if result is not None:
                await result
    except Exception as problem:  # one page's failure is logged; the other pages still get their call
        core.app.handle_exception(problem)


_clocks: dict[float, _Clock] = {}


def every(seconds: float, callback: Callback, *, owner: ui.element) -> None:
    """Call callback every `seconds` in the owner's page, from the first period on, while the owner is on the page
    (as a ui.timer inside it would be)."""
    clock = _clocks.setdefault(seconds, _Clock(seconds))
    clock.add(owner, callback)
