"""Waiting for a state with a bound, instead of counting turns of the event loop or sleeping."""

import asyncio
from collections.abc import Callable

BOUND = 5.0  # seconds: far beyond what any of these states takes, short enough to fail a stuck test quickly


async def until(state: Callable[[], bool], bound: float = BOUND) -> None:
    """Return once state() holds; fail after `bound` seconds. Other tasks run while it waits."""
    async with asyncio.timeout(bound):
        while not state():
            await asyncio.sleep(0)  # a turn for the tasks under test, not a delay: state() is what is awaited
