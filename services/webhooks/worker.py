"""The webhook worker: claims due deliveries with a lease, POSTs each signed body, records the outcome.

A claim is one conditional update (queued and due, or claimed by a worker whose lease ran out), and every outcome is
written only where this worker still holds the claim: two workers never deliver one event twice unless one of them
died (or was held up beyond its lease) after the receiver had it.
"""

import asyncio
import logging
import os
import secrets
import socket
from contextlib import suppress
from datetime import datetime, timedelta

import httpx
from tortoise.expressions import Q

from models import OutboxState, WebhookDelivery
from services.platform import events
from services.platform.clock import now
from services.webhooks import endpoints, signing
from services.webhooks.endpoints import LIVE_KIND

log = logging.getLogger(__name__)

# Standard Webhooks' suggested schedule after the first attempt; after the last, the delivery has failed.
BACKOFF = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_SECONDS = 10.0
LEASE_SECONDS = 60  # well beyond the timeout: a live worker never loses a claim while it posts
BATCH_SIZE = 20
POLL_SECONDS = 1.0
ERROR_LENGTH = 300
GONE = 410
GONE_ERROR = "HTTP 410: the receiver asked for no more events; the endpoint is switched off"


class WebhookWorker:
    """Delivers the webhook outbox: claim a batch, POST its deliveries side by side, record each outcome."""

    def __init__(
        self,
        *,
        worker_id: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
        lease_seconds: int = LEASE_SECONDS,
        batch_size: int = BATCH_SIZE,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.worker_id = (worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}")[:64]
        self.lease = timedelta(seconds=lease_seconds)
        self.batch_size = batch_size
        self._client = httpx.AsyncClient(timeout=timeout, follow_redirects=False, transport=transport)
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    @property
    def running(self) -> bool:
        """True while the background loop is alive."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Start polling the outbox."""
        if not self.running:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name=f"webhook worker {self.worker_id}")

    async def stop(self) -> None:
        """Stop after the batch in hand and close the HTTP connections."""
        self._stopping.set()
        task, self._task = self._task, None
        if task is not None:
            with suppress(asyncio.CancelledError):
                await task
        await self._client.aclose()

    async def run_until_empty(self) -> int:
        """Deliver until nothing is due; returns how many deliveries were attempted (tests and scripts)."""
        total = 0
        while handled := await self.drain_once():
            total += handled
        return total

    async def drain_once(self) -> int:
        """Claim one batch of due deliveries, POST them and record each outcome; returns how many."""
        claimed = await claim(worker_id=self.worker_id, limit=self.batch_size, at=now(), lease=self.lease)
        await asyncio.gather(*(self._deliver(row) for row in claimed))
        for organisation_id in {row.endpoint.organisation_id for row in claimed}:
            await events.publish(organisation_id=organisation_id, kind=LIVE_KIND)
        return len(claimed)

    async def _deliver(self, row: WebhookDelivery) -> None:
        endpoint = row.endpoint
        if endpoint.disabled_at is not None:
            await self._record(row, status=None, error="endpoint disabled", final=True, attempted=False)
            return
        timestamp = int(now().timestamp())
        headers = signing.headers(secret=endpoint.secret, msg_id=row.event_id, timestamp=timestamp, body=row.body)
        try:
            response = await self._client.post(endpoint.url, content=row.body.encode(), headers=headers)
        except httpx.TimeoutException:
            await self._record(row, status=None, error="timed out")
        except httpx.HTTPError as error:
            await self._record(row, status=None, error=f"could not deliver: {type(error).__name__}: {error}")
        else:
            if response.status_code == GONE:  # the receiver asks for no more: no retry, the endpoint is switched off
                await self._record(row, status=GONE, error=GONE_ERROR, final=True)
                await endpoints.gone(endpoint_id=endpoint.id)
                return
            ok = 200 <= response.status_code < 300
            await self._record(row, status=response.status_code, error="" if ok else f"HTTP {response.status_code}")

    async def _record(
        self, row: WebhookDelivery, *, status: int | None, error: str, final: bool = False, attempted: bool = True
    ) -> None:
        """Write the outcome where this worker still holds the claim."""
        attempts = row.attempts + (1 if attempted else 0)
        changes = outcome(attempts=attempts, error=error, at=now(), final=final)
        mine = WebhookDelivery.filter(id=row.id, state=OutboxState.SENDING, claimed_by=self.worker_id)
        if not await mine.update(**changes, last_status=status, claimed_by=None, claimed_until=None):
            log.warning("webhook worker %s: lost the claim on delivery %s", self.worker_id, row.id)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = await self.drain_once()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("webhook worker %s: a batch failed; trying again", self.worker_id)
                handled = 0
            if handled < self.batch_size:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), POLL_SECONDS)


async def claim(*, worker_id: str, limit: int, at: datetime, lease: timedelta) -> list[WebhookDelivery]:
    """Take up to limit due deliveries for this worker, oldest first (a conditional update: one winner per row)."""
    due = Q(state=OutboxState.QUEUED, next_attempt_at__lte=at) | Q(state=OutboxState.SENDING, claimed_until__lt=at)
    ids = await WebhookDelivery.filter(due).order_by("next_attempt_at", "id").limit(limit).values_list("id", flat=True)
    if not ids:
        return []
    until = at + lease
    await WebhookDelivery.filter(due, id__in=ids).update(
        state=OutboxState.SENDING, claimed_by=worker_id, claimed_until=until
    )
    mine = WebhookDelivery.filter(id__in=ids, state=OutboxState.SENDING, claimed_by=worker_id, claimed_until=until)
    return await mine.select_related("endpoint").order_by("id")


def outcome(*, attempts: int, error: str, at: datetime, final: bool) -> dict[str, object]:
    """A delivery's changes after an attempt: sent, back to the queue after its backoff, or failed for good."""
    if not error:
        return {"state": OutboxState.SENT, "attempts": attempts, "sent_at": at, "last_error": ""}
    if final or attempts >= MAX_ATTEMPTS:
        gave_up = error if final else f"gave up after {attempts} attempts: {error}"
        return {"state": OutboxState.FAILED, "attempts": attempts, "last_error": gave_up[:ERROR_LENGTH]}
    wait = BACKOFF[min(attempts, len(BACKOFF)) - 1]
    return {
        "state": OutboxState.QUEUED,
        "attempts": attempts,
        "last_error": error[:ERROR_LENGTH],
        "next_attempt_at": at + wait,
    }
