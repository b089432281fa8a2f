"""Resending invitations: a new link and expiry, the old link dies; limited per invitation."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.transactions import in_transaction

from models import ApprovalState, DeliveryState, Invitation, InvitationState, MessageKind
from services.access import roles, tokens
from services.access.service import Actor, RoleInfo, Scope
from services.audit import service as audit
from services.errors import RateLimited
from services.invitations import reminders
from services.mail import outbox
from services.organisations import service as organisations
from services.platform import events
from services.platform.clock import now
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType

MIN_INTERVAL = timedelta(minutes=1)
MAX_PER_DAY = 5
ACCESS_ENDED = "the access it gives has already ended: invite again with a new end"
AWAITING_APPROVAL = "it awaits a second person's approval: no email leaves before that"


@dataclass
class ResendResult:
    resent: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


async def resend_each(*, actor: Actor, invitation_ids: list[int]) -> ResendResult:
    """Resend every pending invitation the actor may manage; refusals raise, limits are reported per row."""
    result = ResendResult()
    for invitation in await Invitation.filter(id__in=invitation_ids).select_related("role", "sponsor"):
        if invitation.ends_at is not None and invitation.ends_at <= now():
            result.skipped.append((invitation.email, ACCESS_ENDED))
            continue
        if invitation.approval == ApprovalState.AWAITING:
            result.skipped.append((invitation.email, AWAITING_APPROVAL))
            continue
        try:
            if await _resend_one(actor, invitation):
                result.resent.append(invitation.email)
            else:
                result.skipped.append((invitation.email, "no longer pending"))
        except RateLimited as limited:
            result.skipped.append((invitation.email, str(limited)))
    if result.resent:
        outbox.mail_committed()
    return result


async def _resend_one(actor: Actor, invitation: Invitation) -> bool:
    scope, role = Scope.of(invitation), RoleInfo.of(invitation.role)
    refusal = f"You may not manage invitations for the role “{role.name}” there."
    await roles.require_grant(
        actor=actor, role=role, scope=scope, action="resend", target=invitation.email, refusal=refusal
    )
    await organisations.require_active(organisation_id=scope.organisation_id)
    at = now()
    sends_today = _check_limits(invitation, at)
    seed, hashed = tokens.new_link_seed()
    expires = at + timedelta(hours=invitation.lifetime_hours)
    wanted = await reminders.wanted_in(organisation_id=scope.organisation_id)
    remind_at = reminders.due_at(lifetime_hours=invitation.lifetime_hours, expires_at=expires, wanted=wanted)
    async with in_transaction() as connection:
        won = (
            await Invitation.filter(id=invitation.id, state=InvitationState.PENDING, token_hash=invitation.token_hash)
            .using_db(connection)
            .update(
                token_hash=hashed,
                expires_at=expires,
                last_sent_at=at,
                send_count=invitation.send_count + 1,
                sends_today=sends_today,
                delivery_state=DeliveryState.QUEUED,
                delivery_error="",
                # The new link gets its own reminder; the old link's, due or sent, is gone with it.
                remind_at=remind_at,
                reminder_seed=seed if remind_at else None,
                reminded_at=None,
            )
        )
        if not won:
            return False
        await outbox.cancel_queued(invitation_id=invitation.id, connection=connection)
        context = {
            "inviter_name": actor.full_name,
            "inviter_email": actor.email,
            "role_name": role.name,
            "scope_name": await organisations.scope_name(scope=scope),
            "expires_at": expires.isoformat(),
            "ends_at": invitation.ends_at.isoformat() if invitation.ends_at else "",
            "sponsor_name": invitation.sponsor.full_name if invitation.sponsor else "",
            "sponsor_is_inviter": "yes" if invitation.sponsor_id == actor.member_id else "",
        }
        await outbox.enqueue(
            connection=connection,
            kind=MessageKind.INVITATION,
            recipient=invitation.email,
            context=context,
            link_seed=seed,
            invitation_id=invitation.id,
            organisation_id=scope.organisation_id,
        )
        await webhooks.record(
            connection=connection,
            organisation_id=scope.organisation_id,
            event_type=EventType.INVITATION_SENT,
            data=[webhooks.invitation_data(invitation, expires_at=expires, resent=True)],
        )
        await audit.record(actor=actor, action="resend", scope=scope, target=invitation.email, connection=connection)
    await events.publish(organisation_id=scope.organisation_id, kind="invitations")
    return True


def _check_limits(invitation: Invitation, at: datetime) -> int:
    if at - invitation.last_sent_at < MIN_INTERVAL:
        raise RateLimited(f"The invitation to {invitation.email} was sent less than a minute ago.")
    same_day = invitation.last_sent_at.date() == at.date()
    sends_today = invitation.sends_today + 1 if same_day else 1
    if sends_today > MAX_PER_DAY:
        raise RateLimited(f"The invitation to {invitation.email} has been sent {MAX_PER_DAY} times today already.")
    return sends_today
