"""A tamper-evident audit trail: every event is sealed into one hash chain, and the chain can be verified.

Events are written as they happen, by any process, inside the transactions that cause them; sealing them there would
make every such transaction wait for the chain's head. So one process (the housekeeping leader) seals them a few
seconds later, in turn: each sealed event gets the next place in the chain (`seal`) and the SHA-256 of the previous
hash and the event's own canonical content. Editing an event, deleting one from the middle or re-ordering them
breaks the chain at that place, and `verify` names the first event that no longer fits (`python -m
services.audit.verify`, docs/SECURITY.md). Verifying only reads: it never seals, so clearing the seal of the newest
events after editing them leaves them unsealed and said so (with the oldest one's time), never sealed with the edit;
and the housekeeping process that sealed before refuses to seal again while the head it left is gone (still_holds).
Removing the newest events leaves a shorter chain that still verifies: the head hash (printed by the command) can be
written down elsewhere to catch that too.
"""

import asyncio
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import AuditEvent
from services.platform import sql

GENESIS = "0" * 64
SEAL_BATCH = 1000
VERIFY_BATCH = 5000
BREATH = 0.01  # as services/invitations/pacing.py PAUSE_SECONDS
_FIELDS = ("id", "at", "actor_id", "actor_email", "action", "outcome", "organisation_id", "deployment_id", "target")


@dataclass(frozen=True)
class Verdict:
    """The chain's state: how many events fit, the head hash, and the first that does not fit (if any)."""

    checked: int
    head: str
    broken_at: int | None = None  # the id of the first event that does not fit
    reason: str = ""
    unsealed: int = 0
    oldest_unsealed: datetime | None = None  # when the oldest event waiting for its seal was written

    @property
    def intact(self) -> bool:
        return self.broken_at is None


def digest(previous: str, event: AuditEvent) -> str:
    """The event's hash: SHA-256 over the previous hash and the event's content in one canonical form."""
    content = [getattr(event, name) for name in _FIELDS]
    content[1] = event.at.astimezone(UTC).isoformat(timespec="microseconds")
    content.append(event.detail)
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{previous}\n{canonical}".encode()).hexdigest()


async def seal(*, batch: int = SEAL_BATCH) -> int:
    """Seal every event written since the last seal, in turn; returns how many. Run by one process at a time (a
    second would only fail on the unique place and leave the rows to the next pass)."""
    sealed = 0
    while True:
        try:
            count = await _seal_batch(batch)
        except IntegrityError:  # another sealer took these places first: the rows wait for the next pass
            return sealed
        if not count:
            return sealed
        sealed += count
        await asyncio.sleep(BREATH)  # on SQLite the pages' queries that waited for this batch go first


async def _seal_batch(batch: int) -> int:
    async with in_transaction() as connection:
        place, previous = await _head(connection)
        found = AuditEvent.filter(seal__isnull=True).using_db(connection).select_for_update()
        events = await found.order_by("id").limit(batch)
        values = []
        for event in events:
            place += 1
            previous = digest(previous, event)
            values.append([place, previous, event.id])
        if values:
            update = sql.numbered(connection, "UPDATE audit_event SET seal = ?, hash = ? WHERE id = ?")
            await connection.execute_many(update, values)
    return len(values)


async def verify(*, batch: int = VERIFY_BATCH) -> Verdict:
    """Walk the chain from its first place: each event's place follows the last, and its hash is recomputed. Reads
    only: what waits for its seal is counted, never sealed here."""
    checked, place, previous = 0, 0, GENESIS
    while True:
        events = await AuditEvent.filter(seal__gt=place).order_by("seal").limit(batch)
        if not events:
            break
        for event in events:
            if event.seal != place + 1:
                return Verdict(checked, previous, event.id, f"events missing before it (place {place + 1})")
            if digest(previous, event) != event.hash:
                return Verdict(checked, previous, event.id, "its content or its hash was changed")
            checked, place, previous = checked + 1, place + 1, str(event.hash)
    waiting = AuditEvent.filter(seal__isnull=True)
    unsealed = await waiting.count()
    oldest = await waiting.order_by("at").first() if unsealed else None
    return Verdict(checked, previous, unsealed=unsealed, oldest_unsealed=oldest.at if oldest else None)


async def head() -> tuple[int, str]:
    """The chain's head: its last place and that event's hash ((0, GENESIS) before the first seal)."""
    return await _head(None)


async def still_holds(mark: tuple[int, str]) -> bool:
    """Does the chain still hold, at its place and with its hash, the head a sealer saw after its last pass? Not when
    someone cleared the seal of the newest events (or changed their hash): a sealer then refuses to seal again."""
    place, hashed = mark
    return place == 0 or await AuditEvent.filter(seal=place, hash=hashed).exists()


async def _head(connection: Any) -> tuple[int, str]:
    last = await AuditEvent.filter(seal__isnull=False).using_db(connection).order_by("-seal").first()
    return (int(last.seal or 0), str(last.hash)) if last else (0, GENESIS)
