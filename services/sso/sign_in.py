"""Accepting an invitation and logging in through an organisation's provider: the provider must assert the address,
verified; an address with an account is that account (never a second one); where the person's roles need a second
factor and the provider asserted none, Gatehouse's own comes first (services/sso/factor_step.py); the session it opens
is bounded by the ID token where the organisation requires single sign-on, and remembered so that the provider can end
it."""

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from models import Invitation, RoleAssignment, SsoConnection, SsoIdentity, SsoSession, StaffMember
from services.access import auth, factor_login, factors, second_factor, tokens
from services.access.liveness import live
from services.access.service import RoleInfo
from services.access.totp import TotpProof
from services.audit import service as audit
from services.errors import DomainError, FieldErrors, LinkInvalid
from services.invitations import acceptance, acceptance_steps, vouched
from services.platform.clock import now
from services.sso import connections, factor_step, flows
from services.sso.factor_step import FactorNeeded
from services.sso.flows import Proven, SignInFailed

# What the log-in page says after a sign-in that failed (by reason; anything else: FAILED).
FAILED = "Single sign-on did not work this time. Please try again, or ask your administrator."
PROBLEMS = flows.MESSAGES | {"LinkInvalid": str(LinkInvalid()), "NotFound": flows.NO_SSO}


@dataclass(frozen=True)
class SignedIn:
    session_token: str
    max_age_seconds: int
    redirect_to: str


async def start_acceptance(*, token: str, client: str) -> flows.Started:
    """Begin accepting an invitation through its organisation's provider (the link is checked, not spent)."""
    invitation = await acceptance.preview(token=token, client=client)
    if invitation.single_sign_on is None:
        raise SignInFailed("no_sso")
    return await flows.start(
        organisation_id=invitation.single_sign_on.organisation_id, invitation_token_hash=tokens.hash_token(token)
    )


async def start_login(*, organisation_id: int, redirect_to: str = "/") -> flows.Started:
    """Begin logging in through the organisation's provider."""
    return await flows.start(organisation_id=organisation_id, redirect_to=redirect_to)


async def complete(*, state: str, code: str, browser_token: str, error: str = "") -> SignedIn | FactorNeeded:
    """The provider's callback: check everything, accept or log in, and open a session, or first hold the sign-in at
    Gatehouse's own second factor when the member needs one and the provider asserted none (all audited)."""
    try:
        proven = await flows.finish(state=state, code=code, browser_token=browser_token, error=error)
    except SignInFailed as problem:
        await _refused(problem, target="", organisation_id=None)
        raise
    connection = await SsoConnection.get(organisation_id=proven.organisation_id)
    ends_by = proven.expires_at if connection.required else None
    try:
        if proven.invitation_token_hash and not proven.mfa and await _enrols_first(proven):
            await _signed_in(proven, "set up while accepting")
            return await factor_step.begin_acceptance(proven=proven, ends_by=ends_by)
        member_id = await (_accept(proven) if proven.invitation_token_hash else _log_in(proven))
    except DomainError as problem:
        await _refused(problem, target=proven.email, organisation_id=proven.organisation_id)
        raise
    redirect_to = proven.redirect_to if not proven.invitation_token_hash else "/"
    waits = not proven.mfa and await factor_login.needed(member_id=member_id)
    await _signed_in(proven, "asserted by the provider" if proven.mfa else "Gatehouse's own" if waits else "not needed")
    if waits:  # never a session before the factor
        return await factor_step.begin(
            member_id=member_id, organisation_id=proven.organisation_id, subject=proven.subject, sid=proven.sid,
            ends_by=ends_by, redirect_to=redirect_to,
        )  # fmt: skip
    done = await auth.open_session(member_id=member_id, redirect_to=redirect_to, ends_by=ends_by)
    await SsoSession.create(
        session_id=done.session_id, organisation_id=proven.organisation_id, subject=proven.subject, sid=proven.sid
    )
    return SignedIn(done.session_token, done.max_age_seconds, done.redirect_to)


async def accept_with_factor(*, challenge: str, proof: TotpProof) -> list[str]:
    """The invitee the provider vouched for sets up their authenticator app: the account (or their existing one), the
    app, the recovery codes and the grant in one transaction; returns the recovery codes (to show once)."""
    row = await factor_step.accepting(challenge=challenge)
    assert row.invitation_token_hash is not None
    try:
        invitation = await _checked_invitation(row.invitation_token_hash, row.email, row.organisation_id)
        member_id, codes = await _accept_as(invitation, row.email, row.full_name, row.subject, enrolment=proof)
    except DomainError as problem:
        if not isinstance(problem, FieldErrors):  # a mistyped code is said at its field, not audited
            await _refused(problem, target=row.email, organisation_id=row.organisation_id)
        raise
    await factor_step.accepted(row=row, member_id=member_id)
    return codes


async def _enrols_first(proven: Proven) -> bool:
    """Does this acceptance need the invitee to set up a factor first (its role needs one and they have none)?"""
    assert proven.invitation_token_hash is not None
    _check_vouched_address(proven)
    invitation = await _checked_invitation(proven.invitation_token_hash, proven.email, proven.organisation_id)
    role = RoleInfo.of(invitation.role)
    if not await second_factor.required_for_role(role=role, organisation_id=invitation.organisation_id):
        return False
    existing = await StaffMember.get_or_none(email=invitation.email)
    return existing is None or not (await factors.factors_of(member_id=existing.id)).enrolled


async def _accept(proven: Proven) -> int:
    assert proven.invitation_token_hash is not None
    _check_vouched_address(proven)
    invitation = await _checked_invitation(proven.invitation_token_hash, proven.email, proven.organisation_id)
    member_id, _ = await _accept_as(invitation, proven.email, proven.full_name, proven.subject)
    return member_id


def _check_vouched_address(proven: Proven) -> None:
    if not proven.email_verified or not proven.email:
        raise SignInFailed("unverified")


async def _checked_invitation(token_hash: str, email: str, organisation_id: int) -> Invitation:
    invitation = await acceptance_steps.live_invitation(token_hash=token_hash)
    if email != invitation.email:
        raise SignInFailed("other_address")
    existing = await StaffMember.get_or_none(email=invitation.email)
    if existing is not None:
        await _vouched_for_here(existing.id, organisation_id)
    return invitation


async def _accept_as(
    invitation: Invitation, email: str, full_name: str, subject: str, *, enrolment: TotpProof | None = None
) -> tuple[int, list[str]]:
    organisation_id = invitation.organisation_id
    assert organisation_id is not None

    async def link(member_id: int, connection: BaseDBAsyncClient) -> None:
        await _link(organisation_id, subject, member_id, connection)

    return await vouched.accept_vouched(
        token_hash=invitation.token_hash, email=email, full_name=full_name, organisation_id=organisation_id,
        also=link, enrolment=enrolment,
    )  # fmt: skip


async def _log_in(proven: Proven) -> int:
    identity = await SsoIdentity.get_or_none(organisation_id=proven.organisation_id, subject=proven.subject)
    if identity is not None:
        member = await StaffMember.get(id=identity.member_id)
    elif not proven.email_verified or not proven.email:
        raise SignInFailed("unverified")
    else:  # first sign-in of a member who accepted with a password: the verified address is theirs
        member_or_none = await StaffMember.get_or_none(email=proven.email)
        if member_or_none is None:
            raise SignInFailed("not_member")
        member = member_or_none
    if not member.is_active:
        raise SignInFailed("suspended")
    if not await RoleAssignment.filter(live(), member_id=member.id, organisation_id=proven.organisation_id).exists():
        raise SignInFailed("not_member")  # an organisation's provider signs in its own members only
    await _vouched_for_here(member.id, proven.organisation_id)
    if identity is None:
        await _link(proven.organisation_id, proven.subject, member.id, None)
    return member.id


async def _signed_in(proven: Proven, factor: str) -> None:
    detail = {"organisation_id": proven.organisation_id, "second_factor": factor}
    await audit.record(actor=None, action="sso_sign_in", target=proven.email, detail=detail)


async def _vouched_for_here(member_id: int, organisation_id: int) -> None:
    if not await connections.speaks_for(member_id=member_id, organisation_id=organisation_id):
        raise SignInFailed("beyond")


async def _link(organisation_id: int, subject: str, member_id: int, connection: BaseDBAsyncClient | None) -> None:
    """Remember who the provider's subject is here; a subject already linked to someone else is refused."""
    found = await SsoIdentity.filter(organisation_id=organisation_id, subject=subject).using_db(connection).first()
    if found is None:
        await SsoIdentity.create(
            using_db=connection, organisation_id=organisation_id, subject=subject, member_id=member_id, created_at=now()
        )
    elif found.member_id != member_id:
        raise SignInFailed("subject_taken")


async def _refused(problem: DomainError, *, target: str, organisation_id: int | None) -> None:
    reason = problem.reason if isinstance(problem, SignInFailed) else type(problem).__name__
    detail = {"reason": reason, "organisation_id": organisation_id or ""}
    await audit.record(actor=None, action="sso_sign_in", target=target, outcome="refused", detail=detail)
