"""Dormant members' access suspended by itself, where their organisation chose it (organisation.end_dormant_access).

A member is dormant in an organisation after `dormant_days` without a log-in (never logged in: since the account
was made). Seven days before that, housekeeping emails them once; at `dormant_days`, and never sooner than seven days
after the warning, their access in that organisation is suspended: their grants there stop as any grant reaching its
end does (services/access/grants.py end_due: audited, pages told, sessions ended when nothing else remains), with
end_reason "dormant" and the end each had before kept (ends_at_before), so that an owner can restore them
(dormant_restore.py). Their account and their access elsewhere stay. Logging in starts the count again, and so does a
restore: the warning's key holds the moment it was about, so the next dormant spell gets its own warning.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from models import AccessNotice, MessageKind, Organisation, RoleAssignment, StaffMember
from services.access import grants
from services.access.service import Scope, ScopeLevel
from services.audit import service as audit
from services.mail import outbox
from services.platform.clock import now

WARNING_DAYS = 7
END_REASON = "dormant"  # role_assignment.end_reason of a grant dormancy suspended


@dataclass(frozen=True)
class DormantReport:
    warned: int = 0
    ended: int = 0


@dataclass(frozen=True)
class _Quiet:
    member: StaffMember
    since: datetime  # the last log-in, the account's making if none, or the last restore here if later


async def end_dormant_access(*, at: datetime | None = None) -> DormantReport:
    """Warn the members about to count as dormant, and suspend the access of those warned long enough ago."""
    moment = at or now()
    chosen = Organisation.filter(archived_at__isnull=True, end_dormant_access=True)
    warned = ended = 0
    for organisation_id, dormant_days in await chosen.values_list("id", "dormant_days"):
        members = await _quiet_members(int(organisation_id), moment - timedelta(days=int(dormant_days) - WARNING_DAYS))
        notices = await _notices({_key(int(organisation_id), quiet) for quiet in members})
        for quiet in members:
            notice = notices.get(_key(int(organisation_id), quiet))
            if notice is None:
                warned += await _warn(int(organisation_id), int(dormant_days), quiet, moment)
            elif _due(quiet, notice, int(dormant_days), moment):
                ended += await _end(int(organisation_id), int(dormant_days), quiet.member, moment)
    if warned:
        outbox.mail_committed()
    if ended:
        await grants.end_due()
    return DormantReport(warned=warned, ended=ended)


def last_activity(member: StaffMember) -> datetime:
    """The member's last log-in, or when the account was made if they never logged in."""
    return member.last_login_at or member.created_at


async def _quiet_members(organisation_id: int, since: datetime) -> list[_Quiet]:
    """Active members holding live access in the organisation, with no log-in (nor restore there) since `since`."""
    quiet = Q(last_login_at__lte=since) | Q(last_login_at__isnull=True, created_at__lte=since)
    holding = RoleAssignment.filter(grants.live(), organisation_id=organisation_id).values_list("member_id", flat=True)
    ids = {int(member_id) for member_id in await holding}  # type: ignore[call-overload]
    if not ids:
        return []
    members = await StaffMember.filter(quiet, id__in=sorted(ids), is_active=True).order_by("id")
    restored = RoleAssignment.filter(organisation_id=organisation_id, member_id__in=[m.id for m in members])
    latest: dict[int, datetime] = {}
    for member_id, at in await restored.filter(restored_at__isnull=False).values_list("member_id", "restored_at"):
        latest[int(member_id)] = max(latest.get(int(member_id), at), at)
    found = [_Quiet(m, max(last_activity(m), latest.get(m.id, last_activity(m)))) for m in members]
    return [quiet for quiet in found if quiet.since <= since]


def _key(organisation_id: int, quiet: _Quiet) -> str:
    return f"dormant:{organisation_id}:{quiet.member.id}:{int(quiet.since.timestamp())}"


async def _notices(keys: set[str]) -> dict[str, AccessNotice]:
    if not keys:
        return {}
    return {notice.key: notice for notice in await AccessNotice.filter(key__in=sorted(keys))}


def _due(quiet: _Quiet, notice: AccessNotice, dormant_days: int, moment: datetime) -> bool:
    dormant_since = quiet.since + timedelta(days=dormant_days)
    return moment >= max(dormant_since, notice.created_at + timedelta(days=WARNING_DAYS))


def _ends_on(quiet: _Quiet, dormant_days: int, moment: datetime) -> datetime:
    return max(quiet.since + timedelta(days=dormant_days), moment + timedelta(days=WARNING_DAYS))


async def _warn(organisation_id: int, dormant_days: int, quiet: _Quiet, moment: datetime) -> int:
    """Email one member (once: the notice's unique key), audited; 0 if another process did it first."""
    scope = Scope(ScopeLevel.ORGANISATION, organisation_id)
    member, ends_on = quiet.member, _ends_on(quiet, dormant_days, moment)
    context = {
        "scope_name": (await Organisation.get(id=organisation_id)).name,  # the organisation itself, not a place in it
        "ends_at": ends_on.isoformat(),
        "days": f"{WARNING_DAYS} days",
        "dormant_days": str((moment - quiet.since).days),
        "path": "/login",
    }
    try:
        async with in_transaction() as connection:
            key = _key(organisation_id, quiet)
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
            detail = {"dormant_days": (moment - quiet.since).days, "ends_on": f"{ends_on:%d %B %Y}"}
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
    """Suspend the member's live grants in the organisation: their end comes now (end_due then ends them), the end
    each had is kept for Restore access; audited."""
    async with in_transaction() as connection:
        theirs = RoleAssignment.filter(grants.live(), member_id=member.id, organisation_id=organisation_id)
        bringing_forward = theirs.filter(Q(ends_at__isnull=True) | Q(ends_at__gt=moment)).using_db(connection)
        changed = await bringing_forward.update(ends_at_before=F("ends_at"), ends_at=moment, end_reason=END_REASON)
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
