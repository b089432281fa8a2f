"""Dormant members' access ending by itself, where their organisation chose it (organisation.end_dormant_access).

A member is dormant in an organisation after `dormant_days` without a log-in (never logged in: since the account
was made). Seven days before that, housekeeping emails them once; at `dormant_days`, and never sooner than seven days
after the warning, their grants in that organisation end as any grant reaches its end (services/access/grants.py
end_due: audited, pages told, sessions ended when nothing else remains). Logging in starts the count again: the
warning's key holds the log-in it was about, so the next dormant spell gets its own warning.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import AccessNotice, MessageKind, Organisation, RoleAssignment, StaffMember
from services.access import grants
from services.access.service import Scope, ScopeLevel
from services.audit import service as audit
from services.mail import outbox
from services.organisations import service as organisations
from services.platform.clock import now

WARNING_DAYS = 7


@dataclass(frozen=True)
class DormantReport:
    warned: int = 0
    ended: int = 0


async def end_dormant_access(*, at: datetime | None = None) -> DormantReport:
    """Warn the members about to count as dormant, and end the access of those warned long enough ago."""
    moment = at or now()
    chosen = Organisation.filter(archived_at__isnull=True, end_dormant_access=True)
    warned = ended = 0
    for organisation_id, dormant_days in await chosen.values_list("id", "dormant_days"):
        members = await _quiet_members(int(organisation_id), moment - timedelta(days=int(dormant_days) - WARNING_DAYS))
        notices = await _notices({_key(int(organisation_id), m): m for m in members})
        for member in members:
            notice = notices.get(_key(int(organisation_id), member))
            if notice is None:
                warned += await _warn(int(organisation_id), int(dormant_days), member, moment)
            elif _due(member, notice, int(dormant_days), moment):
                ended += await _end(int(organisation_id), int(dormant_days), member, moment)
    if warned:
        outbox.mail_committed()
    if ended:
        await grants.end_due()
    return DormantReport(warned=warned, ended=ended)


def last_activity(member: StaffMember) -> datetime:
    """The member's last log-in, or when the account was made if they never logged in."""
    return member.last_login_at or member.created_at


async def _quiet_members(organisation_id: int, since: datetime) -> list[StaffMember]:
    """Active members holding live access in the organisation, with no log-in since `since`."""
    quiet = Q(last_login_at__lte=since) | Q(last_login_at__isnull=True, created_at__lte=since)
    holding = RoleAssignment.filter(grants.live(), organisation_id=organisation_id).values_list("member_id", flat=True)
    ids = {int(member_id) for member_id in await holding}  # type: ignore[call-overload]
    if not ids:
        return []
    return await StaffMember.filter(quiet, id__in=sorted(ids), is_active=True).order_by("id")


def _key(organisation_id: int, member: StaffMember) -> str:
    return f"dormant:{organisation_id}:{member.id}:{int(last_activity(member).timestamp())}"


async def _notices(by_key: dict[str, StaffMember]) -> dict[str, AccessNotice]:
    if not by_key:
        return {}
    return {notice.key: notice for notice in await AccessNotice.filter(key__in=sorted(by_key))}


def _due(member: StaffMember, notice: AccessNotice, dormant_days: int, moment: datetime) -> bool:
    dormant_since = last_activity(member) + timedelta(days=dormant_days)
    return moment >= max(dormant_since, notice.created_at + timedelta(days=WARNING_DAYS))


def _ends_on(member: StaffMember, dormant_days: int, moment: datetime) -> datetime:
    return max(last_activity(member) + timedelta(days=dormant_days), moment + timedelta(days=WARNING_DAYS))


async def _warn(organisation_id: int, dormant_days: int, member: StaffMember, moment: datetime) -> int:
    """Email one member (once: the notice's unique key), audited; 0 if another process did it first."""
    scope = Scope(ScopeLevel.ORGANISATION, organisation_id)
    ends_on = _ends_on(member, dormant_days, moment)
    context = {
        "scope_name": await organisations.scope_name(scope=scope),
        "ends_at": ends_on.isoformat(),
        "days": f"{WARNING_DAYS} days",
        "dormant_days": str((moment - last_activity(member)).days),
        "path": "/login",
    }
    try:
        async with in_transaction() as connection:
            key = _key(organisation_id, member)
            await AccessNotice.create(
                using_db=connection, key=key, member_id=member.id, organisation_id=organisation_id, created_at=moment
            )
            await outbox.enqueue_notice(
                connection=connection,
                kind=MessageKind.DORMANT_WARNING,
                recipient=member.email,
                context=context,
                organisation_id=organisation_id,
            )
            detail = {"dormant_days": (moment - last_activity(member)).days, "ends_on": f"{ends_on:%d %B %Y}"}
            await audit.record(
                actor=None,
                action="dormant_warning",
                scope=scope,
                target=member.email,
                detail=detail,
                connection=connection,
            )
    except IntegrityError:
        return 0
    return 1


async def _end(organisation_id: int, dormant_days: int, member: StaffMember, moment: datetime) -> int:
    """Bring the end of the member's live grants in the organisation to now (end_due then ends them), audited."""
    async with in_transaction() as connection:
        theirs = RoleAssignment.filter(grants.live(), member_id=member.id, organisation_id=organisation_id)
        bringing_forward = theirs.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=moment)).using_db(connection)
        changed = await bringing_forward.update(ends_at=moment, end_reason="dormant")
        if changed:
            await audit.record(
                actor=None,
                action="dormant_ended",
                scope=Scope(ScopeLevel.ORGANISATION, organisation_id),
                target=member.email,
                detail={"dormant_days": dormant_days, "grants": changed},
                connection=connection,
            )
    return 1 if changed else 0
