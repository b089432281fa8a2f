"""Opening and accepting an invitation link: opening spends nothing; one conditional update decides."""

from dataclasses import dataclass, field
from datetime import datetime

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models import Invitation, StaffMember
from services.access import auth, factors, grants, tokens
from services.access.factors import Proof
from services.access.ratelimit import Limiter
from services.access.service import Actor, Scope
from services.audit import service as audit
from services.errors import InvalidInput, LinkInvalid, PermissionDenied, check_fields
from services.invitations import acceptance_steps as steps
from services.organisations import service as organisations
from services.platform import events
from services.sso import connections as sso

HAS_ACCOUNT = "An account already exists for this address: log in to accept the invitation."
SSO_REQUIRED = "This organisation requires single sign-on: accept with Sign in with {name}."
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
    invitation = await steps.live_invitation_of(token)
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
        needs_second_factor=await steps.needs_factor(invitation),
    )


async def check_new_account(*, token: str, full_name: str, password: str, repeat: str, client: str) -> bool:
    """Check the newcomer's name and passwords (FieldErrors at each) before the factor is set up; changes nothing."""
    accept_limiter.hit(client)
    invitation = await steps.live_invitation_of(token)
    return bool(_checked_name(invitation, full_name, password, repeat))


async def accept_new_account(
    *, token: str, full_name: str, password: str, repeat: str, client: str, enrolment: Proof | None = None
) -> AcceptedAccount:
    """Create the account and role assignment from the invitation row, with the first factor (an authenticator app or
    a passkey: enrolment, its proof) and recovery codes when its role needs one, all in one transaction."""
    accept_limiter.hit(client)
    invitation = await steps.live_invitation_of(token)
    await _refuse_if_single_sign_on(invitation)
    name = _checked_name(invitation, full_name, password, repeat)
    password_hash = await auth.hash_password(password)
    needs_factor = await steps.needs_factor(invitation)
    try:
        async with in_transaction() as connection:
            if await StaffMember.filter(email=invitation.email).using_db(connection).exists():
                raise PermissionDenied(HAS_ACCOUNT)
            if needs_factor and enrolment is None:
                raise InvalidInput(NEEDS_FACTOR)
            if not await steps.claim(invitation, tokens.hash_token(token), connection):
                raise LinkInvalid()
            member = await StaffMember.create(
                using_db=connection, email=invitation.email, full_name=name, password_hash=password_hash
            )
            codes = await steps.enrol(member.id, enrolment if needs_factor else None, connection)
            await steps.assign(invitation, member.id, connection)
            actor = Actor(member.id, member.email, member.full_name, ())
            await audit.record(
                actor=actor,
                action="accept",
                scope=Scope.of(invitation),
                target=invitation.email,
                detail=steps.accept_detail(invitation, enrolled=enrolment if codes else None),
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
    invitation = await steps.live_invitation_of(token)
    if not addressed_to(invitation=invitation, actor=actor):
        await audit.record(actor=actor, action="accept", target=invitation.email, outcome="refused")
        raise PermissionDenied("This invitation is for a different address than the one you are logged in with.")
    await _refuse_if_single_sign_on(invitation)
    scope = Scope.of(invitation)
    needs_factor = await steps.needs_factor(invitation) and not await _enrolled(actor.member_id)
    if needs_factor and enrolment is None:
        raise InvalidInput(NEEDS_FACTOR)
    await grants.end_due()  # a grant of the same role whose end came moments ago is ended first, then given anew
    async with in_transaction() as connection:
        if not await steps.claim(invitation, tokens.hash_token(token), connection):
            raise LinkInvalid()
        codes = await steps.enrol(actor.member_id, enrolment if needs_factor else None, connection)
        await steps.grant_to(invitation, actor.member_id, connection)
        await audit.record(
            actor=actor,
            action="accept",
            scope=scope,
            target=invitation.email,
            detail=steps.accept_detail(invitation, enrolled=enrolment if codes else None),
            connection=connection,
        )
    await events.publish(organisation_id=invitation.organisation_id, kind="accepted")
    return AcceptedAccount(invitation.email, invitation.role.name, codes)


async def must_enrol(*, actor: Actor, invitation: InvitationPreview) -> bool:
    """Must the signed-in member set up a second factor to accept (its role needs one and they have none)?"""
    return invitation.needs_second_factor and not await _enrolled(actor.member_id)


async def _enrolled(member_id: int) -> bool:
    return (await factors.factors_of(member_id=member_id)).enrolled


async def _refuse_if_single_sign_on(invitation: Invitation) -> None:
    offer = await sso.offer_for(organisation_id=invitation.organisation_id) if invitation.organisation_id else None
    if offer is not None and offer.required:
        raise PermissionDenied(SSO_REQUIRED.format(name=offer.name))


def _checked_name(invitation: Invitation, full_name: str, password: str, repeat: str) -> str:
    checked = check_fields(
        full_name=lambda: steps.clean_full_name(full_name),
        password=lambda: auth.check_new_password(password=password, repeat=repeat, email=invitation.email),
    )
    return str(checked["full_name"])
