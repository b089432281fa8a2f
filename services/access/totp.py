"""Authenticator apps (TOTP, RFC 6238 with pyotp): a new secret shown as a QR code and as text, a code checked
against it, and each accepted code's time step remembered so that a code works once."""

from dataclasses import dataclass
from datetime import datetime

import pyotp
import segno
from tortoise.backends.base.client import BaseDBAsyncClient

from models import TotpFactor
from services.access import secret_box
from services.errors import FieldErrors
from services.platform.clock import now

ISSUER = "Gatehouse"
DIGITS = 6
DRIFT_STEPS = 1  # a code of the step before or after is accepted too: phones' clocks drift
WRONG_CODE = "That code is not right. Enter the 6-digit code your authenticator app shows now."
USED_CODE = "That code was used already. Wait for your app to show a new code, then enter it."


@dataclass(frozen=True)
class Enrolment:
    """What the person needs to add Gatehouse to their app: the secret, as text and as a QR code."""

    secret: str  # base32, as authenticator apps take it typed in
    uri: str  # otpauth://totp/... (what the QR code holds)
    qr_svg: str  # a data: URI of an SVG image of the QR code

    @property
    def grouped_secret(self) -> str:
        """The secret in groups of four, easier to read aloud and to type."""
        return " ".join(self.secret[i : i + 4] for i in range(0, len(self.secret), 4))


@dataclass(frozen=True)
class TotpProof:
    """A new secret and the code the person's app showed for it: the proof that the app holds the secret."""

    secret: str
    code: str


def new_enrolment(*, email: str) -> Enrolment:
    """A fresh secret for this address, ready to show; nothing is stored until a code confirms it."""
    secret = pyotp.random_base32(32)
    uri = pyotp.TOTP(secret, digits=DIGITS).provisioning_uri(name=email, issuer_name=ISSUER)
    qr_svg = segno.make(uri, error="m").svg_data_uri(scale=5, border=2, title="QR code of your Gatehouse secret")
    return Enrolment(secret, uri, qr_svg)


def clean_code(code: str) -> str:
    """The code as typed, without spaces or dashes."""
    return "".join(ch for ch in (code or "") if ch not in " -\u00a0\t")


def is_code(code: str) -> bool:
    """Does it look like a 6-digit TOTP code (rather than a recovery code)?"""
    clean = clean_code(code)
    return len(clean) == DIGITS and clean.isascii() and clean.isdigit()


def matching_step(*, secret: str, code: str, at: datetime | None = None) -> int | None:
    """The time step whose code this is (within DRIFT_STEPS of now), or None."""
    if not is_code(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS)
    current = totp.timecode(at or now())
    for step in range(current + DRIFT_STEPS, current - DRIFT_STEPS - 1, -1):  # the latest first
        if pyotp.utils.strings_equal(totp.generate_otp(step), clean_code(code)):
            return step
    return None


def proven_step(proof: TotpProof) -> int:
    """The step of the code that confirms a new secret; InvalidInput (at the code's field) when it does not."""
    if not clean_code(proof.code):
        raise FieldErrors({"code": "Enter the 6-digit code your authenticator app shows."})
    step = matching_step(secret=proof.secret, code=proof.code)
    if step is None:
        raise FieldErrors({"code": WRONG_CODE})
    return step


async def store(*, member_id: int, secret: str, step: int, connection: BaseDBAsyncClient) -> None:
    """Keep the member's confirmed secret, sealed, with the step its confirming code used."""
    sealed = secret_box.seal(secret, bound_to=_bound(member_id))
    await TotpFactor.create(
        using_db=connection, member_id=member_id, secret_box=sealed, last_step=step, created_at=now()
    )


async def accept(*, member_id: int, code: str) -> bool:
    """Is this the member's current code, not used before? Accepting it remembers its step (one conditional update,
    so two processes never both accept one code)."""
    factor = await TotpFactor.get_or_none(member_id=member_id)
    if factor is None:
        return False
    try:
        secret = secret_box.unseal(factor.secret_box, bound_to=_bound(member_id))
    except secret_box.Unreadable:  # sealed under another GATEHOUSE_SECRET: recovery codes still work
        return False
    step = matching_step(secret=secret, code=code)
    if step is None:
        return False
    if step <= factor.last_step:
        raise FieldErrors({"code": USED_CODE})
    won = await TotpFactor.filter(id=factor.id, last_step__lt=step).update(last_step=step)
    if not won:
        raise FieldErrors({"code": USED_CODE})
    return True


def _bound(member_id: int) -> str:
    return f"totp:{member_id}"
