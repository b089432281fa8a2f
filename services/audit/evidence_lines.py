"""The lines of the evidence pack (services/audit/evidence.py): one per role period of a grant (a role change starts
a new one, given and approved by its own people), and one per grant a suspension stopped, each with its
time-to-revoke as PRODUCT.md defines it: from the moment access should have stopped to the last request that still
succeeded (services/access/late_requests.py records it; none: 0 s)."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models import AccountSuspension, ReviewItem, RoleAssignment, RoleChange, ScopeLevel, StaffMember
from services.access.late_requests import stop_moment

GRANT_COLUMNS = (
    "line",
    "grant_id",
    "member_name",
    "member_email",
    "account",
    "role",
    "role_from",
    "role_until",
    "scope",
    "sponsor",
    "granted_at",
    "granted_or_changed_by",
    "approved_by",
    "ends_at",
    "last_reviewed_at",
    "reviewed_by",
    "last_log_in",
    "ended_at",
    "end_reason",
    "ended_by",
    "restored_at",
    "restored_by",
    "access_stopped_at",
    "last_request_after_stop",
    "time_to_revoke_seconds",
)
PLATFORM_PLACE = "Platform (every organisation)"
PLATFORM_STAFF = (
    "Platform staff (Super Admin, Platform Support: grants at platform scope) are listed too, with the scope "
    f"'{PLATFORM_PLACE}': they can reach every organisation's data, this one's included"
)
ROLE_PERIOD = "role period"
SUSPENSION = "suspension"
NO_LATE_REQUEST = "none after the stop"
TIME_TO_REVOKE = (
    "time_to_revoke_seconds: from access_stopped_at (the grant's end or removal, or the account's suspension) to "
    "last_request_after_stop, the last request that still succeeded; 0 when none did"
)


@dataclass(frozen=True)
class RolePeriod:
    role: str
    since: datetime
    until: datetime | None  # the next change, or the grant's end (None: still held)
    given_by: StaffMember | None
    approved_by: StaffMember | None
    last: bool  # the grant's current (or final) role


@dataclass(frozen=True)
class History:
    """What a page of grants needs beyond their rows: role changes and review decisions, by grant id."""

    changes: dict[int, list[RoleChange]]
    reviews: dict[int, list[tuple[datetime, StaffMember | None]]]


async def history_of(rows: list[RoleAssignment]) -> History:
    """The role changes of these grants, and the review decisions of those that changed role (two queries)."""
    changes: dict[int, list[RoleChange]] = {}
    found = RoleChange.filter(assignment_id__in=[row.id for row in rows]).order_by("changed_at", "id")
    for change in await found.select_related("to_role", "from_role", "changed_by", "approved_by"):
        changes.setdefault(change.assignment_id, []).append(change)
    reviews: dict[int, list[tuple[datetime, StaffMember | None]]] = {}
    if changes:
        decided = ReviewItem.filter(
            assignment_id__in=list(changes), decided_at__isnull=False, decided_by_id__isnull=False
        )
        for item in await decided.select_related("decided_by"):
            if item.decided_at is not None:
                reviews.setdefault(item.assignment_id, []).append((item.decided_at, item.decided_by))
    return History(changes, reviews)


def periods_of(row: RoleAssignment, changes: list[RoleChange]) -> list[RolePeriod]:
    """The grant's role periods, oldest first: as granted, then one per role change."""
    if not changes:
        return [RolePeriod(row.role.name, row.created_at, row.ended_at, row.granted_by, row.approved_by, True)]
    first = changes[0]
    found = [RolePeriod(_name(first.from_role, first.from_role_name), row.created_at, first.changed_at,
                        row.granted_by, row.approved_by, False)]  # fmt: skip
    for index, change in enumerate(changes):
        following = changes[index + 1].changed_at if index + 1 < len(changes) else row.ended_at
        given = RolePeriod(_name(change.to_role, change.to_role_name), change.changed_at, following,
                           change.changed_by, change.approved_by, index + 1 == len(changes))  # fmt: skip
        found.append(given)
    return found


def overlaps(since: datetime | None, until: datetime | None, start: datetime, end: datetime | None) -> bool:
    """Is [start, end) live at some moment of [since, until)?"""
    return (until is None or start < until) and (since is None or end is None or end >= since)


def role_lines(
    row: RoleAssignment, history: History, places: dict[int | None, str], since: datetime | None, until: datetime | None
) -> Iterable[dict[str, Any]]:
    """One line per role period of the grant that is live at some moment of the period."""
    for period in periods_of(row, history.changes.get(row.id, [])):
        if not overlaps(since, until, period.since, period.until):
            continue
        line = _common(row, places, ROLE_PERIOD, period.role)
        review = _last_review(row, history, period)
        line |= {
            "role_from": _iso(period.since),
            "role_until": _iso(period.until),
            "granted_or_changed_by": _email(period.given_by),
            "approved_by": _email(period.approved_by),
            "last_reviewed_at": _iso(review[0] if review else None),
            "reviewed_by": _email(review[1] if review else None),
        }
        if period.last and row.ended_at is not None:
            stop = stop_moment(ends_at=row.ends_at, ended_at=row.ended_at)
            line |= {"ended_at": _iso(row.ended_at), "end_reason": row.end_reason, "ended_by": _email(row.ended_by)}
            line |= _revoke(stop, row.last_request_after_stop)
        yield line


def suspension_lines(
    suspension: AccountSuspension, grants: list[RoleAssignment], history: History, places: dict[int | None, str]
) -> Iterable[dict[str, Any]]:
    """One line per grant of the organisation that the suspension stopped (live at the moment it began)."""
    at = suspension.suspended_at
    for row in grants:
        held = [p for p in periods_of(row, history.changes.get(row.id, [])) if overlaps(at, None, p.since, p.until)]
        line = _common(row, places, SUSPENSION, held[0].role if held else row.role.name)
        line |= {
            "granted_or_changed_by": _email(held[0].given_by if held else row.granted_by),
            "approved_by": _email(held[0].approved_by if held else row.approved_by),
            "ended_at": _iso(at),
            "end_reason": "suspended",
            "ended_by": _email(suspension.suspended_by),
            "restored_at": _iso(suspension.restored_at),
            "restored_by": _email(suspension.restored_by),
        }
        yield line | _revoke(at, suspension.last_request_after)


def _common(row: RoleAssignment, places: dict[int | None, str], kind: str, role: str) -> dict[str, Any]:
    member = row.member
    line: dict[str, Any] = dict.fromkeys(GRANT_COLUMNS, "")
    return line | {
        "line": kind,
        "grant_id": row.id,
        "member_name": member.full_name,
        "member_email": member.email,
        "account": "active" if member.is_active else "suspended",
        "role": role,
        "scope": _place(row, places),
        "sponsor": _email(row.sponsor),
        "granted_at": _iso(row.created_at),
        "ends_at": _iso(row.ends_at),
        "last_reviewed_at": _iso(row.reviewed_at),
        "reviewed_by": _email(row.reviewed_by),
        "last_log_in": _iso(member.last_login_at),
    }


def _place(row: RoleAssignment, places: dict[int | None, str]) -> str:
    if row.level == ScopeLevel.PLATFORM:
        return PLATFORM_PLACE
    return places.get(row.deployment_id, places.get(None, ""))


def _revoke(stop: datetime, last_request: datetime | None) -> dict[str, Any]:
    seconds = max(0, round((last_request - stop).total_seconds())) if last_request else 0
    return {
        "access_stopped_at": _iso(stop),
        "last_request_after_stop": _iso(last_request) if last_request else NO_LATE_REQUEST,
        "time_to_revoke_seconds": seconds,
    }


def _last_review(row: RoleAssignment, history: History, period: RolePeriod) -> tuple[datetime, Any] | None:
    """The latest review decided while the grant held this role."""
    found = [*history.reviews.get(row.id, [])]
    if row.reviewed_at is not None:
        found.append((row.reviewed_at, row.reviewed_by))
    within = [r for r in found if r[0] >= period.since and (period.until is None or r[0] < period.until)]
    return max(within, key=lambda r: r[0], default=None)


def _name(role: Any, kept: str) -> str:
    return str(role.name) if role is not None else kept


def _email(member: StaffMember | None) -> str:
    return member.email if member else ""


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""
