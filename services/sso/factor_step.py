"""A single sign-on that must still pass Gatehouse's own second factor: the member's roles need one (or they hold one)
and the provider did not assert a multi-factor sign-in. No session exists until the factor is given: a log-in waits
as a FactorChallenge (the same code and enrolment screens as after a password, services/access/factor_login.py), an
acceptance whose invitee has no factor waits for them to set one up (services/sso/sign_in.accept_with_factor: the
account, factor and grant in one transaction). Beside either, an SsoFactorStep holds what the session will carry (its
end, its link for back-channel logout). The step's key travels in a cookie, never in a URL, and opens a session only
through complete(), once."""

import secrets
from dataclasses import dataclass
from datetime import datetime

from models import FactorChallenge, LoginTicket, SsoFactorStep, SsoSession, StaffMember
from services.access import auth, factor_login, factors, tokens
from services.access.factor_login import LoginStep
from services.errors import NotAuthenticated
from services.platform.clock import now
from services.sso.flows import Proven

COOKIE = "gatehouse_sso_factor"


@dataclass(frozen=True)
class FactorNeeded:
    """The provider signed the person in; Gatehouse's factor comes next (challenge: the step's key, for the COOKIE)."""

    challenge: str
    enrol: bool


@dataclass(frozen=True)
class Waiting:
    """A step under way, as its page shows it: a log-in's factor step, or an acceptance's enrolment (accepting_as)."""

    step: LoginStep
    accepting_as: str = ""  # the invitee's address, when accepting


async def begin(
    *, member_id: int, organisation_id: int, subject: str, sid: str | None, ends_by: datetime | None, redirect_to: str
) -> FactorNeeded:
    """Hold a log-in at the factor step (the caller checked factor_login.needed)."""
    member = await StaffMember.get(id=member_id)
    step = await factor_login.after_password(member=member, redirect_to=auth.storable_redirect(redirect_to))
    assert step.challenge, "begin() is only called when the member needs the factor step"
    await SsoFactorStep.create(
        challenge_hash=tokens.hash_token(step.challenge), organisation_id=organisation_id, subject=subject, sid=sid,
        ends_by=ends_by, enrol=step.enrol, member_id=member_id, expires_at=now() + factor_login.CHALLENGE_LIFETIME,
    )  # fmt: skip
    return FactorNeeded(step.challenge, step.enrol)


async def begin_acceptance(*, proven: Proven, ends_by: datetime | None) -> FactorNeeded:
    """Hold an acceptance until its invitee sets up a factor (nothing is accepted yet)."""
    raw = secrets.token_urlsafe(32)
    await SsoFactorStep.create(
        challenge_hash=tokens.hash_token(raw), organisation_id=proven.organisation_id, subject=proven.subject,
        sid=proven.sid, ends_by=ends_by, enrol=True, invitation_token_hash=proven.invitation_token_hash,
        email=proven.email, full_name=proven.full_name, expires_at=now() + factor_login.CHALLENGE_LIFETIME,
    )  # fmt: skip
    return FactorNeeded(raw, enrol=True)


async def waiting(*, challenge: str) -> Waiting:
    """The step a browser's COOKIE names, while it is live (NotAuthenticated otherwise)."""
    row = await _live(challenge)
    if row.invitation_token_hash:
        return Waiting(LoginStep(challenge=challenge, enrol=True), row.email if row.member_id is None else "")
    assert row.member_id is not None
    held = await factors.factors_of(member_id=row.member_id)  # which factors the code step offers
    return Waiting(LoginStep(challenge=challenge, enrol=row.enrol, app=held.totp, passkey=held.passkey))


async def accepting(*, challenge: str) -> SsoFactorStep:
    """The live acceptance a COOKIE names, not accepted yet (NotAuthenticated otherwise)."""
    row = await _live(challenge)
    if row.invitation_token_hash is None or row.member_id is not None:
        raise NotAuthenticated(factor_login.EXPIRED)
    return row


async def accepted(*, row: SsoFactorStep, member_id: int) -> None:
    """The acceptance was made with its factor: complete() may now open the session."""
    await SsoFactorStep.filter(id=row.id, member_id=None).update(member_id=member_id)


async def complete(*, challenge: str, ticket: str = "") -> auth.CompletedLogin:
    """After the factor (a log-in: the ticket it earned; an acceptance: once accepted with it), spend the step and the
    ticket (each once), open the session with the provider's end, and remember its link so that the provider's
    back-channel logout ends it."""
    row = await _live(challenge)
    member_id = await (_accepted_member(row) if row.invitation_token_hash else _factor_given(row, ticket))
    if not await SsoFactorStep.filter(id=row.id, used_at=None).update(used_at=now()):
        raise NotAuthenticated(factor_login.EXPIRED)
    redirect_to = "/" if row.invitation_token_hash else await _spend_ticket(ticket)
    done = await auth.open_session(member_id=member_id, redirect_to=redirect_to, ends_by=row.ends_by)
    await SsoSession.create(
        session_id=done.session_id, organisation_id=row.organisation_id, subject=row.subject, sid=row.sid
    )
    return done


async def _accepted_member(row: SsoFactorStep) -> int:
    if row.member_id is None:
        raise NotAuthenticated(factor_login.EXPIRED)
    return row.member_id


async def _factor_given(row: SsoFactorStep, ticket: str) -> int:
    given = await FactorChallenge.get_or_none(challenge_hash=row.challenge_hash, used=True)
    issued = await LoginTicket.get_or_none(ticket_hash=tokens.hash_token(ticket or ""), used=False)
    if given is None or issued is None or issued.member_id != given.member_id or given.member_id != row.member_id:
        raise NotAuthenticated(factor_login.EXPIRED)
    return given.member_id


async def _spend_ticket(ticket: str) -> str:
    hashed = tokens.hash_token(ticket)
    issued = await LoginTicket.get(ticket_hash=hashed)
    if not await LoginTicket.filter(id=issued.id, used=False, expires_at__gt=now()).update(used=True):
        raise NotAuthenticated(factor_login.EXPIRED)
    return issued.redirect_to


async def _live(challenge: str) -> SsoFactorStep:
    if not challenge or len(challenge) > 100:
        raise NotAuthenticated(factor_login.EXPIRED)
    row = await SsoFactorStep.get_or_none(challenge_hash=tokens.hash_token(challenge), used_at=None)
    if row is None or row.expires_at <= now():
        raise NotAuthenticated(factor_login.EXPIRED)
    return row
