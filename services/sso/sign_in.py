"""Accepting an invitation and logging in through an organisation's provider: the provider must assert the address,
verified; an address with an account is that account (never a second one); the session it opens is bounded by the
ID token where the organisation requires single sign-on, and remembered so that the provider can end it."""

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from models import Invitation, RoleAssignment, SsoConnection, SsoIdentity, SsoSession, StaffMember
from services.access import auth, factor_login, factors, second_factor, tokens
from services.access.liveness import live
from services.access.service import RoleInfo
from services.audit import service as audit
from services.errors import DomainError, LinkInvalid
from services.invitations import acceptance
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
    try:
        member_id = await (_accept(proven) if proven.invitation_token_hash else _log_in(proven))
    except DomainError as problem:
        await _refused(problem, target=proven.email, organisation_id=proven.organisation_id)
        raise
    connection = await SsoConnection.get(organisation_id=proven.organisation_id)
    ends_by = proven.expires_at if connection.required else None
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


async def _accept(proven: Proven) -> int:
    if not proven.email_verified or not proven.email:
        raise SignInFailed("unverified")
    assert proven.invitation_token_hash is not None
    invitation = await acceptance.live_invitation(token_hash=proven.invitation_token_hash)
    if proven.email != invitation.email:
        raise SignInFailed("other_address")
    existing = await StaffMember.get_or_none(email=invitation.email)
    if existing is not None:
        await _vouched_for_here(existing.id, proven.organisation_id)
    if not proven.mfa and await _needs_enrolment(invitation, existing):
        raise SignInFailed("needs_factor")  # the factor is set up before the grant exists: here, not at all

    async def link(member_id: int, connection: BaseDBAsyncClient) -> None:
        await _link(proven, member_id, connection)

    return await acceptance.accept_vouched(
        token_hash=proven.invitation_token_hash,
        email=proven.email,
        full_name=proven.full_name,
        organisation_id=proven.organisation_id,
        also=link,
    )


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
        await _link(proven, member.id, None)
    return member.id


async def _needs_enrolment(invitation: Invitation, existing: StaffMember | None) -> bool:
    role = RoleInfo.of(invitation.role)
    if not await second_factor.required_for_role(role=role, organisation_id=invitation.organisation_id):
        return False
    return existing is None or not (await factors.factors_of(member_id=existing.id)).enrolled


async def _signed_in(proven: Proven, factor: str) -> None:
    detail = {"organisation_id": proven.organisation_id, "second_factor": factor}
    await audit.record(actor=None, action="sso_sign_in", target=proven.email, detail=detail)


async def _vouched_for_here(member_id: int, organisation_id: int) -> None:
    if not await connections.speaks_for(member_id=member_id, organisation_id=organisation_id):
        raise SignInFailed("beyond")


async def _link(proven: Proven, member_id: int, connection: BaseDBAsyncClient | None) -> None:
    """Remember who the provider's subject is here; a subject already linked to someone else is refused."""
    found = (
        await SsoIdentity.filter(organisation_id=proven.organisation_id, subject=proven.subject)
        .using_db(connection)
        .first()
    )
    if found is None:
        await SsoIdentity.create(
            using_db=connection,
            organisation_id=proven.organisation_id,
            subject=proven.subject,
            member_id=member_id,
            created_at=now(),
        )
    elif found.member_id != member_id:
        raise SignInFailed("subject_taken")


async def _refused(problem: DomainError, *, target: str, organisation_id: int | None) -> None:
    reason = problem.reason if isinstance(problem, SignInFailed) else type(problem).__name__
    detail = {"reason": reason, "organisation_id": organisation_id or ""}
    await audit.record(actor=None, action="sso_sign_in", target=target, outcome="refused", detail=detail)
