"""The outbox worker: claims due emails, sends them over reused SMTP connections and records each outcome."""

import asyncio
import logging
import os
import secrets
import socket
from contextlib import suppress
from datetime import datetime, timedelta

import aiosmtplib

from services.mail import claims as mail_claims
from services.mail import records as mail_records
from services.mail import templates as mail_templates
from services.mail.claims import Claimed
from services.mail.drain import POLL_SECONDS, Batch, Drain
from services.mail.records import Job
from services.mail.smtp_pool import DEFAULT_TIMEOUT, SmtpPool, Throttle, classify, describe
from services.platform import events
from services.platform.clock import now
from services.platform.settings import Settings

log = logging.getLogger(__name__)

SMTP_TIMEOUT = DEFAULT_TIMEOUT
IDLE_CLOSE_SECONDS = 30.0
STOP_GRACE_SECONDS = 10.0
CONNECTIONS = 8  # as the delivery benchmark's baseline: reused connections in parallel give 2-4x one
# The most one claim takes. Rendering and loading 400 rows holds the event loop about 30 ms; against 200, each batch's
# statements (claim, look-ups, record) are shared by twice the messages: PostgreSQL delivery 0.66 -> 0.70x of bare
# sends (docs/PERFORMANCE.md, issue 17 goal 4).
BATCH_SIZE = 400
FIRST_BATCH = 50
# Batches are sized to about this much sending at the rate the relay last took: few, cheap batches at full speed,
# and on a slow relay the delivered state still reaches the lists soon after the emails leave.
BATCH_SECONDS = 0.5
# Accepted messages are recorded as sent this soon after the relay took them, not at the end of their batch: a worker
# killed mid-batch leaves at most this much sending unrecorded, to be sent again (with the same Message-ID).
MARK_SECONDS = 0.025


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
        return await Drain(self, more=more).run(first)

    async def _take(self) -> Batch | None:
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
        return Batch(jobs, len(rows) >= size, claimed, renewing)

    async def _complete(self, batch: Batch) -> int:
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

    async def _finish(self, batch: Batch) -> int:
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
