"""The log-in step between a right password and a session, for members with a second factor or whose roles need
one: no ticket (and so no session) exists until the factor is given, or, for a member who has none yet, enrolled.

The factor given is the app's code, a recovery code, or one of the member's passkeys (give_passkey); a member who
must enrol sets up either an app or a passkey. The challenge's key is 32 random bytes of which only the SHA-256 is
stored; it lives CHALLENGE_LIFETIME and is spent once. Codes and passkey answers count against the member's attempts
in every process (services/access/factors.py)."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tortoise.transactions import in_transaction

from models import FactorChallenge, LoginTicket, StaffMember
from services.access import factors, passkey_enrolment, passkeys, second_factor, tokens
from services.access.factors import Proof
from services.access.passkey_enrolment import PasskeyEnrolment
from services.access.service import Actor
from services.audit import service as audit
from services.errors import DomainError, NotAuthenticated
from services.platform.clock import now

CHALLENGE_LIFETIME = timedelta(minutes=10)
TICKET_LIFETIME = timedelta(seconds=60)
EXPIRED = "That log-in has expired. Please log in again."


@dataclass(frozen=True)
class LoginStep:
    """What follows a right password: a ticket for /auth/complete, or a challenge (give a code, or enrol first)."""

    ticket: str = ""
    challenge: str = ""
    enrol: bool = False  # the member's roles need a factor and they have none: they set one up now
    app: bool = False  # the member has an authenticator app: its code is asked for
    passkey: bool = False  # the member has a passkey: "Use your passkey" is offered


async def after_password(*, member: StaffMember, redirect_to: str) -> LoginStep:
    """The step after the member's right password: a ticket when no factor is needed, else a challenge."""
    held = await factors.factors_of(member_id=member.id)
    if not await needed(member_id=member.id):
        return LoginStep(ticket=await issue_ticket(member_id=member.id, redirect_to=redirect_to))
    raw, hashed = tokens.new_token()
    await FactorChallenge.create(
        challenge_hash=hashed, member_id=member.id, redirect_to=redirect_to, expires_at=now() + CHALLENGE_LIFETIME
    )
    return LoginStep(challenge=raw, enrol=not held.enrolled, app=held.totp, passkey=held.passkey)


async def needed(*, member_id: int) -> bool:
    """Does a log-in of this member pass through the factor step (they hold a factor, or their roles need one)?"""
    held = await factors.factors_of(member_id=member_id)
    return held.enrolled or await second_factor.member_requires(member_id=member_id)


async def give_code(*, challenge: str, code: str) -> str:
    """Check the member's code (or recovery code) and spend the challenge; returns the log-in ticket."""
    row = await _live(challenge)
    member = await StaffMember.get(id=row.member_id)
    actor = Actor(member.id, member.email, member.full_name, ())
    try:
        kind = await factors.verify(member_id=member.id, code=code)
    except DomainError:
        await audit.record(actor=actor, action="second_factor", outcome="refused", target=member.email)
        raise
    if not await _spend(row):
        raise NotAuthenticated(EXPIRED)
    if kind == "recovery_code":
        left = await factors.factors_of(member_id=member.id)
        detail = {"recovery_codes_left": left.recovery_codes_left}
        await audit.record(actor=actor, action="recovery_code_used", target=member.email, detail=detail)
    return await issue_ticket(member_id=member.id, redirect_to=row.redirect_to)


async def passkey_options(*, challenge: str) -> str:
    """The JSON options for navigator.credentials.get: the challenge's member's passkeys (passkeys.py)."""
    row = await _live(challenge)
    return await passkeys.authentication_options(member_id=row.member_id)


async def give_passkey(*, challenge: str, answer: Mapping[str, Any]) -> str:
    """Check the browser's answer to passkey_options (one of the challenge's member's passkeys signed it) and spend
    the challenge; returns the log-in ticket, as a right code does. Counts as an attempt; refusals audited."""
    row = await _live(challenge)
    member = await StaffMember.get(id=row.member_id)
    try:
        if not answer.get("error"):  # a ceremony the person cancelled tried nothing
            await factors.count_attempt(member_id=member.id)
        await passkeys.finish_authentication(member_id=member.id, answer=answer)
    except DomainError:
        actor = Actor(member.id, member.email, member.full_name, ())
        detail = {"kind": "passkey"}
        await audit.record(actor=actor, action="second_factor", outcome="refused", target=member.email, detail=detail)
        raise
    if not await _spend(row):
        raise NotAuthenticated(EXPIRED)
    return await issue_ticket(member_id=member.id, redirect_to=row.redirect_to)


async def passkey_enrolment_for(*, challenge: str) -> PasskeyEnrolment:
    """A ceremony for the challenge's member's first passkey (enrol() keeps its answer)."""
    row = await _live(challenge)
    member = await StaffMember.get(id=row.member_id)
    return await passkey_enrolment.new_enrolment(email=member.email, full_name=member.full_name, member_id=member.id)


async def enrol(*, challenge: str, proof: Proof) -> list[str]:
    """A member who has no factor yet sets up an authenticator app or a passkey at log-in; returns the recovery codes
    (to show once). The factor, the codes and the challenge's mark are one transaction; finish_enrolment() then logs
    in."""
    row = await _live(challenge)
    member = await StaffMember.get(id=row.member_id)
    await factors.count_attempt(member_id=member.id)
    async with in_transaction() as connection:
        marked = (
            await FactorChallenge.filter(id=row.id, used=False, enrolled_at=None)
            .using_db(connection)
            .update(enrolled_at=now())
        )
        if not marked or (await factors.factors_of(member_id=member.id)).enrolled:
            raise NotAuthenticated(EXPIRED)  # used meanwhile, or a factor was enrolled in another tab
        codes = await factors.enrol_first(member_id=member.id, proof=proof, connection=connection)
        actor = Actor(member.id, member.email, member.full_name, ())
        await audit.record(
            actor=actor, action="enrol_second_factor", target=member.email, detail={"kind": factors.kind_of(proof)},
            connection=connection,
        )  # fmt: skip
    return codes


async def finish_enrolment(*, challenge: str) -> str:
    """After enrolling (and seeing the recovery codes), spend the challenge; returns the log-in ticket."""
    row = await _live(challenge)
    if row.enrolled_at is None or not await _spend(row):
        raise NotAuthenticated(EXPIRED)
    return await issue_ticket(member_id=row.member_id, redirect_to=row.redirect_to)


async def email_of(*, challenge: str) -> str:
    """The address the challenge is for (the enrolment screen names it in the app)."""
    row = await _live(challenge)
    return str((await StaffMember.get(id=row.member_id)).email)


async def issue_ticket(*, member_id: int, redirect_to: str) -> str:
    """A one-time ticket that /auth/complete turns into a session (services/access/auth.complete_login)."""
    raw, hashed = tokens.new_token()
    await LoginTicket.create(
        ticket_hash=hashed, member_id=member_id, redirect_to=redirect_to, expires_at=now() + TICKET_LIFETIME
    )
    return raw


async def _live(challenge: str) -> FactorChallenge:
    if not challenge or len(challenge) > 100:
        raise NotAuthenticated(EXPIRED)
    row = await FactorChallenge.get_or_none(challenge_hash=tokens.hash_token(challenge), used=False)
    if row is None or row.expires_at <= now():
        raise NotAuthenticated(EXPIRED)
    if not await StaffMember.exists(id=row.member_id, is_active=True):
        raise NotAuthenticated(EXPIRED)
    return row


async def _spend(row: FactorChallenge) -> bool:
    return bool(await FactorChallenge.filter(id=row.id, used=False).update(used=True))
