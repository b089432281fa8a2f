"""Warnings before a grant ends: to its member and to its sponsor, the organisation's chosen number of days before
(14, 7 and 1 by default), each once.

Housekeeping (one leader process) calls warn_due now and then. A warning is due at `end - days`; when a pass finds
several due for one grant (housekeeping was down), only the nearest goes and the others count as given. Each goes
once: its access_notice key (grant, days, end) is written in the same transaction as its emails, and a unique key
refuses a second one, whichever process tries. A changed end is a new key: the new end is warned about afresh.
None is sent for a grant shorter than the interval (a 3-day grant gets no 7-day warning).

Grants at the platform (Super Admin, Platform Support, Account Manager) have no organisation's settings: they are
warned on PLATFORM_DAYS, an organisation's default, and the sponsor's link opens the Admin Portal's Platform staff tab.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from models import AccessNotice, MessageKind, Organisation, RoleAssignment
from services.access.service import Scope
from services.audit import service as audit
from services.mail import outbox
from services.organisations import access_settings
from services.organisations import service as organisations
from services.platform.clock import now
from services.platform.words import count

PLATFORM_DAYS = (14, 7, 1)  # the platform's own grants: an organisation's default end_warning_days
PLATFORM = 0  # the platform's key among the plans (no organisation has id 0)
SPONSOR_LINKS = {PLATFORM: "/admin?tab=platform&view=ending"}  # else the organisation's staff list, ending soon


@dataclass(frozen=True)
class Due:
    grant: RoleAssignment
    days: int
    spent: tuple[int, ...]  # the farther warnings due at the same pass: counted as given, not sent


async def warn_due(*, at: datetime | None = None) -> int:
    """Queue the warnings whose time has come; returns how many grants were warned."""
    moment = at or now()
    plans = await _plans()
    if not plans:
        return 0
    horizon = moment + timedelta(days=max(max(days) for days in plans.values()))
    grants = (
        await RoleAssignment.filter(ended_at__isnull=True, ends_at__gt=moment, ends_at__lte=horizon)
        .filter(Q(organisation_id__in=[org for org in plans if org != PLATFORM]) | Q(organisation_id__isnull=True))
        .select_related("role", "member", "sponsor")
    )
    due = [d for grant in grants if (d := _due(grant, plans[grant.organisation_id or PLATFORM], moment))]
    if not due:
        return 0
    given = await _given({_key(d.grant, days) for d in due for days in (d.days, *d.spent)})
    warned = 0
    for item in due:
        if _key(item.grant, item.days) not in given:
            spent = tuple(days for days in item.spent if _key(item.grant, days) not in given)
            warned += await _warn(Due(item.grant, item.days, spent))
    if warned:
        outbox.mail_committed()
    return warned


async def _plans() -> dict[int, tuple[int, ...]]:
    """Each active organisation's warning days, where it has any, and the platform's (key PLATFORM)."""
    rows = await Organisation.filter(archived_at__isnull=True).values_list("id", "end_warning_days")
    plans = {int(org_id): access_settings.stored_days(str(text)) for org_id, text in rows}
    return {PLATFORM: PLATFORM_DAYS} | {org_id: days for org_id, days in plans.items() if days}


def _due(grant: RoleAssignment, days: tuple[int, ...], moment: datetime) -> Due | None:
    assert grant.ends_at is not None
    length = grant.ends_at - grant.created_at
    crossed = [d for d in days if grant.ends_at - timedelta(days=d) <= moment and length > timedelta(days=d)]
    if not crossed:
        return None
    nearest = min(crossed)
    return Due(grant, nearest, tuple(d for d in crossed if d != nearest))


def _key(grant: RoleAssignment, days: int) -> str:
    assert grant.ends_at is not None
    return f"end:{grant.id}:{days}:{int(grant.ends_at.timestamp())}"


async def _given(keys: set[str]) -> set[str]:
    found = await AccessNotice.filter(key__in=sorted(keys)).values_list("key", flat=True)
    return {str(key) for key in found}


async def _warn(item: Due) -> int:
    """Queue one grant's warning (member and sponsor) with its notice keys, in one transaction; none if another
    process gave it first (0, else 1)."""
    grant, scope = item.grant, Scope.of(item.grant)
    context = {
        "role_name": grant.role.name,
        "scope_name": await organisations.scope_name(scope=scope),
        "ends_at": grant.ends_at.isoformat() if grant.ends_at else "",
        "days": count(item.days, "day"),
        "member_name": grant.member.full_name or grant.member.email,
    }
    sponsor = grant.sponsor if grant.sponsor and grant.sponsor.is_active else None
    try:
        async with in_transaction() as connection:
            for days in (item.days, *item.spent):
                await AccessNotice.create(
                    using_db=connection,
                    key=_key(grant, days),
                    member_id=grant.member_id,
                    organisation_id=grant.organisation_id,
                    created_at=now(),
                )
            member_context = {**context, "sponsor_name": sponsor.full_name if sponsor else "", "path": "/care"}
            await _queue(MessageKind.END_WARNING, grant.member.email, member_context, grant, connection)
            if sponsor is not None and sponsor.id != grant.member_id:
                place = grant.organisation_id or PLATFORM
                staff_list = SPONSOR_LINKS.get(place) or f"/care?org={place}&view=ending"
                await _queue(
                    MessageKind.END_WARNING_SPONSOR, sponsor.email, {**context, "path": staff_list}, grant, connection
                )
            detail = {"role": grant.role.name, "days": item.days, "sponsor": sponsor.email if sponsor else ""}
            await audit.record(
                actor=None,
                action="end_warning",
                scope=scope,
                target=grant.member.email,
                detail=detail,
                connection=connection,
            )
    except IntegrityError:  # another process queued this very warning first
        return 0
    return 1


async def _queue(
    kind: MessageKind, recipient: str, context: dict[str, str], grant: RoleAssignment, connection: BaseDBAsyncClient
) -> None:
    await outbox.enqueue_notice(
        connection=connection, kind=kind, recipient=recipient, context=context, organisation_id=grant.organisation_id
    )
