"""The outbox worker: claims due emails, sends them over reused SMTP connections and records each outcome."""

import asyncio
import logging
import os
import secrets
import socket
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import aiosmtplib

from services.mail import claims as mail_claims
from services.mail import records as mail_records
from services.mail import templates as mail_templates
from services.mail.claims import Claimed
from services.mail.records import Job
from services.mail.smtp_pool import DEFAULT_TIMEOUT, SmtpPool, Throttle, classify, describe
from services.platform import events
from services.platform.clock import now
from services.platform.settings import Settings

log = logging.getLogger(__name__)

POLL_SECONDS = 1.0
SMTP_TIMEOUT = DEFAULT_TIMEOUT
IDLE_CLOSE_SECONDS = 30.0
STOP_GRACE_SECONDS = 10.0
CONNECTIONS = 8  # as the delivery benchmark's baseline: reused connections in parallel give 2-4x one
BATCH_SIZE = 200  # the most one claim takes; rendering and loading 200 rows holds the event loop about 15 ms
FIRST_BATCH = 50
# Batches are sized to about this much sending at the rate the relay last took: few, cheap batches at full speed,
# and on a slow relay the delivered state still reaches the lists soon after the emails leave.
BATCH_SECONDS = 0.5
# Accepted messages are recorded as sent this soon after the relay took them, not at the end of their batch: a worker
# killed mid-batch leaves at most this much sending unrecorded, to be sent again (with the same Message-ID).
MARK_SECONDS = 0.025


@dataclass
class _Batch:
    jobs: list[Job]
    full: bool  # as many rows as a batch holds: more are probably due
    claimed: asyncio.Event  # set when the claim no longer needs renewing
    renewing: "asyncio.Task[None]"
    waiting: int = 0  # jobs of this batch not yet sent, failed or left
    started: float = 0.0
    deadline: float = 0.0  # no job of this batch starts after it (half the lease): it goes back to the queue
    sent: asyncio.Event = field(default_factory=asyncio.Event)  # every job settled: record the batch


class MailWorker:
    """Delivers the outbox: claim a batch, send it over several reused connections, record, repeat."""

    def __init__(
        self,
        settings: Settings,
        *,
        worker_id: str | None = None,
        connections: int = CONNECTIONS,
        batch_size: int = BATCH_SIZE,
        lease_seconds: int = 60,
        rate_per_second: float | None = None,
        smtp_timeout: float = SMTP_TIMEOUT,
    ) -> None:
        self.settings = settings
        self.worker_id = (worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}")[:64]
        self.rate_per_second = rate_per_second or settings.mail_rate
        if self.rate_per_second:  # a throttled batch still leaves within half its lease (see _send_all's deadline)
            batch_size = min(batch_size, int(self.rate_per_second * lease_seconds / 4))
        self.batch_size = max(1, batch_size)
        self._next_batch = min(self.batch_size, FIRST_BATCH)
        self.lease = timedelta(seconds=lease_seconds)
        self._pool = SmtpPool(settings, size=connections, timeout=smtp_timeout)
        self._wake_event = asyncio.Event()
        self._drain_lock = asyncio.Lock()
        self._record_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._throttle = Throttle(self.rate_per_second)
        self._last_used = 0.0
        self._connect_error = ""
        self._accepted: list[Job] = []
        self.last_drain_at: datetime | None = None  # when the loop last claimed (or found nothing) without error

    @property
    def running(self) -> bool:
        """True while the background loop is alive (for the health check)."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start the background loop (polls every second; wake() makes it look at once)."""
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name=f"mail worker {self.worker_id}")

    async def stop(self) -> None:
        """Let the batch in hand finish (briefly), stop the loop and close the SMTP connections."""
        self._stopping = True
        self._wake_event.set()
        task, self._task = self._task, None
        if task is not None:
            _, pending = await asyncio.wait({task}, timeout=STOP_GRACE_SECONDS)
            if pending:
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
        await self._pool.close_all()

    def wake(self) -> None:
        """Look at the outbox now instead of at the next poll."""
        self._wake_event.set()

    async def run_until_empty(self) -> int:
        """Drain until nothing is due; returns how many messages were handled (tests and scripts)."""
        total = 0
        while handled := await self.drain():
            total += handled
        return total

    async def drain_once(self) -> int:
        """Claim one batch of due messages, send them and record each outcome; returns how many were handled."""
        async with self._drain_lock:
            return await self._drain(more=False)

    async def drain(self) -> int:
        """Send until nothing more is due and no connection is busy; returns how many messages were handled.

        Every connection takes the next message of whichever batch is in hand, so a connection the relay holds up
        holds up only its own message: the others go on with the rest of that batch and with batches claimed
        meanwhile (mail committed while a message is stalled is claimed at once on a wake-up, or at the next poll).
        Each batch's claim is renewed until its last message settles; then the batch is recorded.
        """
        async with self._drain_lock:
            return await self._drain(more=True)

    async def _drain(self, *, more: bool) -> int:
        first = await self._take()
        if first is None:
            return 0
        return await _Drain(self, more=more).run(first)

    async def _take(self) -> _Batch | None:
        """Claim a batch and render its messages; the claim is renewed until the batch is sent."""
        size = self._next_batch
        rows = await self._claim(size)
        if not rows:
            return None
        claimed = asyncio.Event()
        renewing = asyncio.create_task(
            mail_claims.keep_renewed([row.id for row in rows], worker_id=self.worker_id, lease=self.lease, done=claimed)
        )
        try:
            jobs = await mail_records.jobs_for(rows, settings=self.settings)
        except BaseException:
            claimed.set()
            await renewing
            raise
        return _Batch(jobs, len(rows) >= size, claimed, renewing)

    async def _complete(self, batch: _Batch) -> int:
        """Once every job of the batch settled: stop renewing its claim, adapt the batch size, record it."""
        loop = asyncio.get_running_loop()
        try:
            await batch.sent.wait()
        finally:
            batch.claimed.set()
            await batch.renewing
        if tried := sum(1 for job in batch.jobs if job.attempted):
            rate = tried / max(loop.time() - batch.started, 0.001)
            self._next_batch = max(1, min(self.batch_size, round(rate * BATCH_SECONDS)))
        async with self._record_lock:  # one recording transaction at a time
            return await self._finish(batch)

    async def _finish(self, batch: _Batch) -> int:
        await mail_records.record(batch.jobs, worker_id=self.worker_id)
        self.last_drain_at = now()  # a long backlog keeps drain() busy for minutes: every batch counts as progress
        jobs = batch.jobs
        for organisation_id in {job.row.organisation_id for job in jobs if job.outcome in ("sent", "failed")}:
            await events.publish(organisation_id=organisation_id, kind="delivery")
        return sum(1 for job in jobs if job.outcome)

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                handled = await self.drain()
                failures, self.last_drain_at = 0, now()
            except Exception:  # the loop must outlive a broken batch or a database hiccup
                failures += 1
                log.exception("mail worker %s: a batch failed; trying again", self.worker_id)
                handled = 0
            if handled >= self.batch_size:
                await asyncio.sleep(0)
                continue
            if handled == 0 and asyncio.get_running_loop().time() - self._last_used > IDLE_CLOSE_SECONDS:
                await self._pool.close_all()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake_event.wait(), POLL_SECONDS * min(2**failures, 30))
            self._wake_event.clear()

    async def _claim(self, limit: int | None = None) -> list[Claimed]:
        limit = limit or self._next_batch
        return await mail_claims.claim(worker_id=self.worker_id, limit=limit, at=now(), lease=self.lease)

    async def _deliver(self, slot: int, job: Job) -> bool:
        """Send one message on this slot's connection; False (job untouched) when no connection could be opened."""
        for second_try in (False, True):
            smtp = self._pool.reusable(slot)
            reused = smtp is not None
            try:
                smtp = smtp if smtp is not None else await self._pool.connect(slot)
            except Exception as error:  # whatever stops a connection costs the batch an attempt, never the loop
                self._connect_error = describe(error)
                log.warning("mail worker %s: no SMTP connection: %s", self.worker_id, self._connect_error)
                return False
            await self._throttle.wait()
            job.attempted = True
            try:
                options = None if job.recipient.isascii() else ["SMTPUTF8"]
                await smtp.sendmail(self._sender_address, [job.recipient], job.message, mail_options=options)
            except Exception as error:  # unknown errors count as temporary: bounded by MAX_ATTEMPTS
                outcome, broken = classify(error)
                if broken:
                    self._pool.drop(slot)
                if reused and not second_try and isinstance(error, aiosmtplib.SMTPServerDisconnected):
                    continue  # the server had closed an idle connection: once more on a fresh one
                job.outcome, job.error = outcome, describe(error)
            else:
                job.outcome = "sent"
                self._accepted.append(job)
            break
        self._last_used = asyncio.get_running_loop().time()
        return True

    async def _mark_accepted(self, sent: asyncio.Event) -> None:
        """Every MARK_SECONDS while a batch is sent, record what the relay has accepted meanwhile."""
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(sent.wait(), MARK_SECONDS)
            accepted, self._accepted = self._accepted, []
            if accepted:
                try:
                    await self._mark_sent(accepted)
                except Exception:  # the batch's own record marks them a moment later
                    log.warning("mail worker %s: could not mark sent messages yet", self.worker_id, exc_info=True)
            if sent.is_set():
                return

    @property
    def _sender_address(self) -> str:
        return mail_templates.sender_address(self.settings)

    async def _mark_sent(self, jobs: list[Job]) -> None:
        await mail_records.mark_sent(jobs, worker_id=self.worker_id)


class _Drain:
    """One drain: a sender per connection slot pulls the next job of any batch in hand and claims more when idle."""

    def __init__(self, worker: MailWorker, *, more: bool) -> None:
        self.worker, self.more = worker, more
        self.loop = asyncio.get_running_loop()
        self.queue: deque[tuple[_Batch, Job]] = deque()
        self.finishing: list[asyncio.Task[int]] = []
        self.changed = asyncio.Event()
        self.busy = 0  # jobs on a connection right now
        self.alive = worker._pool.size  # senders that still have (or may open) a connection
        self.claiming = False
        self.last_full = False
        self.last_claim_at = self.loop.time()
        self.broken = False

    async def run(self, first: _Batch) -> int:
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

    def _add(self, batch: _Batch) -> None:
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
    def _settle(batch: _Batch) -> None:
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

    async def _next_job(self) -> tuple[_Batch, Job] | None:
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
