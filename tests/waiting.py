"""Waiting for a state with a bound, instead of counting turns of the event loop or sleeping."""

import asyncio
from collections.abc import Callable

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
