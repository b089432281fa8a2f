"""One drain of the outbox across the worker's connections: a sender per connection slot pulls the next job of any
batch in hand, and an idle one claims more on a wake-up or poll, so one stalled connection holds up only its own
message (docs/SECURITY.md, Faults)."""

import asyncio
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from services.mail.records import Job

if TYPE_CHECKING:
    from services.mail.worker import MailWorker

POLL_SECONDS = 1.0


@dataclass
class Batch:
    """One claimed batch on its way: its jobs, its claim's renewal, and when it may no longer start a job."""

    jobs: list[Job]
    full: bool  # as many rows as a batch holds: more are probably due
    claimed: asyncio.Event  # set when the claim no longer needs renewing
    renewing: "asyncio.Task[None]"
    waiting: int = 0  # jobs of this batch not yet sent, failed or left
    started: float = 0.0
    deadline: float = 0.0  # no job of this batch starts after it (half the lease): it goes back to the queue
    sent: asyncio.Event = field(default_factory=asyncio.Event)  # every job settled: record the batch


class Drain:
    """One drain: a sender per connection slot pulls the next job of any batch in hand and claims more when idle."""

    def __init__(self, worker: "MailWorker", *, more: bool) -> None:
        self.worker, self.more = worker, more
        self.loop = asyncio.get_running_loop()
        self.queue: deque[tuple[Batch, Job]] = deque()
        self.finishing: list[asyncio.Task[int]] = []
        self.changed = asyncio.Event()
        self.busy = 0  # jobs on a connection right now
        self.alive = worker._pool.size  # senders that still have (or may open) a connection
        self.claiming = False
        self.last_full = False
        self.last_claim_at = self.loop.time()
        self.broken = False

    async def run(self, first: Batch) -> int:
        self.worker._connect_error = ""
        self._add(first)
        marked = asyncio.Event()
        marking = asyncio.create_task(self.worker._mark_accepted(marked))
        try:
            try:
                await asyncio.gather(*(self._sender(slot) for slot in range(self.worker._pool.size)))
            finally:
                self._leave_the_rest()
                marked.set()
                await marking
        finally:
            results = await asyncio.gather(*self.finishing, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        return sum(result for result in results if isinstance(result, int))

    def _add(self, batch: Batch) -> None:
        todo = [job for job in batch.jobs if not job.outcome]
        batch.waiting, batch.started = len(todo), self.loop.time()
        batch.deadline = batch.started + self.worker.lease.total_seconds() / 2
        self.queue.extend((batch, job) for job in todo)
        self.last_full = batch.full
        self.finishing.append(asyncio.create_task(self.worker._complete(batch)))
        if not todo:
            batch.sent.set()
        self.changed.set()

    @staticmethod
    def _settle(batch: Batch) -> None:
        batch.waiting -= 1
        if batch.waiting <= 0:
            batch.sent.set()

    def _leave_the_rest(self) -> None:
        # Not started: untouched (back to the queue when recorded), or charged when no connection could be opened.
        charge = self.alive == 0 and bool(self.worker._connect_error)
        while self.queue:
            batch, job = self.queue.popleft()
            if charge and self.loop.time() < batch.deadline:
                job.outcome, job.error, job.attempted = "retry", self.worker._connect_error, True
            self._settle(batch)

    async def _sender(self, slot: int) -> None:
        try:
            while (item := await self._next_job()) is not None:
                batch, job = item
                self.busy += 1
                try:
                    delivered = await self.worker._deliver(slot, job)
                except BaseException:  # cancelled (stopping) or broken: the job is released when its batch records
                    self._settle(batch)
                    raise
                finally:
                    self.busy -= 1
                    self.changed.set()
                if delivered:
                    self._settle(batch)
                    continue
                # No connection on this slot: leave the job to a slot whose connection works, else charge it now.
                self.alive -= 1
                if any(self.worker._pool.reusable(other) for other in range(self.worker._pool.size) if other != slot):
                    self.queue.appendleft(item)
                else:
                    job.outcome, job.error, job.attempted = "retry", self.worker._connect_error, True
                    self._settle(batch)
                return
        except BaseException:
            self.broken = True  # the other senders stop after their current job; the rest goes back to the queue
            self.changed.set()
            raise

    async def _next_job(self) -> tuple[Batch, Job] | None:
        while True:
            if self.broken or self.worker._stopping:
                return None
            while self.queue:
                batch, job = self.queue.popleft()
                if self.loop.time() < batch.deadline:
                    return batch, job
                self._settle(batch)  # past half its lease: left untouched, back to the queue when recorded
            if not self.more:
                return None
            woken = self.worker._wake_event.is_set()
            polled = self.busy and self.loop.time() - self.last_claim_at >= POLL_SECONDS
            if not self.claiming and (self.last_full or woken or polled):
                await self._claim()
                continue
            if not self.claiming and not self.busy:
                return None  # nothing in hand, nothing more due: the worker's loop polls from here
            await self._pause()

    async def _claim(self) -> None:
        self.claiming = True
        self.worker._wake_event.clear()
        try:
            batch = await self.worker._take()
        finally:
            self.claiming, self.last_claim_at = False, self.loop.time()
            self.changed.set()
        if batch is None:
            self.last_full = False
        else:
            self._add(batch)

    async def _pause(self) -> None:
        """Until something changes: a job settled, a claim came back, a wake-up, or the next poll is due."""
        self.changed.clear()
        waits = [asyncio.create_task(self.changed.wait()), asyncio.create_task(self.worker._wake_event.wait())]
        try:
            await asyncio.wait(waits, timeout=POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
