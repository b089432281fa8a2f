"""The garbage collector's schedule in a process that holds hundreds of open pages.

A full pass of CPython's collector walks every tracked object. With 200-500 open pages that is millions of objects
and a pause of the whole event loop of 0.4-1.5 s, which alone set the p95 of live updates (docs/PERFORMANCE-lists.md,
item 4). So objects that have lived a while (the start-up's, the open pages') are frozen out of the passes' sight,
and every thaw interval the process thaws them, collects once (the cycles of pages closed meanwhile) and freezes
again: one scheduled pause instead of many random ones, and memory stays bounded.
"""

import asyncio
import gc
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

THAWS_PER_FREEZES = 10  # with freezes every 60 s: a full collection every 10 minutes


@dataclass
class Collector:
    """Freezes every freeze_seconds; every THAWS_PER_FREEZES-th time, thaws and collects first."""

    freeze_seconds: float
    clock: Callable[[], float] = time.monotonic
    _rounds: int = 0
    _task: "asyncio.Task[None] | None" = field(default=None, repr=False)

    def tick(self) -> str:
        """One round of the schedule; returns what it did ("froze" or "collected")."""
        self._rounds += 1
        if self._rounds % THAWS_PER_FREEZES:
            gc.freeze()
            return "froze"
        started = self.clock()
        gc.unfreeze()
        found = gc.collect()
        gc.freeze()
        log.info("collected %s unreachable objects in %.0f ms", found, (self.clock() - started) * 1000)
        return "collected"

    def start(self) -> None:
        """Freeze what start-up built, then keep the schedule in the background."""
        gc.freeze()
        self._task = asyncio.create_task(self._run(), name="garbage collector schedule")

    async def stop(self) -> None:
        """Stop the schedule and hand every object back to the collector."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        gc.unfreeze()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.freeze_seconds)
            self.tick()
