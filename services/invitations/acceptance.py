"""Opening and accepting an invitation link: opening spends nothing; one conditional update decides."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import ApprovalState, Invitation, InvitationState, Organisation, RoleAssignment, StaffMember
from services.access import auth, factors, grants, second_factor, tokens
from services.access.factors import Proof
from services.access.liveness import live
from services.access.ratelimit import Limiter
from services.access.service import Actor, RoleInfo, Scope
from services.audit import service as audit
from services.errors import InvalidInput, LinkInvalid, PermissionDenied, check_fields
from services.invitations import reminders
from services.mail import outbox
from services.organisations import service as organisations
from services.platform import events
from services.platform.clock import now
from services.sso import connections as sso
from services.webhooks import outbox as webhooks
from services.webhooks.outbox import EventType

MAX_NAME = 120
HAS_ACCOUNT = "An account already exists for this address: log in to accept the invitation."
OTHER_ADDRESS = "Your provider signed you in with another address: this invitation is for {email}."
SSO_REQUIRED = "This organisation requires single sign-on: accept with Sign in with {name}."
NO_PASSWORD = ""  # an account made through single sign-on: no password verifies against it
AlsoInTransaction = Callable[[int, BaseDBAsyncClient], Awaitable[None]]
NEEDS_FACTOR = "This role needs a second factor: set up a passkey or an authenticator app to accept the invitation."
accept_limiter = Limiter(attempts=20, per_seconds=60)


@dataclass(frozen=True)
class InvitationPreview:
    email: str
    role_name: str
    scope_name: str
    inviter_name: str
    expires_at: datetime
    has_account: bool
    ends_at: datetime | None = None  # when the access ends (None: it does not)
    sponsor_name: str = ""  # who is accountable for it
    single_sign_on: sso.Offer | None = None  # the organisation's provider, when it connected one
    needs_second_factor: bool = False  # its role needs one (services/access/second_factor.py)


@dataclass(frozen=True)
class AcceptedAccount:
    email: str  # to log in with
    role_name: str
    recovery_codes: list[str] = field(default_factory=list)  # when a factor was enrolled: shown once, never again


def addressed_to(*, invitation: "InvitationPreview | Invitation", actor: Actor) -> bool:
    """Is the signed-in actor the person the invitation names? Only they may accept it (accept_as_member)."""
    return invitation.email == actor.email


async def preview(*, token: str, client: str) -> InvitationPreview:
    """What the link offers, without spending it; every bad link gives the same LinkInvalid."""
    accept_limiter.hit(client)
    invitation = await _live_invitation(token)
    inviter = await StaffMember.get_or_none(id=invitation.invited_by_id) if invitation.invited_by_id else None
    sponsor = await StaffMember.get_or_none(id=invitation.sponsor_id) if invitation.sponsor_id else None
    return InvitationPreview(
        email=invitation.email,
        role_name=invitation.role.name,
        scope_name=await organisations.scope_name(scope=Scope.of(invitation)),
        inviter_name=inviter.full_name if inviter else "Gatehouse",
        expires_at=invitation.expires_at,
        has_account=await StaffMember.exists(email=invitation.email),
        ends_at=invitation.ends_at,
        sponsor_name=sponsor.full_name if sponsor else "",
        single_sign_on=await sso.offer_for(organisation_id=invitation.organisation_id)
        if invitation.organisation_id
        else None,
        needs_second_factor=await _needs_factor(invitation),
    )


async def check_new_account(*, token: str, full_name: str, password: str, repeat: str, client: str) -> bool:
    """Check the newcomer's name and passwords (FieldErrors at each) before the factor is set up; changes nothing."""
    accept_limiter.hit(client)
    invitation = await _live_invitation(token)
    return bool(_checked_name(invitation, full_name, password, repeat))


async def accept_new_account(
    *, token: str, full_name: str, password: str, repeat: str, client: str, enrolment: Proof | None = None
) -> AcceptedAccount:
    """Create the account and role assignment from the invitation row, with the first factor (an authenticator app or
    a passkey: enrolment, its proof) and recovery codes when its role needs one, all in one transaction."""
    accept_limiter.hit(client)
    invitation = await _live_invitation(token)
    await _refuse_if_single_sign_on(invitation)
    name = _checked_name(invitation, full_name, password, repeat)
    password_hash = await auth.hash_password(password)
    needs_factor = await _needs_factor(invitation)
    try:
        async with in_transaction() as connection:
            if await StaffMember.filter(email=invitation.email).using_db(connection).exists():
                raise PermissionDenied(HAS_ACCOUNT)
            if needs_factor and enrolment is None:
                raise InvalidInput(NEEDS_FACTOR)
            if not await _claim(invitation, tokens.hash_token(token), connection):
                raise LinkInvalid()
            member = await StaffMember.create(
                using_db=connection, email=invitation.email, full_name=name, password_hash=password_hash
            )
            codes = await _enrol(member.id, enrolment if needs_factor else None, connection)
            await _assign(invitation, member.id, connection)
            actor = Actor(member.id, member.email, member.full_name, ())
            await audit.record(
                actor=actor,
                action="accept",
                scope=Scope.of(invitation),
                target=invitation.email,
                detail=_accept_detail(invitation, enrolled=enrolment if codes else None),
                connection=connection,
            )
    except IntegrityError:
        # Another invitation to the same address created the account a moment ago (both passed the check above);
        # this one rolled back and stays pending, to be accepted by logging in.
        raise PermissionDenied(HAS_ACCOUNT) from None
    await events.publish(organisation_id=invitation.organisation_id, kind="accepted")
    return AcceptedAccount(invitation.email, invitation.role.name, codes)


async def accept_as_member(*, actor: Actor, token: str, client: str, enrolment: Proof | None = None) -> AcceptedAccount:
    """A signed-in member whose address the invitation names takes its role; a member without a second factor whose
    new role needs one enrols it in the same transaction (enrolment). Returns the recovery codes, if any."""
    accept_limiter.hit(client)
    invitation = await _live_invitation(token)
    if not addressed_to(invitation=invitation, actor=actor):
        await audit.record(actor=actor, action="accept", target=invitation.email, outcome="refused")
        raise PermissionDenied("This invitation is for a different address than the one you are logged in with.")
    await _refuse_if_single_sign_on(invitation)
    scope = Scope.of(invitation)
    needs_factor = (
        await _needs_factor(invitation) and not (await factors.factors_of(member_id=actor.member_id)).enrolled
    )
    if needs_factor and enrolment is None:
        raise InvalidInput(NEEDS_FACTOR)
    await grants.end_due()  # a grant of the same role whose end came moments ago is ended first, then given anew
    async with in_transaction() as connection:
        if not await _claim(invitation, tokens.hash_token(token), connection):
            raise LinkInvalid()
        codes = await _enrol(actor.member_id, enrolment if needs_factor else None, connection)
        await _grant_to(invitation, actor.member_id, connection)
        await audit.record(
            actor=actor,
            action="accept",
            scope=scope,
            target=invitation.email,
            detail=_accept_detail(invitation, enrolled=enrolment if codes else None),
            connection=connection,
        )
    await events.publish(organisation_id=invitation.organisation_id, kind="accepted")
    return AcceptedAccount(invitation.email, invitation.role.name, codes)


async def accept_vouched(
    *,
    token_hash: str,
    email: str,
    full_name: str,
    organisation_id: int,
    also: AlsoInTransaction,
    enrolment: Proof | None = None,
) -> tuple[int, list[str]]:
    """Accept for the person the organisation's identity provider vouched for (it asserted this address, verified):
    the account of that address takes the role as itself, else a new account with no password is made; `also` runs
    in the same transaction, as does setting up the authenticator app of enrolment, when given. Returns the member's
    id and the recovery codes (when an app was set up)."""
    invitation = await live_invitation(token_hash=token_hash)
    if invitation.organisation_id != organisation_id:
        raise LinkInvalid()
    if email != invitation.email:
        raise PermissionDenied(OTHER_ADDRESS.format(email=invitation.email))
    name = _clean_full_name(full_name) if full_name.strip() else invitation.email.partition("@")[0]
    await grants.end_due()  # as in accept_as_member: a grant whose end came moments ago is ended, then given anew
    try:
        async with in_transaction() as connection:
            member = await StaffMember.filter(email=invitation.email).using_db(connection).first()
            if member is not None and not member.is_active:
                raise PermissionDenied(auth.SUSPENDED_LOGIN)
            if not await _claim(invitation, token_hash, connection):
                raise LinkInvalid()
            if member is None:
                member = await StaffMember.create(
                    using_db=connection, email=invitation.email, full_name=name, password_hash=NO_PASSWORD
                )
                await _assign(invitation, member.id, connection)
            else:
                await _grant_to(invitation, member.id, connection)
            await also(member.id, connection)
            codes = await _enrol(member.id, enrolment, connection)
            detail = {**_accept_detail(invitation, enrolled=enrolment if codes else None), "via": "single sign-on"}
            actor = Actor(member.id, member.email, member.full_name, ())
            await audit.record(
                actor=actor,
                action="accept",
                scope=Scope.of(invitation),
                target=email,
                detail=detail,
                connection=connection,
            )
    except IntegrityError:  # the same address's account made by another acceptance at this very moment
        raise PermissionDenied(HAS_ACCOUNT) from None
    await events.publish(organisation_id=invitation.organisation_id, kind="accepted")
    return member.id, codes


async def _refuse_if_single_sign_on(invitation: Invitation) -> None:
    offer = await sso.offer_for(organisation_id=invitation.organisation_id) if invitation.organisation_id else None
    if offer is not None and offer.required:
        raise PermissionDenied(SSO_REQUIRED.format(name=offer.name))


async def _live_invitation(token: str) -> Invitation:
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


async def _claim(invitation: Invitation, token_hash: str, connection: BaseDBAsyncClient) -> bool:
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


async def _grant_to(invitation: Invitation, member_id: int, connection: BaseDBAsyncClient) -> None:
    """An existing account takes the invitation's role (or a later end of the same role it holds already)."""
    held = (
        await RoleAssignment.filter(
            live(), member_id=member_id, role_id=invitation.role_id, scope_key=invitation.scope_key
        )
        .using_db(connection)
        .first()
    )
    if held is None:
        await _assign(invitation, member_id, connection)
    elif held.ends_at is not None and (invitation.ends_at is None or invitation.ends_at > held.ends_at):
        # The same role held until an earlier end: the invitation's later end (or none) wins, with its sponsor.
        changes = {"ends_at": invitation.ends_at, "sponsor_id": invitation.sponsor_id}
        await RoleAssignment.filter(id=held.id).using_db(connection).update(**changes)


async def _assign(invitation: Invitation, member_id: int, connection: BaseDBAsyncClient) -> None:
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


def _accept_detail(invitation: Invitation, *, enrolled: Proof | None) -> dict[str, str]:
    ends = {"ends_at": invitation.ends_at.isoformat()} if invitation.ends_at else {}
    factor = {"second_factor": f"{factors.kind_of(enrolled)} enrolled"} if enrolled else {}
    return {"role": invitation.role.name, **ends, **factor}


def _checked_name(invitation: Invitation, full_name: str, password: str, repeat: str) -> str:
    checked = check_fields(
        full_name=lambda: _clean_full_name(full_name),
        password=lambda: auth.check_new_password(password=password, repeat=repeat, email=invitation.email),
    )
    return str(checked["full_name"])


async def _needs_factor(invitation: Invitation) -> bool:
    role = RoleInfo.of(invitation.role)
    return await second_factor.required_for_role(role=role, organisation_id=invitation.organisation_id)


async def _enrol(member_id: int, enrolment: Proof | None, connection: BaseDBAsyncClient) -> list[str]:
    if enrolment is None:
        return []
    return await factors.enrol_first(member_id=member_id, proof=enrolment, connection=connection)


def _clean_full_name(full_name: str) -> str:
    name = " ".join((full_name or "").split())
    if not name:
        raise InvalidInput("Enter your full name.")
    if len(name) > MAX_NAME:
        raise InvalidInput(f"A name can be at most {MAX_NAME} characters long.")
    if not name.isprintable():  # control, format (bidi overrides, zero-width) and separator characters
        raise InvalidInput("A name cannot contain control or invisible characters.")
    return name
