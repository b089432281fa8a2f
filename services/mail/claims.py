"""The mail worker's claims: due emails taken for one worker with a lease, in one statement."""

# ruff: noqa: S608  table and column names are constants here; every value is a bound parameter

import asyncio
import json
import logging
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections

from models import OutboxMessage, OutboxState
from services.platform import sql as sql_dialect
from services.platform.clock import now

log = logging.getLogger(__name__)

_COLUMNS = ("id", "kind", "recipient", "context", "link_seed", "invitation_id", "organisation_id", "attempts")
_DUE = (  # one query per branch: each walks the (state, next_attempt_at) index in order
    "SELECT id, next_attempt_at FROM outbox_message WHERE state = 'queued' AND next_attempt_at <= {at} "
    "ORDER BY next_attempt_at, id LIMIT {limit}{lock}",
    "SELECT id, next_attempt_at FROM outbox_message WHERE state = 'sending' AND claimed_until < {at} "
    "ORDER BY next_attempt_at, id LIMIT {limit}{lock}",
)


@dataclass(frozen=True, slots=True)
class Claimed:
    """What sending and recording read of a claimed email."""

    id: int
    kind: str
    recipient: str
    context: dict[str, Any]
    link_seed: str | None
    invitation_id: int | None
    organisation_id: int | None
    attempts: int


async def claim(*, worker_id: str, limit: int, at: datetime, lease: timedelta) -> list[Claimed]:
    """Take up to limit due emails (queued and due, or claimed by a worker whose lease ran out), oldest first."""
    connection = connections.get("default")
    sqlite = not sql_dialect.is_postgres(connection)
    mark = sql_dialect.marks(connection)
    due = " UNION ALL ".join(
        f"SELECT * FROM ({branch.format(at=mark(3), limit=mark(4), lock='' if sqlite else ' FOR UPDATE SKIP LOCKED')})"
        + ("" if sqlite else f" AS branch{number}")
        for number, branch in enumerate(_DUE)
    )
    # SQLite has one writer at a time; PostgreSQL skips rows another worker is claiming in this instant.
    sql = (
        f"UPDATE outbox_message SET state = 'sending', claimed_by = {mark(1)}, claimed_until = {mark(2)} "
        f"WHERE id IN (SELECT id FROM ({due}) AS due ORDER BY next_attempt_at, id LIMIT {mark(4)}) "
        f"RETURNING {', '.join(_COLUMNS)}"
    )
    if not sqlite:  # Tortoise's PostgreSQL client returns the rows of a query, not of an UPDATE
        sql = f"WITH claimed AS ({sql}) SELECT * FROM claimed"
    until, now = (_db_time(value, sqlite) for value in (at + lease, at))
    _, rows = await connection.execute_query(sql, [worker_id, until, now, limit])
    claimed = [_claimed(row) for row in rows]
    return sorted(claimed, key=lambda row: row.id)


async def renew(ids: list[int], *, worker_id: str, until: datetime) -> None:
    """Extend this worker's claim on these emails (those it still holds) until the given time."""
    await OutboxMessage.filter(id__in=ids, state=OutboxState.SENDING, claimed_by=worker_id).update(claimed_until=until)


async def keep_renewed(ids: list[int], *, worker_id: str, lease: timedelta, done: asyncio.Event) -> None:
    """Renew the claim while a slow server holds the batch up, so no other worker takes it over meanwhile."""
    while not done.is_set():
        with suppress(TimeoutError):
            await asyncio.wait_for(done.wait(), lease.total_seconds() / 3)
        if not done.is_set():
            try:
                await renew(ids, worker_id=worker_id, until=now() + lease)
            except Exception:  # a missed renewal only risks a takeover after the lease; keep sending
                log.exception("mail worker %s: could not renew its claim", worker_id)


def _db_time(value: datetime, sqlite: bool) -> Any:
    field = OutboxMessage._meta.fields_map["next_attempt_at"]
    return field.to_db_value(value, OutboxMessage) if sqlite else value


def _claimed(row: Any) -> Claimed:
    values = dict(zip(_COLUMNS, tuple(row), strict=True))
    context = values["context"]
    values["context"] = json.loads(context) if isinstance(context, str | bytes) else (context or {})
    return Claimed(**values)
