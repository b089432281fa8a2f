"""Second factors in tests: an authenticator app's codes (each used once, as the service demands), members enrolled
directly, and the log-in step passed as a member's app would."""

from datetime import timedelta

import pyotp
from tortoise.transactions import in_transaction

from models import StaffMember
from services.access import factor_login, factors, totp
from services.access.factor_login import LoginStep
from services.access.totp import TotpProof
from services.errors import FieldErrors
from services.platform import clock
from services.platform.clock import now

_last_step: dict[str, int] = {}  # secret -> the last step a helper made a code for
_secrets: dict[str, str] = {}  # email -> the secret of the app a helper enrolled


def code(secret: str) -> str:
    """The code the app shows now; when now's was used already, the clock moves on to the next step first, as a
    person waits for a new code (each code works once)."""
    app = pyotp.TOTP(secret)
    waited = _last_step.get(secret, 0) + 1 - app.timecode(now())
    if waited > 0:
        clock.advance(timedelta(seconds=waited * app.interval))
    step = app.timecode(now())
    _last_step[secret] = step
    return app.generate_otp(step)


def proof(email: str = "someone@example.org") -> TotpProof:
    """A new app's secret with its first code, as the person's phone would give it; remembered for email."""
    secret = totp.new_enrolment(email=email).secret
    _secrets[email] = secret
    return TotpProof(secret, code(secret))


def secret_of(email: str) -> str:
    return _secrets[email]


async def enrol(email: str) -> list[str]:
    """Give the member an authenticator app (unless they have one); returns the recovery codes."""
    member = await StaffMember.get(email=email)
    if (await factors.factors_of(member_id=member.id)).totp:
        return []
    secret = totp.new_enrolment(email=email).secret
    _secrets[email] = secret
    app = pyotp.TOTP(secret)
    for _ in range(3):  # again only when the clock passed into the next step between making and checking the code
        # confirmed with the code of the step before (one step of drift is allowed): the member's first log-in then
        # uses now's code without moving the clock
        step = app.timecode(now())
        _last_step[secret] = step - 1
        confirming = TotpProof(secret, app.generate_otp(step - 1))
        try:
            async with in_transaction() as connection:
                return await factors.enrol_totp(member_id=member.id, proof=confirming, connection=connection)
        except FieldErrors:
            if app.timecode(now()) == step:  # a wrong code, not the clock passing into the next step meanwhile
                raise
    raise AssertionError("the authenticator app's step kept changing while it was enrolled")


async def ticket(step: LoginStep, email: str) -> str:
    """Pass the log-in step as the member would: enrol an app if asked to, else give its code; returns the ticket."""
    if step.ticket:
        return step.ticket
    if step.enrol:
        await factor_login.enrol(challenge=step.challenge, proof=proof(email))
        return await factor_login.finish_enrolment(challenge=step.challenge)
    return await factor_login.give_code(challenge=step.challenge, code=code(secret_of(email)))
