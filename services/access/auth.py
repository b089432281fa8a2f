"""Passwords, log-in, sessions: argon2id hashes, one-time log-in tickets, server-side sessions."""

import asyncio
import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from models import LoginTicket, Session, StaffMember
from services.access import factor_login, late_requests, sessions, tokens
from services.access import service as access
from services.access.factor_login import LoginStep
from services.access.ratelimit import Limiter
from services.access.service import Actor
from services.audit import service as audit
from services.errors import FieldErrors, InvalidInput, NotAuthenticated
from services.invitations import addresses as emails
from services.platform import events
from services.platform.clock import now
from services.sso import connections as sso_connections

SESSION_COOKIE = "gatehouse_session"
IDLE_TIMEOUT = timedelta(minutes=30)
ABSOLUTE_TIMEOUT = timedelta(hours=12)
TICKET_LIFETIME = factor_login.TICKET_LIFETIME
LIVE_ACTOR_TTL = timedelta(seconds=60)  # a backstop only: sessions forgets on every relevant change
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
SUSPENDED_LOGIN = "This account is suspended. Platform Support or a Super Admin can restore it."
SUSPENDED_DETAIL = {"reason": "suspended"}
SSO_LOGIN = "Your organisation requires single sign-on: choose Sign in with {name} below."
SSO_DETAIL = {"reason": "single sign-on required"}
WRONG_LOGIN = "That email and password do not match an account."
SECRET_PATHS = ("/accept/", "/auth/")  # their URLs carry a token: never stored, the page passes them on instead

PRODUCTION_HASHER = PasswordHasher()  # argon2id with the library's recommended parameters (RFC 9106, low memory)
login_limiter = Limiter(attempts=10, per_seconds=300)


_hasher = PRODUCTION_HASHER


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    """Verified for an unknown address, so that it takes as long as a known one. Made on first need, not at import:
    a hash takes 0.2 s of CPU, and every process that imports the app (a command, a test worker) would pay it."""
    return hasher.hash("not a real password, only for even timing")


def use_hasher(hasher: PasswordHasher) -> PasswordHasher:
    """Hash new passwords with hasher from now on; returns the one it replaces. The test-only seam:
    tests/conftest.py installs argon2's cheapest parameters around every test. Production never calls it.

    Verifying reads the parameters from the stored hash, so hashes made before a swap still verify.
    """
    global _hasher
    previous, _hasher = _hasher, hasher
    return previous


@dataclass(frozen=True)
class CompletedLogin:
    session_token: str
    redirect_to: str
    max_age_seconds: int
    session_id: int = 0


async def hash_password(password: str) -> str:
    """An argon2id hash, computed off the event loop."""
    return await asyncio.to_thread(_hasher.hash, password)


def check_new_password(*, password: str, repeat: str, email: str) -> None:
    """Refuse weak or mistyped new passwords with a precise message at each field (password, repeat)."""
    found = {"password": _weakness(password, email), "repeat": _mismatch(password, repeat)}
    if problems := {field: message for field, message in found.items() if message}:
        raise FieldErrors(problems)


def _weakness(password: str, email: str) -> str:
    if len(password) < MIN_PASSWORD:
        return f"Choose a password of at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"A password can be at most {MAX_PASSWORD} characters long."
    if password.strip().lower() == email.lower():
        return "Your password must not be your email address."
    return ""


def _mismatch(password: str, repeat: str) -> str:
    if password == repeat:
        return ""
    return "The two passwords are not the same." if repeat else "Enter the password again."


async def login(*, email: str, password: str, redirect_to: str, client: str) -> LoginStep:
    """Check the credentials; the next step is a one-time ticket that /auth/complete turns into a session, or, for
    a member with a second factor or whose roles need one, a challenge (services/access/factor_login.py)."""
    missing = {"email": "Enter your email address", "password": "Enter your password"}
    given = {"email": bool(email.strip()), "password": bool(password)}
    if not all(given.values()):
        raise FieldErrors({field: message for field, message in missing.items() if not given[field]})
    key = emails.canonical(email.strip())
    login_limiter.hit(f"{client}|{key}", "Too many log-in attempts. Please wait a few minutes and try again.")
    usable = key.isprintable() and len(key) <= emails.MAX_LENGTH  # NUL and the like never reach the database
    member = await StaffMember.get_or_none(email=key) if usable else None
    if member is None:
        await _verify(await asyncio.to_thread(_dummy_hash, _hasher), password)
        raise InvalidInput(WRONG_LOGIN)
    if not await _verify(member.password_hash, password):
        actor = Actor(member.id, member.email, member.full_name, ())
        await audit.record(actor=actor, action="login", outcome="refused", target=member.email)
        raise InvalidInput(WRONG_LOGIN)
    if not member.is_active:  # told only to someone who knows the password
        actor = Actor(member.id, member.email, member.full_name, ())
        await audit.record(actor=actor, action="login", outcome="refused", target=member.email, detail=SUSPENDED_DETAIL)
        raise InvalidInput(SUSPENDED_LOGIN)
    if through := await sso_connections.required_names(member_id=member.id):  # told only to someone who knows it
        actor = Actor(member.id, member.email, member.full_name, ())
        await audit.record(actor=actor, action="login", outcome="refused", target=member.email, detail=SSO_DETAIL)
        raise InvalidInput(SSO_LOGIN.format(name=through[0]))
    return await factor_login.after_password(member=member, redirect_to=storable_redirect(redirect_to))


async def complete_login(*, ticket: str) -> CompletedLogin:
    """Spend a log-in ticket and open a brand-new session (the session id is never reused across log-ins)."""
    hashed = tokens.hash_token(ticket)
    row = await LoginTicket.get_or_none(ticket_hash=hashed)
    won = await LoginTicket.filter(ticket_hash=hashed, used=False, expires_at__gt=now()).update(used=True)
    if not won or row is None:
        raise NotAuthenticated("That log-in has expired. Please log in again.")
    if await sso_connections.required_names(member_id=row.member_id):
        # Only their provider signs them in: a ticket its factor step earned opens a session through
        # services/sso/factor_step.complete, bounded and linked for back-channel logout, never here.
        raise NotAuthenticated("That log-in has expired. Please log in again.")
    return await open_session(member_id=row.member_id, redirect_to=row.redirect_to)


async def open_session(*, member_id: int, redirect_to: str = "/", ends_by: datetime | None = None) -> CompletedLogin:
    """A brand-new session for a member whose log-in was proven (a ticket, or an identity provider), ending at
    ABSOLUTE_TIMEOUT or at ends_by if that is sooner."""
    raw, session_hash = tokens.new_token()
    at = now()
    expires_at = min(at + ABSOLUTE_TIMEOUT, ends_by or at + ABSOLUTE_TIMEOUT)
    session = await Session.create(token_hash=session_hash, member_id=member_id, last_seen_at=at, expires_at=expires_at)
    await StaffMember.filter(id=member_id).update(last_login_at=at)  # what Dormant is measured from
    return CompletedLogin(raw, redirect_to, max(int((expires_at - at).total_seconds()), 0), session.id)


async def actor_for(*, session_token: str | None) -> Actor:
    """The signed-in actor with fresh grants, or NotAuthenticated (expired, idle, revoked, unknown)."""
    return await _read_actor(session_token, touch=True)


async def live_actor_for(*, session_token: str | None) -> Actor:
    """For refreshing a read view after a change, never for an action: the actor as remembered for up to
    LIVE_ACTOR_TTL, within the session's idle and absolute limits; else read afresh (without counting as activity).

    Several hundred open pages refresh for one change: reading each session and its grants again was most of
    the work (docs/PERFORMANCE-lists.md, item 4). sessions forgets every remembered actor, in every
    process, on a log-out and on any change that may move grants or members.
    """
    if not session_token:
        raise NotAuthenticated()
    remembered = sessions.recall(tokens.hash_token(session_token))
    if remembered is not None and now() < remembered.until:
        late_requests.note_allowed(remembered.actor)
        return remembered.actor
    return await _read_actor(session_token, touch=False)


async def _read_actor(session_token: str | None, *, touch: bool) -> Actor:
    if not session_token:
        raise NotAuthenticated()
    key = tokens.hash_token(session_token)
    since = sessions.generation()
    session = await Session.get_or_none(token_hash=key).select_related("member")
    at = now()
    if (
        session is None
        or session.revoked_at is not None
        or session.expires_at <= at
        or session.last_seen_at + IDLE_TIMEOUT <= at
        or not session.member.is_active
    ):
        raise NotAuthenticated()
    seen = session.last_seen_at
    if touch and at - seen > timedelta(seconds=30):
        await Session.filter(id=session.id).update(last_seen_at=at)
        seen = at
    member = session.member
    actor = await access.load_actor(member_id=member.id, email=member.email, full_name=member.full_name)
    until = min(at + LIVE_ACTOR_TTL, session.expires_at, seen + IDLE_TIMEOUT, actor.first_end or session.expires_at)
    sessions.remember(key, sessions.Remembered(actor, until), since=since)
    late_requests.note_allowed(actor)
    return actor


async def logout(*, session_token: str | None) -> None:
    """End the session everywhere it is open: refused from now on, and its open pages told to leave."""
    if session_token:
        await Session.filter(token_hash=tokens.hash_token(session_token), revoked_at=None).update(revoked_at=now())
        sessions.session_ended(session_token=session_token)
        await events.publish(organisation_id=None, kind=sessions.SESSION_ENDED)  # other processes forget


def safe_redirect(target: str | None) -> str:
    """Only local paths: never another origin, scheme or protocol-relative URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    if any(ord(char) < 32 for char in target):
        return "/"
    return target


def storable_redirect(target: str | None) -> str:
    """What may be written to the database: a local path that carries no secret (an invitation link does)."""
    path = safe_redirect(target)
    return "/" if path.startswith(SECRET_PATHS) else path


async def _verify(password_hash: str, password: str) -> bool:
    try:
        return await asyncio.to_thread(_hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
