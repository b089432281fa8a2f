"""Waiting for a state with a bound, instead of counting turns of the event loop or sleeping."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from nicegui.testing import User

POLL = 0.001
BOUND = 5.0  # seconds: far beyond what any of these states takes, short enough to fail a stuck test quickly


async def until(state: Callable[[], bool], bound: float = BOUND, *, poll: float = POLL) -> None:
    """Return once state() holds; fail after `bound` seconds. Other tasks run while it waits. poll=0 looks after every
    turn of the event loop: for a state that lasts only a few turns (the middle of a wave of refreshes)."""
    async with asyncio.timeout(bound):
        while not state():
            # a millisecond for the tasks under test, not a delay (state() is what is awaited): a bare turn of the loop
            # spun a whole core and starved the database driver's thread of the GIL, which slowed what it awaited
            await asyncio.sleep(poll)


FIRST_LOOK = 0.001
LONGEST_LOOK = 0.016
NICEGUI_PAUSE = 0.1  # what User.should_see sleeps between its looks (should_not_see: half)


def look_often(user: User, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make user.should_see and should_not_see look every few milliseconds before NiceGUI's own check.

    NiceGUI's checks sleep a tenth of a second whenever the page is not there yet, which it rarely is the moment
    after a click whose handler awaits a service: 0.3 s of every user test was spent so. NiceGUI still gives the
    verdict, with its own message: this only waits, for as long as NiceGUI would, until the first look succeeds.
    """
    for name, want in (("should_see", True), ("should_not_see", False)):
        monkeypatch.setattr(user, name, _looking(user, getattr(user, name), want=want))


def _looking(user: User, check: Callable[..., Awaitable[None]], *, want: bool) -> Callable[..., Awaitable[None]]:
    async def look(target: Any = None, *, retries: int = 3, **filters: Any) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + retries * NICEGUI_PAUSE
        pause = FIRST_LOOK
        while _shown(user, target, filters) is not want and loop.time() < deadline:
            await asyncio.sleep(pause)
            pause = min(2 * pause, LONGEST_LOOK)  # quick at first, without a page's search every millisecond after
        await check(target, retries=retries, **filters)

    return look


def _shown(user: User, target: Any, filters: dict[str, Any]) -> bool:
    if user.notify.contains(target):  # an approximation inside user.scope(): the verdict is NiceGUI's
        return True
    try:
        user.find(target, **filters)
    except AssertionError:
        return False
    return True
