"""Resetting a member's second factors (issue 21): their authenticator app, passkeys and recovery codes go, every
session ends, they are emailed (through the outbox), and at their next log-in they set up a factor again.

Who may: someone else who may manage every role the member holds, wherever they hold it (rights.may_manage_member
for each live grant). So an organisation's owner resets the factors of their own staff, but never those of someone
who also holds a role they could not hand out (an Admin Portal role, another organisation's): no escalation."""

from collections import defaultdict
from collections.abc import Iterable

from tortoise.transactions import in_transaction

from models import MessageKind, RoleAssignment, Session, StaffMember
from services.access import factors, rights, sessions
from services.access import service as access
from services.access.liveness import live
from services.access.service import Actor, RoleInfo, Scope
from services.audit import service as audit
from services.errors import InvalidInput, NotFound
from services.mail import outbox
from services.platform import events
from services.platform.clock import now

ACTION = "reset_second_factors"


async def may_reset(*, actor: Actor, member_id: int) -> bool:
    """May the actor reset this member's second factors (see the module's rule)?"""
    return member_id in await resettable(actor=actor, member_ids=[member_id])


async def resettable(*, actor: Actor, member_ids: Iterable[int]) -> set[int]:
    """Those of the members whose second factors the actor may reset (the module's rule; one query for them all)."""
    held: dict[int, list[RoleAssignment]] = defaultdict(list)
    for grant in await RoleAssignment.filter(live(), member_id__in=list(member_ids)).select_related("role"):
        held[grant.member_id].append(grant)
    return {
        member_id
        for member_id, grants in held.items()
        if member_id != actor.member_id
        and all(rights.may_manage_member(actor=actor, role=RoleInfo.of(a.role), scope=Scope.of(a)) for a in grants)
    }


async def reset(*, actor: Actor, member_id: int, organisation_id: int) -> str:
    """Remove the member's factors and recovery codes, end their sessions and email them; returns their email.
    organisation_id: where the reset was asked from (the audit event's place)."""
    member = await StaffMember.get_or_none(id=member_id)
    if member is None:
        raise NotFound("That account no longer exists.")
    scope = await access.scope_of(organisation_id=organisation_id)
    if not await may_reset(actor=actor, member_id=member.id):
        await audit.record(actor=actor, action=ACTION, scope=scope, target=member.email, outcome="refused")
        access.require(False, f"You may not reset the second factors of {member.email}.")
    held = await factors.factors_of(member_id=member.id)
    if not (held.enrolled or held.passkey or held.recovery_codes_left):
        raise InvalidInput(f"{member.email} has no second factor to reset.")
    async with in_transaction() as connection:
        removed = await factors.remove_all(member_id=member.id, connection=connection)
        open_sessions = Session.filter(member_id=member.id, revoked_at=None).using_db(connection)
        hashes: list[str] = await open_sessions.values_list("token_hash", flat=True)  # type: ignore[assignment]
        await open_sessions.update(revoked_at=now())
        context = {"actor_name": actor.full_name or actor.email, "ends_at": now().isoformat(), "path": "/login"}
        await outbox.enqueue_notice(
            connection=connection, kind=MessageKind.FACTORS_RESET, recipient=member.email, context=context,
            organisation_id=organisation_id,
        )  # fmt: skip
        detail = {"factors_removed": removed, "sessions_ended": len(hashes)}
        await audit.record(
            actor=actor, action=ACTION, scope=scope, target=member.email, detail=detail, connection=connection
        )
    sessions.sessions_ended(token_hashes=hashes)  # this process's open pages of the member leave at once
    await events.publish(organisation_id=organisation_id, kind="staff")  # other processes forget remembered actors
    return member.email
