"""Grants that end: which grants are live (every access check reads only those), and ending grants at their end.

An ended grant stays as a row with its ended_at, the member's history; the audit log says when and why it ended.
A grant whose end has come is refused at once by every check (live()), even before housekeeping marks it ended:
housekeeping (one leader process) then marks it, audits it, tells open pages and ends the member's sessions when
nothing else remains. The end and sponsor an invitation may carry are checked in grant_terms.py.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from tortoise.transactions import in_transaction

from models import RoleAssignment, Session, StaffMember
from services.access import sessions
from services.access.liveness import is_live, live
from services.access.service import PLATFORM_SCOPE, Scope
from services.audit import service as audit
from services.platform import events
from services.platform.clock import now
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType

__all__ = ["EndReport", "end_due", "end_sessions_without_grants", "is_live", "live", "next_end"]

log = logging.getLogger(__name__)

END_BATCH = 500
GRANT_ENDED = "grant_ended"
END_REASON = "ended"  # role_assignment.end_reason of a grant whose end came
SESSIONS_ENDED = "sessions_ended"
GRANTS_CHANGED = "staff"  # the kind Remove from team publishes: staff lists refresh, remembered actors are forgotten


@dataclass(frozen=True)
class EndReport:
    ended: int = 0
    sessions_ended: int = 0


async def end_due(*, batch: int = END_BATCH) -> EndReport:
    """End every grant whose end has come: one transaction per batch marks them ended and audits each; then open
    pages are told and the sessions of members left with no live grant end."""
    ended = 0
    members: set[int] = set()
    organisations: set[int | None] = set()
    while True:
        at = now()
        async with in_transaction() as connection:
            due = RoleAssignment.filter(ended_at__isnull=True, ends_at__lte=at).using_db(connection)
            # Locked (PostgreSQL), so that a removal racing with the end is either first or finds the grant ended.
            locked = await due.select_for_update().order_by("ends_at", "id").limit(batch)
            ids = [row.id for row in locked]
            if not ids:
                break
            ending = RoleAssignment.filter(id__in=ids, ended_at__isnull=True).using_db(connection)
            await ending.filter(end_reason="").update(end_reason=END_REASON)  # a dormant or review end says so
            await ending.update(ended_at=at)
            rows = await RoleAssignment.filter(id__in=ids).using_db(connection).select_related("role", "member")
            await webhooks.record_each(
                connection=connection,
                event_type=EventType.MEMBER_ACCESS_ENDED,
                data=[(row.organisation_id, webhooks.grant_data(row, email=row.member.email)) for row in rows],
            )
            for row in rows:
                detail = {"role": row.role.name, "ends_at": row.ends_at.isoformat() if row.ends_at else ""}
                await audit.record(
                    actor=None,
                    action=GRANT_ENDED,
                    scope=Scope.of(row),
                    target=row.member.email,
                    detail=detail,
                    connection=connection,
                )
        ended += len(rows)
        members |= {row.member_id for row in rows}
        organisations |= {row.organisation_id for row in rows}
    if not ended:
        return EndReport()
    closed = await end_sessions_without_grants(member_ids=members)
    for organisation_id in organisations:
        await events.publish(organisation_id=organisation_id, kind=GRANTS_CHANGED)
    log.info("housekeeping ended %s grants and %s sessions", ended, closed)
    return EndReport(ended=ended, sessions_ended=closed)


async def end_sessions_without_grants(*, member_ids: set[int]) -> int:
    """Revoke every open session of those members who hold no live grant any more; their open pages leave."""
    if not member_ids:
        return 0
    still = await RoleAssignment.filter(live(), member_id__in=sorted(member_ids)).values_list("member_id", flat=True)
    bare = sorted(member_ids - {int(m) for m in still})  # type: ignore[call-overload]
    if not bare:
        return 0
    open_sessions = Session.filter(member_id__in=bare, revoked_at__isnull=True)
    hashes: list[str] = await open_sessions.values_list("token_hash", flat=True)  # type: ignore[assignment]
    if not hashes:
        return 0
    closed = await Session.filter(token_hash__in=hashes, revoked_at__isnull=True).update(revoked_at=now())
    for hashed in hashes:
        sessions.session_hash_ended(hashed)
    await events.publish(organisation_id=None, kind=sessions.SESSION_ENDED)  # other processes forget their actors
    for email in await StaffMember.filter(id__in=bare).values_list("email", flat=True):
        await audit.record(actor=None, action=SESSIONS_ENDED, scope=PLATFORM_SCOPE, target=str(email))
    return int(closed)


async def next_end(*, after: datetime) -> datetime | None:
    """When the next live grant ends, if any does (housekeeping wakes for it)."""
    row = (
        await RoleAssignment.filter(ended_at__isnull=True, ends_at__gt=after)
        .order_by("ends_at")
        .first()
        .values("ends_at")
    )
    return row["ends_at"] if row else None
