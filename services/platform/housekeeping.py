"""Housekeeping, run by one process at a time: end grants at their end, queue invitation reminders when due,
announce invitations that expire, purge finished ones.

On PostgreSQL the process holding an advisory lock (on a connection of its own) is the one that runs it; when
that process dies its session ends, the lock is free, and another process takes over at its next try. On
SQLite there is only one process, which simply runs it. Audit events are never purged.
"""

import asyncio
import logging
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import Invitation, InvitationState, OutboxMessage, OutboxState
from services.access import grants, sessions
from services.access.service import PLATFORM_SCOPE, Scope, ScopeLevel
from services.audit import chain
from services.audit import service as audit
from services.invitations import reminders
from services.organisations import dormancy, end_warnings
from services.platform import events, pg, sql
from services.platform.clock import now
from services.reviews import schedule as review_schedule
from services.webhooks import outbox as webhooks

log = logging.getLogger(__name__)

APPLICATION_NAME = "gatehouse-housekeeping"
PURGE_EVERY = timedelta(minutes=15)
NOTICES_EVERY = timedelta(minutes=1)  # warnings count in days: a minute late is on time
PURGE_CHUNK = 500
MIN_PAUSE = 0.5
EXPIRY_MARGIN = 0.05  # wake just after an expiry, never just before it
LOCK_TIMEOUT = 5.0
# Changes that never give a grant an earlier end or a new one (invitations alone, log-outs): no need to look again.
MOVES_NO_END = sessions.KEEPS_ACTORS | {sessions.SESSION_ENDED}


@dataclass(frozen=True)
class PurgeReport:
    invitations: int = 0
    messages: int = 0


async def announce_expired(*, since: datetime, until: datetime) -> set[int | None]:
    """Publish "expired" to every organisation (None: platform) whose pending invitations expired in (since, until]."""
    crossed = Invitation.filter(state=InvitationState.PENDING, expires_at__gt=since, expires_at__lte=until)
    found: list[Any] = list(await crossed.distinct().values_list("organisation_id", flat=True))
    organisations: set[int | None] = {None if value is None else int(value) for value in found}
    await webhooks.record_expired(since=since, until=until)
    for organisation_id in organisations:
        await events.publish(organisation_id=organisation_id, kind="expired")
    return organisations


async def next_expiry(*, after: datetime) -> datetime | None:
    """When the next pending invitation expires, if any does."""
    upcoming = Invitation.filter(state=InvitationState.PENDING, expires_at__gt=after).order_by("expires_at")
    row = await upcoming.first().values("expires_at")
    return row["expires_at"] if row else None


async def purge(*, retention_days: int) -> PurgeReport:
    """Delete invitations finished (accepted, deleted, expired) longer ago than the retention, and their emails."""
    cutoff = now() - timedelta(days=retention_days)
    finished = (
        Q(state=InvitationState.ACCEPTED, accepted_at__lt=cutoff)
        | Q(state=InvitationState.DELETED, deleted_at__lt=cutoff)
        | Q(state=InvitationState.PENDING, expires_at__lt=cutoff)
    )
    by_organisation: dict[int | None, int] = {}
    messages = 0
    while True:
        async with in_transaction() as connection:
            # Locked rows that still qualify: a resend racing with the purge either wins first or finds nothing. A
            # model query: Tortoise drops FOR UPDATE from a values_list() query (services/access/grants.py found it).
            locked = Invitation.filter(finished).using_db(connection).select_for_update().order_by("id")
            found = await locked.limit(PURGE_CHUNK).only("id", "organisation_id")
            if not found:
                break
            rows = [(invitation.id, invitation.organisation_id) for invitation in found]
            ids = [row[0] for row in rows]
            messages += await OutboxMessage.filter(invitation_id__in=ids).using_db(connection).delete()
            await Invitation.filter(id__in=ids).using_db(connection).delete()
        for _, organisation_id in rows:
            by_organisation[organisation_id] = by_organisation.get(organisation_id, 0) + 1
    finished_mail = OutboxMessage.filter(state__in=(OutboxState.SENT, OutboxState.FAILED), created_at__lt=cutoff)
    while old := await finished_mail.limit(PURGE_CHUNK).values_list("id", flat=True):
        messages += await OutboxMessage.filter(id__in=old).delete()
    for organisation_id, count in by_organisation.items():
        scope = PLATFORM_SCOPE if organisation_id is None else Scope(ScopeLevel.ORGANISATION, organisation_id)
        detail = {"invitations": count, "retention_days": retention_days}
        await audit.record(actor=None, action="purge", scope=scope, target="finished invitations", detail=detail)
        await events.publish(organisation_id=organisation_id, kind="purged")
    total = sum(by_organisation.values())
    if messages:
        detail = {"invitations": total, "messages": messages, "retention_days": retention_days}
        await audit.record(actor=None, action="purge", scope=PLATFORM_SCOPE, target="outbox", detail=detail)
    return PurgeReport(invitations=total, messages=messages)


class Housekeeper:
    """The background loop: take the lead (or keep it), announce expiries, purge now and then, sleep."""

    def __init__(self, *, database_url: str, retention_days: int, interval_seconds: float) -> None:
        self.database_url = database_url
        self.retention_days = retention_days
        self.interval = interval_seconds
        self.leader = False
        self.last_run_at: datetime | None = None
        self._since = now()
        self._last_purge: datetime | None = None
        self._last_notices: datetime | None = None
        self._sealed = (0, chain.GENESIS)  # the chain's head after this process's last seal
        self._connection: asyncpg.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._unsubscribe: Callable[[], None] | None = None

    async def start(self) -> None:
        """Start the loop in the background; it also looks again after any change that may move a grant's end."""
        self._stop.clear()
        self._unsubscribe = events.subscribe(organisation_id=events.PLATFORM_TOPIC, handler=self.heard)
        self._task = asyncio.create_task(self._run(), name="gatehouse housekeeping")

    async def stop(self) -> None:
        """Stop the loop and give up the lead."""
        self._stop.set()
        self._wake.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
        await self._drop_connection()

    async def run_once(self) -> None:
        """One pass: end the grants whose end has come, queue the invitation reminders due, announce what expired
        since the last pass; warn of ends and dormant access, and run the access reviews' deadlines, reminders and
        schedule, now and then; seal the audit events written since; purge when due."""
        until = now()
        await grants.end_due()
        await reminders.queue_due()
        await announce_expired(since=self._since, until=until)
        self._since = until
        if self._last_notices is None or until - self._last_notices >= NOTICES_EVERY:
            await end_warnings.warn_due(at=until)
            await dormancy.end_dormant_access(at=until)
            await review_schedule.run_due(at=until)
            self._last_notices = until
        await self._seal()
        if self._last_purge is None or until - self._last_purge >= PURGE_EVERY:
            report = await purge(retention_days=self.retention_days)
            self._last_purge = until
            if report.invitations or report.messages:
                log.info("housekeeping purged %s invitations and %s emails", report.invitations, report.messages)
        self.last_run_at = until

    async def _seal(self) -> None:
        """Seal what waits, unless the head this process left is gone (a cleared seal): then refuse, and say so."""
        if not await chain.still_holds(self._sealed):
            log.error(
                "the audit chain no longer holds the head this process sealed (place %s): not sealing; check it with "
                "python -m services.audit.verify",
                self._sealed[0],
            )
            return
        await chain.seal()
        self._sealed = await chain.head()

    async def lead(self) -> bool:
        """True when this process runs housekeeping now (takes the lead when nobody holds it)."""
        if not sql.is_postgres(self.database_url):
            self.leader = True
            return True
        try:
            if self._connection is None or self._connection.is_closed():
                await self._drop_connection()
                self._connection = await pg.connect(self.database_url, application_name=APPLICATION_NAME)
                self._connection.add_termination_listener(self._session_ended)
            if self.leader:
                await self._connection.fetchval("SELECT 1", timeout=LOCK_TIMEOUT)
                return True
            lock = "SELECT pg_try_advisory_lock($1)"
            self.leader = bool(await self._connection.fetchval(lock, pg.HOUSEKEEPING_LOCK, timeout=LOCK_TIMEOUT))
        except Exception as error:  # asyncpg raises several families when a session dies: all mean "not leader"
            log.warning("housekeeping: lost the database connection (%s); trying again later", type(error).__name__)
            await self._drop_connection()
            return False
        if self.leader:
            # What expired while nobody led is announced again (a list refreshing twice is harmless).
            self._since = min(self._since, now() - timedelta(seconds=2 * self.interval))
            log.info("housekeeping: this process now runs expiry announcements and purges")
        return self.leader

    def _session_ended(self, _connection: object) -> None:
        """The session holding the lock is gone, and the lock with it: stop leading at once."""
        if self.leader:
            log.warning("housekeeping: the session holding the lead ended; another process may take over")
        self.leader = False

    async def _run(self) -> None:
        while not self._stop.is_set():
            pause = self.interval
            try:
                if await self.lead():
                    await self.run_once()
                    pause = await self._pause()
            except Exception:  # a failed pass is retried at the next one; the loop never dies
                log.exception("housekeeping pass failed")
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), pause)
            self._wake.clear()

    def heard(self, kind: str) -> None:
        """A change in any process (a grant given, or its end brought forward) may bring the next end closer than
        the pause chosen before it: the leader looks again at once rather than up to a whole interval late."""
        if self.leader and kind not in MOVES_NO_END:
            self._wake.set()

    async def _pause(self) -> float:
        moments = [
            await next_expiry(after=now()),
            await grants.next_end(after=now()),
            await reminders.next_due(after=now()),
        ]
        upcoming = min((moment for moment in moments if moment is not None), default=None)
        if upcoming is None:
            return self.interval
        seconds = (upcoming - now()).total_seconds() + EXPIRY_MARGIN
        return max(MIN_PAUSE, min(self.interval, seconds))

    async def _drop_connection(self) -> None:
        connection, self._connection = self._connection, None
        self.leader = False
        if connection is not None and not connection.is_closed():
            with suppress(Exception):
                await asyncio.wait_for(connection.close(), LOCK_TIMEOUT)
            connection.terminate()
