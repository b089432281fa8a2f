"""The terms a grant is given with: its end and its sponsor, checked when an invitation is sent; and the end-date rules
an organisation sets for chosen roles (every grant of the role must end, within a longest duration)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from models import GrantPolicy, StaffMember
from services.access import rights, roles
from services.access import service as access
from services.access.service import Actor, RoleInfo, Scope
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, check_fields
from services.invitations import addresses as emails
from services.platform import events
from services.platform.clock import now
from services.platform.words import count, day

MAX_POLICY_DAYS = 3650


@dataclass(frozen=True)
class GrantTerms:
    """What a grant carries besides its role and scope."""

    ends_at: datetime | None
    sponsor_id: int
    sponsor_name: str


async def longest_days(*, organisation_id: int | None, role_id: int) -> int | None:
    """The organisation's rule for the role: the longest a grant of it may last, in days (None: no end required)."""
    if organisation_id is None:
        return None
    policy = await GrantPolicy.get_or_none(organisation_id=organisation_id, role_id=role_id)
    return policy.max_days if policy else None


async def policies(*, organisation_id: int) -> dict[int, int]:
    """Every rule of the organisation: role id -> the longest a grant of it may last, in days."""
    rows = await GrantPolicy.filter(organisation_id=organisation_id).values_list("role_id", "max_days")
    return {int(role_id): int(days) for role_id, days in rows}


async def set_policy(*, actor: Actor, organisation_id: int, role_id: int, max_days: int | None) -> None:
    """Require every grant of the role in the organisation to end within max_days (None: no longer required).
    Who may: rights.may_change_access_settings."""
    scope = await access.scope_of(organisation_id=organisation_id)
    role = await roles.get(role_id=role_id)
    if not rights.may_change_access_settings(actor=actor, organisation_id=organisation_id):
        await audit.record(actor=actor, action="set_grant_policy", scope=scope, target=role.name, outcome="refused")
        access.require(False, "You need the *edit roles and permissions* permission in this organisation.")
    check_fields(max_days=lambda: check_max_days(max_days))
    async with in_transaction() as connection:
        await GrantPolicy.filter(organisation_id=organisation_id, role_id=role.id).using_db(connection).delete()
        if max_days is not None:
            await GrantPolicy.create(
                using_db=connection, organisation_id=organisation_id, role_id=role.id, max_days=max_days
            )
        detail = {"max_days": max_days or 0}
        await audit.record(
            actor=actor, action="set_grant_policy", scope=scope, target=role.name, detail=detail, connection=connection
        )
    await events.publish(organisation_id=organisation_id, kind="roles")


def check_max_days(max_days: int | None) -> None:
    """Refuse (InvalidInput) a longest duration outside 1 to MAX_POLICY_DAYS days (None: no end required)."""
    if max_days is not None and not 1 <= max_days <= MAX_POLICY_DAYS:
        raise InvalidInput(f"Choose a longest duration between 1 and {MAX_POLICY_DAYS:,} days.")


def check_end(
    ends_at: datetime | None,
    *,
    role: RoleInfo | None,
    longest: int | None,
    at: datetime | None = None,
    start: datetime | None = None,
) -> None:
    """Refuse (InvalidInput) an end in the past, beyond the longest duration, or missing where one is required (role:
    the role it is given with, named in the messages; None when not chosen yet).

    The longest duration is a cap counted from the grant's start (start; an invitation's: now), to the end of that
    last day (UTC): renewing never carries a grant past it. Only a changed rule (Access settings) allows longer.
    """
    moment, name = at or now(), role.name if role else "This role"
    if ends_at is None:
        if longest is not None:
            raise InvalidInput(f"{name} needs an end of access here: at most {count(longest, 'day')} away.")
        return
    if ends_at.tzinfo is None:
        raise InvalidInput("Give the end of access with its time zone.")
    if ends_at <= moment:
        raise InvalidInput("The end of access must be in the future.")
    begun = start or moment
    if longest is not None and ends_at > latest_end(begun, longest):
        raise InvalidInput(
            f"{name} may hold access for at most {count(longest, 'day')} from {day(begun.astimezone(UTC))}: "
            f"choose an end on or before {day(latest_end(begun, longest))}."
        )


def latest_end(start: datetime, longest: int) -> datetime:
    """The latest end a grant that started at start may have under a longest duration of longest days: the end of
    the last day, in UTC."""
    last = (start + timedelta(days=longest)).astimezone(UTC)
    return last.replace(hour=23, minute=59, second=59, microsecond=0)


async def check_terms(
    *, actor: Actor, role: RoleInfo, scope: Scope, ends_at: datetime | None, sponsor_email: str | None
) -> GrantTerms:
    """The end and sponsor of an invitation, or FieldErrors at ends_at and sponsor (refused sponsors are audited).

    The sponsor is the inviter unless another address is given; a sponsor must be allowed to manage the role there.
    An unknown address gets the same message as one that may not sponsor: an inviter never learns who has an account.
    """
    longest = await longest_days(organisation_id=scope.organisation_id, role_id=role.id)
    problems: dict[str, str] = {}
    try:
        check_end(ends_at, role=role, longest=longest)
    except InvalidInput as problem:
        problems["ends_at"] = str(problem)
    sponsor = await _sponsor(actor, role, scope, sponsor_email)
    if sponsor is None:
        refused = emails.canonical((sponsor_email or "").strip())
        problems["sponsor"] = (
            f"{refused} cannot sponsor {role.name} there: a sponsor must be allowed to manage that role there."
        )
        detail = {"role": role.name, "sponsor": refused}
        await audit.record(actor=actor, action="invite", scope=scope, target=refused, outcome="refused", detail=detail)
    if problems:
        raise FieldErrors(problems)
    assert sponsor is not None
    return GrantTerms(ends_at, sponsor.member_id, sponsor.full_name)


async def _sponsor(actor: Actor, role: RoleInfo, scope: Scope, email: str | None) -> Actor | None:
    key = emails.canonical((email or "").strip())
    if not key or key == actor.email:
        return actor
    if len(key) > emails.MAX_LENGTH or not key.isprintable():
        return None
    person = await StaffMember.get_or_none(email=key, is_active=True)
    if person is None:
        return None
    candidate = await access.load_actor(member_id=person.id, email=person.email, full_name=person.full_name)
    return candidate if access.can_grant(candidate, role, scope) else None


def group_by_end(
    addresses: list[str],
    *,
    ends_at: datetime | None,
    ends_for: Mapping[str, datetime],
    role: RoleInfo,
    longest: int | None,
) -> tuple[list[tuple[datetime | None, list[str]]], list[tuple[str, str]]]:
    """The addresses grouped by their end (their own from ends_for, a CSV's second column, else ends_at), in order of
    first appearance, and those whose own end the role's rules refuse, with why (check_end)."""
    groups: dict[datetime | None, list[str]] = {}
    refused: list[tuple[str, str]] = []
    for address in addresses:
        own = ends_for.get(emails.canonical(address.strip()))
        try:
            if own is not None:
                check_end(own, role=role, longest=longest)
        except InvalidInput as problem:
            refused.append((address, f"its end of access: {problem}"))
            continue
        groups.setdefault(own or ends_at, []).append(address)
    return list(groups.items()), refused
