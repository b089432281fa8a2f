"""The steps every acceptance takes, by password, as a signed-in member or through single sign-on: the link's live
invitation, the one conditional claim that wins, the grant, the first second factor, the audit detail."""

from tortoise.backends.base.client import BaseDBAsyncClient

from models import ApprovalState, Invitation, InvitationState, Organisation, RoleAssignment
from services.access import factors, second_factor, tokens
from services.access.factors import Proof
from services.access.liveness import live
from services.access.service import RoleInfo
from services.approvals import role_changes
from services.errors import InvalidInput, LinkInvalid
from services.invitations import reminders
from services.mail import outbox
from services.platform.clock import now
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType

MAX_NAME = 120


async def live_invitation_of(token: str) -> Invitation:
    """The pending invitation of a link, or LinkInvalid (the same for every bad link)."""
    if not token or len(token) > 100:
        raise LinkInvalid()
    return await live_invitation(token_hash=tokens.hash_token(token))


async def live_invitation(*, token_hash: str) -> Invitation:
    """The pending invitation whose link hashes to token_hash, or LinkInvalid (the same for every bad link)."""
    invitation = await Invitation.get_or_none(
        token_hash=token_hash, state=InvitationState.PENDING, expires_at__gt=now()
    ).select_related("role")
    if invitation is not None and invitation.approval == ApprovalState.AWAITING:
        raise LinkInvalid()  # no link leaves before approval; one that did anyway opens nothing
    if invitation is None or (invitation.ends_at is not None and invitation.ends_at <= now()):
        raise LinkInvalid()  # an invitation whose access has already ended offers nothing
    if (
        invitation.organisation_id is not None
        and await Organisation.filter(id=invitation.organisation_id, archived_at__isnull=False).exists()
    ):
        raise LinkInvalid()
    return invitation


async def claim(invitation: Invitation, token_hash: str, connection: BaseDBAsyncClient) -> bool:
    """The single conditional update that makes exactly one of concurrent acceptances win."""
    won = (
        await Invitation.filter(
            id=invitation.id, token_hash=token_hash, state=InvitationState.PENDING, expires_at__gt=now()
        )
        .exclude(approval=ApprovalState.AWAITING)
        .using_db(connection)
        .update(state=InvitationState.ACCEPTED, accepted_at=now(), **reminders.NO_REMINDER)
    )
    if won:  # a used link is wiped from emails still waiting to leave
        await outbox.cancel_queued(invitation_id=invitation.id, connection=connection)
        await webhooks.record(
            connection=connection,
            organisation_id=invitation.organisation_id,
            event_type=EventType.INVITATION_ACCEPTED,
            data=[webhooks.invitation_data(invitation)],
        )
    return bool(won)


async def grant_to(invitation: Invitation, member_id: int, connection: BaseDBAsyncClient) -> None:
    """An existing account takes the invitation's role (or a later end of the same role it holds already); an approved
    role change changes the grant it names instead (services/approvals/role_changes.py)."""
    if invitation.replaces_grant_id is not None:
        await role_changes.take(invitation=invitation, member_id=member_id, connection=connection)
        return
    held = (
        await RoleAssignment.filter(
            live(), member_id=member_id, role_id=invitation.role_id, scope_key=invitation.scope_key
        )
        .using_db(connection)
        .first()
    )
    if held is None:
        await assign(invitation, member_id, connection)
    elif held.ends_at is not None and (invitation.ends_at is None or invitation.ends_at > held.ends_at):
        # The same role held until an earlier end: the invitation's later end (or none) wins, with its sponsor.
        changes = {"ends_at": invitation.ends_at, "sponsor_id": invitation.sponsor_id}
        await RoleAssignment.filter(id=held.id).using_db(connection).update(**changes)


async def assign(invitation: Invitation, member_id: int, connection: BaseDBAsyncClient) -> None:
    """The invitation's role, end and sponsor given to the member (a new grant)."""
    await RoleAssignment.create(
        using_db=connection,
        member_id=member_id,
        role_id=invitation.role_id,
        level=invitation.level,
        organisation_id=invitation.organisation_id,
        deployment_id=invitation.deployment_id,
        scope_key=invitation.scope_key,
        granted_by_id=invitation.invited_by_id,
        sponsor_id=invitation.sponsor_id,
        ends_at=invitation.ends_at,
        approved_by_id=invitation.approved_by_id,
    )


def accept_detail(invitation: Invitation, *, enrolled: Proof | None) -> dict[str, str]:
    """What the audit event of an acceptance records: the role, the end, a factor set up with it."""
    ends = {"ends_at": invitation.ends_at.isoformat()} if invitation.ends_at else {}
    factor = {"second_factor": f"{factors.kind_of(enrolled)} enrolled"} if enrolled else {}
    return {"role": invitation.role.name, **ends, **factor}


async def needs_factor(invitation: Invitation) -> bool:
    """Does the invitation's role need a second factor where it is given (services/access/second_factor.py)?"""
    role = RoleInfo.of(invitation.role)
    return await second_factor.required_for_role(role=role, organisation_id=invitation.organisation_id)


async def enrol(member_id: int, enrolment: Proof | None, connection: BaseDBAsyncClient) -> list[str]:
    """Set up the member's first factor in the acceptance's transaction; returns its recovery codes (none: none)."""
    if enrolment is None:
        return []
    return await factors.enrol_first(member_id=member_id, proof=enrolment, connection=connection)


def clean_full_name(full_name: str) -> str:
    """The name as typed, spaces folded, refused (InvalidInput) when empty, too long or holding invisible characters."""
    name = " ".join((full_name or "").split())
    if not name:
        raise InvalidInput("Enter your full name.")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"A name can be at most {MAX_NAME} characters long.")
    if not name.isprintable():  # control, format (bidi overrides, zero-width) and separator characters
        raise InvalidInput("A name cannot contain control or invisible characters.")
    return name
