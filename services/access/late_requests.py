"""Time-to-revoke (PRODUCT.md): from the moment access should stop to the last request that still succeeded.

Every process notes in memory, per grant and per account, when it last let a request through (note_allowed: a few
dictionary writes per request, never the database). A process may still let a request through after a stop: an
actor it remembers for live refreshes (services/access/sessions.py) or a request that read the grants just before
the stop, until it hears of the change. When it hears of a change that may stop access (any kind that makes it
forget remembered actors), it looks up the grants that ended and the suspensions that began within HORIZON among
those it let through, and keeps on each row the latest request it let through after the stop: one conditional
UPDATE, so that the row ends up with the latest over every process. No row is written when no request came late.
"""

import logging
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any

from tortoise.expressions import Q

from models import AccountSuspension, RoleAssignment
from services.access import sessions
from services.access.service import Actor
from services.platform import events
from services.platform.clock import now

log = logging.getLogger(__name__)

HORIZON = timedelta(hours=1)  # what a process remembers, and how far back a stop it hears of may be
CHUNK = 500

_by_grant: dict[int, datetime] = {}  # role_assignment id -> the last request let through with it
_by_member: dict[int, datetime] = {}  # account -> the last request let through for it
_state = {"busy": False, "again": False}


def note_allowed(actor: Actor) -> None:
    """Note that a request of the actor was let through now, with the grants it holds (in memory only)."""
    at = now()
    _by_member[actor.member_id] = at
    for grant in actor.grants:
        if grant.assignment_id:
            _by_grant[grant.assignment_id] = at
    events.subscribe(organisation_id=events.PLATFORM_TOPIC, handler=_on_change)  # idempotent: a set


def stop_moment(*, ends_at: datetime | None, ended_at: datetime) -> datetime:
    """When a grant's access should have stopped: its end, when it reached it, else when it was ended."""
    return ends_at if ends_at is not None and ends_at <= ended_at else ended_at


async def record_late_requests() -> int:
    """Keep, on each grant that ended and each suspension that began within HORIZON, the latest request this process
    let through after it; returns how many rows moved."""
    cutoff = now() - HORIZON
    _forget_before(cutoff)
    moved = 0
    grant_ids, member_ids = sorted(_by_grant), sorted(_by_member)
    for start in range(0, len(grant_ids), CHUNK):
        ended = RoleAssignment.filter(id__in=grant_ids[start : start + CHUNK], ended_at__gte=cutoff)
        for row in await ended.values("id", "ends_at", "ended_at"):
            seen = _by_grant.get(row["id"])
            if seen is not None and seen > stop_moment(ends_at=row["ends_at"], ended_at=row["ended_at"]):
                moved += await _keep_latest(RoleAssignment, row["id"], "last_request_after_stop", seen)
    for start in range(0, len(member_ids), CHUNK):
        begun = AccountSuspension.filter(member_id__in=member_ids[start : start + CHUNK], suspended_at__gte=cutoff)
        for row in await begun.values("id", "member_id", "suspended_at", "restored_at"):
            seen = _by_member.get(row["member_id"])
            if (
                seen is not None
                and row["suspended_at"] < seen
                and (row["restored_at"] is None or seen < row["restored_at"])
            ):
                moved += await _keep_latest(AccountSuspension, row["id"], "last_request_after", seen)
    return moved


async def _keep_latest(
    model: type[RoleAssignment] | type[AccountSuspension], row_id: int, column: str, seen: datetime
) -> int:
    unset: dict[str, Any] = {f"{column}__isnull": True}
    earlier: dict[str, Any] = {f"{column}__lt": seen}
    later = Q(**unset) | Q(**earlier)
    return int(await model.filter(later, id=row_id).update(**{column: seen}))


def _forget_before(cutoff: datetime) -> None:
    for remembered in (_by_grant, _by_member):
        for key in [key for key, at in remembered.items() if at < cutoff]:
            del remembered[key]


def _on_change(kind: str) -> Awaitable[None] | None:
    if kind in sessions.KEEPS_ACTORS:
        return None
    if _state["busy"]:  # the running pass reads again once it is done
        _state["again"] = True
        return None
    return _record_in_turn()


async def _record_in_turn() -> None:
    _state["busy"] = True
    try:
        while True:
            _state["again"] = False
            await record_late_requests()
            if not _state["again"]:
                return
    except Exception:  # never let a failed pass stop the process hearing changes; the next change reads again
        log.exception("recording late requests failed")
    finally:
        _state["busy"] = False


def reset() -> None:
    """Forget every noted request (tests start each app afresh)."""
    _by_grant.clear()
    _by_member.clear()
    _state.update(busy=False, again=False)
