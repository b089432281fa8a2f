"""Approving or declining invitations that wait for a second person (rules.py decides which wait).

The approver must hold *approve invitations* there and be allowed to hand out the role there, and is neither the
inviter nor the invitee. Approving sends the invitation: a fresh link, its expiry counted from now, its reminder
planned, the email written to the outbox in the same transaction. Declining deletes it with the reason; no email
ever leaves for it. Either way the inviter is told by email and sees it in *Recently decided* (queue.py), and both are
audited.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from models import ApprovalState, DeliveryState, Invitation, InvitationState, MessageKind, Permission
from services.access import service as access
from services.access import tokens
from services.access.service import Actor, RoleInfo, Scope
from services.approvals import role_changes
from services.audit import service as audit
from services.errors import FieldErrors
from services.invitations import reminders
from services.mail import outbox
from services.organisations import service as organisations
from services.platform import events
from services.platform.clock import now
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType

REASON_LENGTH = 500
NO_LONGER = "no longer awaiting approval"


@dataclass
class Decided:
    done: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def may_approve(actor: Actor, *, role: RoleInfo, scope: Scope, invited_by_id: int | None, email: str) -> bool:
    """Whether the actor may approve (or decline) this invitation: holds *approve invitations* there, may hand out
    the role there, and is neither its inviter nor its invitee."""
    return (
        access.has_permission(actor, Permission.APPROVE_INVITATIONS, scope)
        and access.can_grant(actor, role, scope)
        and actor.member_id != invited_by_id
        and actor.email.lower() != email.lower()
    )


async def approve(*, actor: Actor, invitation_ids: list[int]) -> Decided:
    """Approve and send each invitation awaiting approval; refusals raise (audited), others are reported."""
    result = Decided()
    for invitation in await _awaiting(invitation_ids, result):
        await _require(actor, invitation, "approve")
        if invitation.ends_at is not None and invitation.ends_at <= now():
            result.skipped.append((invitation.email, "the access it gives has already ended"))
        elif await role_changes.ended_meanwhile(invitation=invitation):
            result.skipped.append((invitation.email, "the role it would change has ended meanwhile: it was deleted"))
        elif await _send(actor, invitation):
            result.done.append(invitation.email)
        else:
            result.skipped.append((invitation.email, NO_LONGER))
    if result.done:
        outbox.mail_committed()
    return result


async def decline(*, actor: Actor, invitation_ids: list[int], reason: str) -> Decided:
    """Decline each invitation awaiting approval, with the reason: it is deleted and no email leaves for it."""
    reason = audit.one_line(reason or "").strip()
    if not reason:
        raise FieldErrors({"reason": "Say why, for the inviter and the audit log."})
    if len(reason) > REASON_LENGTH:
        raise FieldErrors({"reason": f"Keep the reason under {REASON_LENGTH} characters."})
    result = Decided()
    for invitation in await _awaiting(invitation_ids, result):
        await _require(actor, invitation, "decline")
        scope = Scope.of(invitation)
        async with in_transaction() as connection:
            won = (
                await _waiting(invitation)
                .using_db(connection)
                .update(
                    state=InvitationState.DELETED,
                    deleted_at=now(),
                    approval=ApprovalState.DECLINED,
                    approved_by_id=actor.member_id,
                    approval_reason=reason,
                    approval_decided_at=now(),
                    **reminders.NO_REMINDER,
                )
            )
            if won:
                await _tell_inviter(invitation, actor, "declined", reason, connection)
                detail = {"role": invitation.role.name, "reason": reason}
                await audit.record(
                    actor=actor,
                    action="decline",
                    scope=scope,
                    target=invitation.email,
                    detail=detail,
                    connection=connection,
                )
        (result.done.append(invitation.email) if won else result.skipped.append((invitation.email, NO_LONGER)))
        await events.publish(organisation_id=scope.organisation_id, kind="invitations")
    return result


async def _awaiting(invitation_ids: list[int], result: Decided) -> list[Invitation]:
    found = await Invitation.filter(id__in=invitation_ids).select_related("role", "sponsor", "invited_by")
    waiting = []
    for invitation in found:
        if invitation.state == InvitationState.PENDING and invitation.approval == ApprovalState.AWAITING:
            waiting.append(invitation)
        else:
            result.skipped.append((invitation.email, NO_LONGER))
    return waiting


async def _require(actor: Actor, invitation: Invitation, action: str) -> None:
    role, scope = RoleInfo.of(invitation.role), Scope.of(invitation)
    if may_approve(actor, role=role, scope=scope, invited_by_id=invitation.invited_by_id, email=invitation.email):
        return
    detail = {"role": role.name}
    await audit.record(
        actor=actor, action=action, scope=scope, target=invitation.email, outcome="refused", detail=detail
    )
    if actor.member_id == invitation.invited_by_id:
        access.require(False, "You sent this invitation: a second person must approve it.")
    if actor.email.lower() == invitation.email.lower():
        access.require(False, "Nobody approves an invitation to themselves.")
    access.require(False, f"You need *approve invitations* and the right to hand out “{role.name}” there.")


def _waiting(invitation: Invitation) -> QuerySet[Invitation]:
    return Invitation.filter(id=invitation.id, state=InvitationState.PENDING, approval=ApprovalState.AWAITING)


async def _send(actor: Actor, invitation: Invitation) -> bool:
    """The approved invitation's link and email, in one transaction; False if someone decided it first."""
    scope = Scope.of(invitation)
    at = now()
    seed, hashed = tokens.new_link_seed()
    expires = at + timedelta(hours=invitation.lifetime_hours)
    wanted = await reminders.wanted_in(organisation_id=scope.organisation_id)
    remind_at = reminders.due_at(lifetime_hours=invitation.lifetime_hours, expires_at=expires, wanted=wanted)
    async with in_transaction() as connection:
        won = (
            await _waiting(invitation)
            .using_db(connection)
            .update(
                token_hash=hashed,
                expires_at=expires,
                last_sent_at=at,
                approval=ApprovalState.APPROVED,
                approved_by_id=actor.member_id,
                approval_decided_at=at,
                delivery_state=DeliveryState.QUEUED,
                remind_at=remind_at,
                reminder_seed=seed if remind_at else None,
            )
        )
        if not won:
            return False
        await outbox.enqueue(
            connection=connection,
            kind=MessageKind.INVITATION,
            recipient=invitation.email,
            context=await _invitation_context(invitation, expires.isoformat()),
            link_seed=seed,
            invitation_id=invitation.id,
            organisation_id=scope.organisation_id,
        )
        await webhooks.record(
            connection=connection,
            organisation_id=scope.organisation_id,
            event_type=EventType.INVITATION_SENT,
            data=[webhooks.invitation_data(invitation, expires_at=expires, approved=True)],
        )
        await _tell_inviter(invitation, actor, "approved", "", connection)
        detail = {"role": invitation.role.name}
        await audit.record(
            actor=actor, action="approve", scope=scope, target=invitation.email, detail=detail, connection=connection
        )
    await events.publish(organisation_id=scope.organisation_id, kind="invitations")
    return True


async def _invitation_context(invitation: Invitation, expires_at: str) -> dict[str, str]:
    """The invitation email says who invited (not who approved), as if it had left at once."""
    inviter, sponsor = invitation.invited_by, invitation.sponsor
    return {
        "inviter_name": inviter.full_name if inviter else "Gatehouse",
        "inviter_email": inviter.email if inviter else "",
        "role_name": invitation.role.name,
        "scope_name": await organisations.scope_name(scope=Scope.of(invitation)),
        "expires_at": expires_at,
        "ends_at": invitation.ends_at.isoformat() if invitation.ends_at else "",
        "sponsor_name": sponsor.full_name if sponsor else "",
        "sponsor_is_inviter": "yes" if sponsor and sponsor.id == invitation.invited_by_id else "",
    }


async def _tell_inviter(
    invitation: Invitation, approver: Actor, decision: str, reason: str, connection: BaseDBAsyncClient
) -> None:
    inviter = invitation.invited_by
    if inviter is None or not inviter.is_active:
        return
    context = {
        "decision": decision,
        "member_name": invitation.email,
        "role_name": invitation.role.name,
        "scope_name": await organisations.scope_name(scope=Scope.of(invitation)),
        "approver_name": approver.full_name or approver.email,
        "reason": reason,
        "path": f"/care?org={invitation.organisation_id}&view=pending",
    }
    await outbox.enqueue(
        connection=connection,
        kind=MessageKind.APPROVAL_OUTCOME,
        recipient=inviter.email,
        context=context,
        link_seed=None,
        invitation_id=None,
        organisation_id=invitation.organisation_id,
    )
