"""Suspended accounts: every grant stops at once, every session ends, the invitations the member sent are deleted.

Platform Support and Super Admin suspend and restore (services/access/rights.may_suspend). The grants themselves
stay, so restoring gives back exactly what the member held; while suspended, log-in is refused with a message that
says so and every session read is refused (services/access/auth checks is_active).

Each suspension is kept with its restore (AccountSuspension: the evidence pack's removals, with the time-to-revoke
services/access/late_requests.py records), and audited at platform level and in every organisation where it stopped a
grant, so that each organisation's audit log and export see it.
"""

from tortoise.transactions import in_transaction

from models import AccountSuspension, RoleAssignment, Session, StaffMember
from services.access import rights, sessions
from services.access import service as access
from services.access.liveness import live
from services.access.service import PLATFORM_SCOPE, Actor, Scope, ScopeLevel
from services.audit import service as audit
from services.errors import InvalidInput, NotFound
from services.invitations import service as invitations
from services.organisations.staff import platform_ranks
from services.platform import events
from services.platform.clock import now


async def suspend(*, actor: Actor, member_id: int) -> str:
    """Suspend the account: grants stop, sessions end everywhere, its pending invitations are deleted. Returns
    the member's email."""
    member = await _member(member_id)
    await _require(actor, member, "suspend_account")
    if not member.is_active:
        raise InvalidInput(f"{member.email} is already suspended.")
    organisation_ids = await _organisations_of(member.id)
    stopped = await _holding(member.id)
    at = now()
    async with in_transaction() as connection:
        changed = (
            await StaffMember.filter(id=member.id, is_active=True)
            .using_db(connection)
            .update(is_active=False, suspended_at=at)
        )
        if not changed:  # suspended by someone else in this instant
            raise InvalidInput(f"{member.email} is already suspended.")
        open_sessions = Session.filter(member_id=member.id, revoked_at=None).using_db(connection)
        hashes: list[str] = await open_sessions.values_list("token_hash", flat=True)  # type: ignore[assignment]
        await open_sessions.update(revoked_at=now())
        dropped = await invitations.drop_sent_by(member_id=member.id, scope=PLATFORM_SCOPE, connection=connection)
        await AccountSuspension.create(
            using_db=connection, member_id=member.id, suspended_at=at, suspended_by_id=actor.member_id
        )
        detail = {"sessions_ended": len(hashes), "invitations_deleted": dropped}
        for scope in (PLATFORM_SCOPE, *_scopes(stopped)):
            await audit.record(
                actor=actor, action="suspend_account", scope=scope, target=member.email, detail=detail,
                connection=connection,
            )  # fmt: skip
    sessions.sessions_ended(token_hashes=hashes)  # this process's open pages of the member leave at once
    await _announce(organisation_ids)
    return member.email


async def restore(*, actor: Actor, member_id: int) -> str:
    """Restore a suspended account: its grants work again once the member logs in. Returns the member's email."""
    member = await _member(member_id)
    await _require(actor, member, "restore_account")
    if member.is_active:
        raise InvalidInput(f"{member.email} is not suspended.")
    restored = await _holding(member.id)
    at = now()
    async with in_transaction() as connection:
        await StaffMember.filter(id=member.id).using_db(connection).update(is_active=True, suspended_at=None)
        await (
            AccountSuspension.filter(member_id=member.id, restored_at__isnull=True)
            .using_db(connection)
            .update(restored_at=at, restored_by_id=actor.member_id)
        )
        for scope in (PLATFORM_SCOPE, *_scopes(restored)):
            await audit.record(
                actor=actor, action="restore_account", scope=scope, target=member.email, connection=connection
            )
    await _announce(await _organisations_of(member.id))
    return member.email


async def _member(member_id: int) -> StaffMember:
    member = await StaffMember.get_or_none(id=member_id)
    if member is None:
        raise NotFound("That account no longer exists.")
    return member


async def _require(actor: Actor, member: StaffMember, action: str) -> None:
    rank = (await platform_ranks({member.id})).get(member.id, 0)
    if rights.may_suspend(actor=actor, member_id=member.id, member_platform_rank=rank):
        return
    await audit.record(actor=actor, action=action, scope=PLATFORM_SCOPE, target=member.email, outcome="refused")
    if member.id == actor.member_id:
        access.require(False, "You cannot suspend or restore your own account.")
    access.require(False, f"You may not suspend or restore the account of {member.email}.")


async def _holding(member_id: int) -> set[int]:
    """The organisations where the member holds a live grant: those a suspension stops (or a restore gives back)."""
    ids = await RoleAssignment.filter(live(), member_id=member_id, organisation_id__not_isnull=True).values_list(
        "organisation_id", flat=True
    )
    return {int(i) for i in ids}  # type: ignore[call-overload]


def _scopes(organisation_ids: set[int]) -> list[Scope]:
    return [Scope(ScopeLevel.ORGANISATION, organisation_id) for organisation_id in sorted(organisation_ids)]


async def _organisations_of(member_id: int) -> set[int]:
    ids = await RoleAssignment.filter(member_id=member_id, organisation_id__not_isnull=True).values_list(
        "organisation_id", flat=True
    )
    return {int(i) for i in ids}  # type: ignore[call-overload]


async def _announce(organisation_ids: set[int]) -> None:
    # Every process forgets the actors it remembers (a staff change is not one of sessions.KEEPS_ACTORS), and every
    # open list refreshes: the member's own pages, in any process, read the account afresh and go to log-in.
    topics: set[int | None] = set(organisation_ids) or {None}
    for organisation_id in topics:
        await events.publish(organisation_id=organisation_id, kind="staff")
