"""Restore access: giving back a grant that dormancy suspended (dormancy.py), and telling the member who lost it.

An organisation cannot suspend an account that may hold access elsewhere, so dormancy suspends the member's grants in
that organisation only: each ends with end_reason "dormant" and keeps the end it had (ends_at_before). Restoring one
gives back the same role, scope and sponsor, and its end if that is still to come, as a new live grant, in one
transaction; whoever restores must be allowed to manage that role there (rights.may_restore_access). The old row stays
as history, marked restored (once). The organisation's end-date rules hold as for any grant (grant_terms.py): an end
beyond its longest duration, or none where one is required, becomes that longest duration from now. The member is
emailed who restored what, its end and a link to log in, queued in the same transaction (none if the restore fails).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import MessageKind, Organisation, RoleAssignment, StaffMember
from services.access import grant_terms, grants, rights, roles
from services.access import service as access
from services.access.liveness import is_live, live
from services.access.service import Actor, RoleInfo, Scope, ScopeLevel
from services.audit import service as audit
from services.errors import InvalidInput, NotFound
from services.mail import outbox
from services.organisations import access_settings
from services.organisations import service as organisations
from services.organisations.dormancy import END_REASON
from services.platform import events
from services.platform.clock import now

ACTION = "restore_access"
OWNER = "organisation_owner"


@dataclass(frozen=True)
class Restored:
    email: str
    role_name: str
    scope_name: str
    ends_at: datetime | None  # the restored grant's end (None: it does not end)


@dataclass(frozen=True)
class SuspendedHere:
    """An organisation where dormancy suspended the member's access and nothing else of theirs remains."""

    organisation_name: str
    dormant_days: int
    owners: tuple[str, ...]  # the names of its owners, who may restore it


def restorable(row: RoleAssignment) -> bool:
    """Was this grant suspended for dormancy, and not restored yet (the staff list's Restore access)."""
    return row.end_reason == END_REASON and row.restored_at is None and not is_live(row.ended_at, row.ends_at)


async def restore_access(*, actor: Actor, assignment_id: int) -> Restored:
    """Give a grant dormancy suspended back as a new live grant: same role, scope, sponsor, and end if still to come."""
    old = await RoleAssignment.get_or_none(id=assignment_id).select_related("role", "member")
    if old is None or old.end_reason != END_REASON or is_live(old.ended_at, old.ends_at):
        raise NotFound("That access was not suspended for dormancy: there is nothing to restore.")
    role, scope, email = RoleInfo.of(old.role), Scope.of(old), old.member.email
    await roles.require_grant(
        actor=actor, role=role, scope=scope, action=ACTION, target=email,
        refusal=f"You may not restore “{role.name}” there: only someone who may manage that role there can.",
    )  # fmt: skip
    place = await organisations.scope_name(scope=scope)
    if old.restored_at is not None:
        raise InvalidInput(f"The access of {email} as {role.name} in {place} was already restored.")
    if old.role.deleted_at is not None:
        raise NotFound(f"The role {role.name} no longer exists: invite {email} with another role.")
    await organisations.require_active(organisation_id=scope.organisation_id)
    ends_at = await _end(old, role, scope)
    sponsor_id = await _sponsor(old, role, scope, actor)
    if old.ended_at is None:
        await grants.end_due()  # housekeeping has not marked it yet: the same grant may then be given again
    try:
        async with in_transaction() as connection:
            if await _holds(old, connection):
                raise InvalidInput(f"{email} already holds {role.name} in {place}: there is nothing to restore.")
            marked = RoleAssignment.filter(id=old.id, restored_at__isnull=True, ended_at__isnull=False)
            if not await marked.using_db(connection).update(restored_at=now()):
                raise InvalidInput(f"The access of {email} as {role.name} in {place} was already restored.")
            await RoleAssignment.create(
                using_db=connection, member_id=old.member_id, role_id=role.id, level=old.level,
                organisation_id=old.organisation_id, deployment_id=old.deployment_id, scope_key=old.scope_key,
                sponsor_id=sponsor_id, ends_at=ends_at, granted_by_id=actor.member_id,
            )  # fmt: skip
            context = {"actor_name": actor.full_name or actor.email, "role_name": role.name, "scope_name": place,
                       "ends_at": ends_at.isoformat() if ends_at else "", "path": "/login"}  # fmt: skip
            await outbox.enqueue_notice(
                connection=connection, kind=MessageKind.ACCESS_RESTORED, recipient=email, context=context,
                organisation_id=scope.organisation_id,
            )  # fmt: skip
            detail = {"role": role.name, "ends_at": ends_at.isoformat() if ends_at else "", "ends_on": _on(ends_at)}
            await audit.record(
                actor=actor, action=ACTION, scope=scope, target=email, detail=detail, connection=connection
            )
    except IntegrityError:  # given the same role there at this instant: one live grant each
        raise InvalidInput(f"{email} already holds {role.name} in {place}: there is nothing to restore.") from None
    outbox.mail_committed()
    await events.publish(organisation_id=scope.organisation_id, kind="staff")
    return Restored(email, role.name, place, ends_at)


async def suspended_here(*, actor: Actor) -> list[SuspendedHere]:
    """The active organisations where dormancy suspended the actor's access, unrestored, and they hold nothing else."""
    holding = {g.scope.organisation_id for g in actor.grants}
    rows = RoleAssignment.filter(
        member_id=actor.member_id, end_reason=END_REASON, restored_at__isnull=True, organisation__archived_at=None
    )
    ids = sorted({int(i) for i in await rows.values_list("organisation_id", flat=True)} - holding)  # type: ignore[call-overload]
    found = []
    for organisation in await Organisation.filter(id__in=ids).order_by("name"):
        days = (await access_settings.settings_of(organisation_id=organisation.id)).dormant_days
        found.append(SuspendedHere(organisation.name, days, await _owners(organisation.id)))
    return found


async def _end(old: RoleAssignment, role: RoleInfo, scope: Scope) -> datetime | None:
    """The end it had, if still to come, within the organisation's longest duration for the role (which, where an
    end is required, it gets when it had none)."""
    moment = now()
    ends_at = old.ends_at_before if old.ends_at_before is not None and old.ends_at_before > moment else None
    longest = await grant_terms.longest_days(organisation_id=scope.organisation_id, role_id=role.id)
    if longest is not None and (ends_at is None or ends_at > moment + timedelta(days=longest)):
        ends_at = moment + timedelta(days=longest)
    grant_terms.check_end(ends_at, role=role, longest=longest, at=moment)
    return ends_at


async def _sponsor(old: RoleAssignment, role: RoleInfo, scope: Scope, actor: Actor) -> int:
    """The same sponsor if they may still manage the role there (a sponsor must); else whoever restores it."""
    person = await StaffMember.get_or_none(id=old.sponsor_id, is_active=True) if old.sponsor_id else None
    if person is None:
        return actor.member_id
    sponsor = await access.load_actor(member_id=person.id, email=person.email, full_name=person.full_name)
    return person.id if rights.may_manage_member(actor=sponsor, role=role, scope=scope) else actor.member_id


def _on(moment: datetime | None) -> str:
    return f"{moment.day} {moment:%B %Y}" if moment else ""


async def _holds(old: RoleAssignment, connection: BaseDBAsyncClient) -> bool:
    same = RoleAssignment.filter(live(), member_id=old.member_id, role_id=old.role_id, scope_key=old.scope_key)
    return await same.using_db(connection).exists()


async def _owners(organisation_id: int) -> tuple[str, ...]:
    held = RoleAssignment.filter(
        live(), organisation_id=organisation_id, level=ScopeLevel.ORGANISATION.value, role__key=OWNER,
        member__is_active=True,
    )  # fmt: skip
    names = await held.order_by("member__full_name").values_list("member__full_name", flat=True)
    return tuple(dict.fromkeys(str(name) for name in names))
