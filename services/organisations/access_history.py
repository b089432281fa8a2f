"""A member's access history in an organisation (issue 18 item 2): every grant they held there, live or ended, one line
per role period (a role change starts a new one: services/organisations/role_history.py), who gave or changed it and
who approved it, its sponsor, and how it ended; and each suspension of their account while they held access there.

Who may read it: whoever may see the organisation's staff (the staff list's rule, staff.visible_grants: those who may
see it only in some deployments read only the grants there), and the member their own. Ended grants are history,
never access: nothing here is read by an access check.
"""

from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from models import AccountSuspension, RoleAssignment, RoleChange, StaffMember
from services.access import service as access
from services.access.grants import END_REASON as END_REACHED
from services.access.late_requests import stop_moment
from services.access.liveness import is_live, live
from services.access.service import Actor
from services.audit import evidence_lines
from services.errors import NotFound
from services.organisations import access_settings, naming
from services.organisations.dormancy import END_REASON as DORMANT
from services.organisations.grant_ends import ENDED_NOW
from services.organisations.staff import visible_grants
from services.reviews.deadlines import END_REASON as REVIEW

RELATED = ("role", "organisation", "deployment", "granted_by", "approved_by", "sponsor", "ended_by")
EARLIER_LIMIT = 200  # the landing's "Your earlier access": the most recent ended grants
HOW = ("held", "changed", "end_reached", "ended_now", "removed", "review", "dormant", "role_deleted", "suspended")


@dataclass(frozen=True)
class Ending:
    """How a line of history stopped. how: one of HOW ("held": it has not; "changed": the next role period began)."""

    how: str
    at: datetime | None = None
    by: str = ""  # who ended it (removed, ended now, role deleted, suspended), "" when nobody did
    dormant_days: int = 0  # "dormant": after this many days without a log-in
    restored_at: datetime | None = None  # "dormant" or "suspended": when it was given back (None: not yet)
    restored_by: str = ""


@dataclass(frozen=True)
class HistoryLine:
    grant_id: int  # 0: a suspension of the account
    role: str  # "" for a suspension
    scope: str
    since: datetime
    until: datetime | None  # None: still held (or, a suspension, not restored)
    given_by: str  # who gave (or changed to) this role; who suspended the account
    approved_by: str
    sponsor: str
    ending: Ending


@dataclass(frozen=True)
class MemberHistory:
    name: str
    email: str
    lines: list[HistoryLine]  # oldest first


@dataclass(frozen=True)
class EarlierAccess:
    organisation: str  # naming.PLATFORM for a platform role
    role: str
    scope: str
    since: datetime
    ending: Ending


async def member_history(*, actor: Actor, organisation_id: int, member_id: int) -> MemberHistory:
    """The member's access history in the organisation, oldest first, as far as the actor may see its staff."""
    if member_id == actor.member_id:
        visible = Q()
    else:
        visible = await visible_grants(
            actor, organisation_id, access.can_view_staff, "see the staff of this organisation"
        )
    rows = await (
        RoleAssignment.filter(visible, organisation_id=organisation_id, member_id=member_id)
        .order_by("created_at", "id")
        .select_related(*RELATED)
    )
    member = await StaffMember.get_or_none(id=member_id) if rows else None
    if member is None:  # the same answer whether the person exists elsewhere or not: nothing leaks
        raise NotFound("There is no access history for that person here.")
    dormant_days = (await access_settings.settings_of(organisation_id=organisation_id)).dormant_days
    changes = (await evidence_lines.history_of(rows)).changes
    lines = [line for row in rows for line in _grant_lines(row, rows, changes.get(row.id, []), dormant_days)]
    lines += await _suspension_lines(member_id, rows)
    return MemberHistory(member.full_name, member.email, sorted(lines, key=lambda line: line.since))


async def my_earlier_access(*, actor: Actor) -> list[EarlierAccess]:
    """The actor's own ended grants, by organisation and most recent first, with how each ended."""
    rows = await (
        RoleAssignment.filter(~live(), member_id=actor.member_id)
        .order_by("-created_at", "-id")
        .limit(EARLIER_LIMIT)
        .select_related(*RELATED)
    )
    known, restored = rows, [row.id for row in rows if row.restored_at is not None]
    if restored:  # the grants Restore access gave back in their place, to name who did
        later = RoleAssignment.filter(member_id=actor.member_id, id__gt=min(restored)).select_related("granted_by")
        known = [*rows, *await later]
    days: dict[int, int] = {}
    found = []
    for row in rows:
        if row.organisation_id is not None and row.organisation_id not in days:
            days[row.organisation_id] = (
                await access_settings.settings_of(organisation_id=row.organisation_id)
            ).dormant_days
        organisation = row.organisation.name if row.organisation else naming.PLATFORM
        ending = _ending(row, known, days.get(row.organisation_id or 0, 0))
        found.append(EarlierAccess(organisation, row.role.name, _scope(row), row.created_at, ending))
    return sorted(found, key=lambda e: e.organisation)  # stable: most recent first within each


def _grant_lines(
    row: RoleAssignment, rows: list[RoleAssignment], changes: list[RoleChange], dormant_days: int
) -> list[HistoryLine]:
    ending = _ending(row, rows, dormant_days)
    periods = evidence_lines.periods_of(row, changes)
    lines = []
    for period in periods:
        until = period.until if not period.last else ending.at
        how = ending if period.last else Ending("changed", period.until)
        lines.append(
            HistoryLine(
                row.id,
                period.role,
                _scope(row),
                period.since,
                until,
                _name(period.given_by),
                _name(period.approved_by),
                _name(row.sponsor),
                how,
            )
        )
    return lines


def _ending(row: RoleAssignment, rows: list[RoleAssignment], dormant_days: int) -> Ending:
    """How the grant ended (or that it is still held)."""
    if is_live(row.ended_at, row.ends_at):
        return Ending("held")
    at = stop_moment(ends_at=row.ends_at, ended_at=row.ended_at) if row.ended_at else row.ends_at
    if row.end_reason == DORMANT:
        back = _restored_as(row, rows)
        return Ending("dormant", at, dormant_days=dormant_days, restored_at=row.restored_at, restored_by=back)
    if row.end_reason in ("removed", "role_deleted", ENDED_NOW):
        return Ending(row.end_reason, at, by=_name(row.ended_by))
    if row.end_reason == REVIEW:
        return Ending("review", at)
    return Ending("end_reached" if row.end_reason in ("", END_REACHED) else row.end_reason, at)


def _restored_as(row: RoleAssignment, rows: list[RoleAssignment]) -> str:
    """Who restored a grant dormancy suspended: the giver of the grant Restore access made in its place (the next one
    of the same role and scope)."""
    if row.restored_at is None:
        return ""
    same = (row.role_id, row.scope_key)
    again = [other for other in rows if other.id > row.id and (other.role_id, other.scope_key) == same]
    return _name(min(again, key=lambda other: other.id).granted_by) if again else ""


async def _suspension_lines(member_id: int, rows: list[RoleAssignment]) -> list[HistoryLine]:
    """The suspensions of the account that stopped a grant shown here (live when the suspension began)."""
    found = (
        await AccountSuspension.filter(member_id=member_id)
        .order_by("suspended_at")
        .select_related("suspended_by", "restored_by")
    )
    lines = []
    for suspension in found:
        at = suspension.suspended_at
        stopped = [r for r in rows if r.created_at <= at and _live_at(r, at)]
        if not stopped:
            continue
        ending = Ending(
            "suspended", at, by=_name(suspension.suspended_by), restored_at=suspension.restored_at,
            restored_by=_name(suspension.restored_by),
        )  # fmt: skip
        scopes = ", ".join(dict.fromkeys(_scope(r) for r in stopped))
        lines.append(
            HistoryLine(0, "", scopes, at, suspension.restored_at, _name(suspension.suspended_by), "", "", ending)
        )
    return lines


def _live_at(row: RoleAssignment, at: datetime) -> bool:
    return (row.ended_at is None or row.ended_at > at) and (row.ends_at is None or row.ends_at > at)


def _scope(row: RoleAssignment) -> str:
    organisation = row.organisation.name if row.organisation else None
    return naming.place_name(organisation=organisation, deployment=row.deployment.name if row.deployment else None)


def _name(member: StaffMember | None) -> str:
    return member.full_name if member else ""
