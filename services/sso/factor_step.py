"""A single sign-on that must still pass Gatehouse's own second factor: the member's roles need one (or they hold one)
and the provider did not assert a multi-factor sign-in. No session exists until the factor is given: the sign-in waits
as a FactorChallenge (the same code and enrolment screens as after a password, services/access/factor_login.py) beside
an SsoFactorStep holding what the session will carry (its end, its link for back-channel logout). The challenge's key
travels in a cookie, never in a URL; the log-in ticket the factor earns opens a session only through complete()."""

from dataclasses import dataclass
from datetime import datetime

from models import FactorChallenge, LoginTicket, SsoFactorStep, SsoSession, StaffMember
from services.access import auth, factor_login, tokens
from services.access.factor_login import LoginStep
from services.errors import NotAuthenticated
from services.platform.clock import now

COOKIE = "gatehouse_sso_factor"


@dataclass(frozen=True)
class FactorNeeded:
    """The provider signed the member in; Gatehouse's factor comes next (challenge: for the COOKIE)."""

    challenge: str
    enrol: bool


async def begin(
    *, member_id: int, organisation_id: int, subject: str, sid: str | None, ends_by: datetime | None, redirect_to: str
) -> FactorNeeded:
    """Hold the sign-in at the factor step (the caller checked factor_login.needed)."""
    member = await StaffMember.get(id=member_id)
    step = await factor_login.after_password(member=member, redirect_to=auth.storable_redirect(redirect_to))
    assert step.challenge, "begin() is only called when the member needs the factor step"
    await SsoFactorStep.create(
        challenge_hash=tokens.hash_token(step.challenge),
        organisation_id=organisation_id,
        subject=subject,
        sid=sid,
        ends_by=ends_by,
        enrol=step.enrol,
        expires_at=now() + factor_login.CHALLENGE_LIFETIME,
    )
    return FactorNeeded(step.challenge, step.enrol)


async def waiting(*, challenge: str) -> LoginStep:
    """The factor step a browser's COOKIE names, while it is live (NotAuthenticated otherwise)."""
    row = await _live(challenge)
    return LoginStep(challenge=challenge, enrol=row.enrol)


async def complete(*, challenge: str, ticket: str) -> auth.CompletedLogin:
    """After the factor: spend the ticket it earned and the step (both once), open the session with the provider's end,
    and remember its link so that the provider's back-channel logout ends it."""
    row = await _live(challenge)
    given = await FactorChallenge.get_or_none(challenge_hash=row.challenge_hash, used=True)
    hashed = tokens.hash_token(ticket or "")
    issued = await LoginTicket.get_or_none(ticket_hash=hashed)
    if given is None or issued is None or issued.member_id != given.member_id:
        raise NotAuthenticated(factor_login.EXPIRED)
    if not await SsoFactorStep.filter(id=row.id, used_at=None).update(used_at=now()):
        raise NotAuthenticated(factor_login.EXPIRED)
    if not await LoginTicket.filter(id=issued.id, used=False, expires_at__gt=now()).update(used=True):
        raise NotAuthenticated(factor_login.EXPIRED)
    done = await auth.open_session(member_id=given.member_id, redirect_to=issued.redirect_to, ends_by=row.ends_by)
    await SsoSession.create(
        session_id=done.session_id, organisation_id=row.organisation_id, subject=row.subject, sid=row.sid
    )
    return done


async def _live(challenge: str) -> SsoFactorStep:
    if not challenge or len(challenge) > 100:
        raise NotAuthenticated(factor_login.EXPIRED)
    row = await SsoFactorStep.get_or_none(challenge_hash=tokens.hash_token(challenge), used_at=None)
    if row is None or row.expires_at <= now():
        raise NotAuthenticated(factor_login.EXPIRED)
    return row
