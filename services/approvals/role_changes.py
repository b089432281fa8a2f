"""A role change to a role the organisation's approval rules cover (issue 19) is never made at once.

It becomes what an invitation of the member to that role becomes: an invitation awaiting approval (no email), which
names the grant it changes. The member keeps their role until someone who may approve it does (the email leaves) and
the member accepts; the grant then takes the new role (take, from the acceptance's transaction). Declined, deleted or
expired, nothing changes. A grant that ended meanwhile is not brought back: its link opens nothing.
"""

from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import ApprovalState, Invitation, InvitationState, RoleAssignment
from services.access import tokens
from services.access.liveness import live
from services.access.service import Actor, RoleInfo, Scope
from services.approvals import rules as approval_rules
from services.audit import service as audit
from services.errors import InvalidInput, LinkInvalid
from services.invitations import reminders
from services.invitations import rows as invite_rows
from services.mail import outbox
from services.organisations import role_history, staff_managers
from services.platform.clock import now
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType

LIFETIME_HOURS = 168  # the link the approval sends lives 7 days, as the longest invitation
BUSY = "Someone else is inviting or changing the role of this person right now. Please try again."
WAITS = (
    "“{role}” needs a second person's approval: the change waits in Awaiting approval; "
    "{name} keeps “{old}” until it is approved and accepted."
)


async def covered(*, organisation_id: int | None, role: RoleInfo) -> bool:
    """Does a change to this role in this organisation wait for a second person (its approval rules cover it)?"""
    return await approval_rules.needs_approval(organisation_id=organisation_id, role=role)


def waits(*, role: str, name: str, old: str) -> str:
    """What the person who asked for the change is told."""
    return WAITS.format(role=role, name=name, old=old)


async def ask(*, actor: Actor, grant: RoleAssignment, new: RoleInfo) -> None:
    """Write the change as an invitation awaiting approval in one transaction (a pending invitation of the member
    there is replaced, as an invitation replaces it), and audit it; the grant itself does not change."""
    try:
        async with in_transaction() as connection:
            await _write(actor, grant, new, connection)
    except IntegrityError:  # another invitation of the member there was written meanwhile (one pending per place)
        raise InvalidInput(BUSY) from None


async def _write(actor: Actor, grant: RoleAssignment, new: RoleInfo, connection: BaseDBAsyncClient) -> None:
    scope, email = Scope.of(grant), grant.member.email
    pending = Invitation.filter(email=email, scope_key=scope.key, state=InvitationState.PENDING).using_db(connection)
    ids: list[int] = await pending.values_list("id", flat=True)  # type: ignore[assignment]
    await invite_rows.replace_pending(ids, connection)
    at = now()
    _, hashed = tokens.new_link_seed()  # never sent: approving gives it a fresh link (services/approvals/service.py)
    await Invitation.create(
        using_db=connection,
        email=email,
        role_id=new.id,
        level=scope.level.value,
        organisation_id=scope.organisation_id,
        deployment_id=scope.deployment_id,
        scope_key=scope.key,
        invited_by_id=actor.member_id,
        sponsor_id=grant.sponsor_id,
        ends_at=grant.ends_at,
        token_hash=hashed,
        lifetime_hours=LIFETIME_HOURS,
        created_at=at,
        last_sent_at=at,
        expires_at=at + timedelta(hours=LIFETIME_HOURS),
        approval=ApprovalState.AWAITING,
        replaces_grant_id=grant.id,
    )
    detail = {"from": grant.role.name, "to": new.name, "approval": "awaiting"}
    await audit.record(
        actor=actor, action="change_role", scope=scope, target=email, detail=detail, connection=connection
    )


async def drop_for_grant(*, grant_id: int, connection: BaseDBAsyncClient) -> int:
    """Delete the changes waiting for a grant that ends (removed from the team), in its transaction; how many."""
    waiting = Invitation.filter(replaces_grant_id=grant_id, state=InvitationState.PENDING).using_db(connection)
    ids = [int(i) for i in await waiting.values_list("id", flat=True)]  # type: ignore[call-overload]
    await outbox.cancel_queued_of(invitation_ids=ids, connection=connection)
    changes = {"state": InvitationState.DELETED, "deleted_at": now(), **reminders.NO_REMINDER}
    return int(await Invitation.filter(id__in=ids).using_db(connection).update(**changes))


async def ended_meanwhile(*, invitation: Invitation) -> bool:
    """Has the grant this waiting change names ended (its end, a suspension for dormancy, a removal)? Then the
    change is deleted: approving it would send a link that opens nothing."""
    if invitation.replaces_grant_id is None:
        return False
    if await RoleAssignment.filter(live(), id=invitation.replaces_grant_id).exists():
        return False
    async with in_transaction() as connection:
        await drop_for_grant(grant_id=invitation.replaces_grant_id, connection=connection)
    return True


async def take(*, invitation: Invitation, member_id: int, connection: BaseDBAsyncClient) -> None:
    """The accepted change: the grant it names takes the invitation's role, approver and audit event (someone must
    still manage the organisation's staff); LinkInvalid (all rolled back) when that grant has ended meanwhile."""
    member = Actor(member_id, invitation.email, "", ())  # the invitation names the member's own address
    grant = (
        await RoleAssignment.filter(
            live(), id=invitation.replaces_grant_id, member_id=member_id, scope_key=invitation.scope_key
        )
        .using_db(connection)
        .select_related("role")
        .first()
    )
    if grant is None:
        raise LinkInvalid()
    same = RoleAssignment.filter(live(), member_id=member_id, role_id=invitation.role_id, scope_key=grant.scope_key)
    if await same.exclude(id=grant.id).using_db(connection).exists():  # given the new role meanwhile: the old one ends
        ended = {"ended_at": now(), "end_reason": "removed", "ended_by_id": invitation.invited_by_id}
        await RoleAssignment.filter(id=grant.id).using_db(connection).update(**ended)
    else:
        await RoleAssignment.filter(id=grant.id).using_db(connection).update(role_id=invitation.role_id)
        # The grant's own approver stays its first role's; this role's asker and approver go to its role history.
        await role_history.record_change(
            assignment_id=grant.id,
            old=RoleInfo.of(grant.role),
            new=RoleInfo.of(invitation.role),
            changed_by_id=invitation.invited_by_id,
            approved_by_id=invitation.approved_by_id,
            connection=connection,
        )
    if staff_managers.manages_staff(grant):
        await staff_managers.keep_a_staff_manager(grant.organisation_id, connection)
    await webhooks.record(
        connection=connection,
        organisation_id=grant.organisation_id,
        event_type=EventType.MEMBER_ROLE_CHANGED,
        data=[webhooks.grant_data(grant, email=member.email, role_id=invitation.role_id, from_role_id=grant.role_id)],
    )
    detail = {"from": grant.role.name, "to": invitation.role.name, "approval": "accepted"}
    await audit.record(
        actor=member,
        action="change_role",
        scope=Scope.of(grant),
        target=member.email,
        detail=detail,
        connection=connection,
    )
