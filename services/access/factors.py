"""A member's second factors, in one place: which they have, enrolling the first one (an authenticator app or a
passkey) with its recovery codes, verifying a code (an app's code, or a recovery code, which is then spent), and
removing them all.

Passkeys (WebAuthn, services/access/passkeys.py) count as factors: log-in offers them beside the app's code
(factor_login). Codes and passkey answers at log-in are rate-limited per member across processes."""

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient

from models import RecoveryCode, TotpFactor
from services.access import attempts, passkey_enrolment, passkeys, recovery_codes, totp
from services.access.passkey_enrolment import PasskeyProof
from services.errors import FieldErrors

ATTEMPTS, WINDOW_SECONDS = 5, 300
TOO_MANY = "Too many codes were tried for this account. Wait 5 minutes, then try again with a new code."
Proof = totp.TotpProof | PasskeyProof  # what a first factor's enrolment keeps: an app's secret, or a new passkey
NOT_RIGHT = "That code is not right. Enter the 6-digit code from your authenticator app, or one of your recovery codes."


@dataclass(frozen=True)
class MemberFactors:
    totp: bool = False
    recovery_codes_left: int = 0
    passkey: bool = False

    @property
    def enrolled(self) -> bool:
        """Has the member a factor to log in with (recovery codes alone are a way back, not a factor)?"""
        return self.totp or self.passkey


async def factors_of(*, member_id: int) -> MemberFactors:
    """Which second factors the member has."""
    return MemberFactors(
        totp=await TotpFactor.exists(member_id=member_id),
        recovery_codes_left=await recovery_codes.left(member_id=member_id),
        passkey=await passkeys.has_passkey(member_id=member_id),
    )


async def verify(*, member_id: int, code: str) -> str:
    """Check a code the member gave: their app's current code (once) or an unused recovery code (spent now).
    Returns which ("totp" or "recovery_code"); InvalidInput when wrong, RateLimited past ATTEMPTS per window."""
    await count_attempt(member_id=member_id)
    if not totp.clean_code(code):
        raise FieldErrors({"code": "Enter the code from your authenticator app, or one of your recovery codes."})
    if totp.is_code(code):
        if await totp.accept(member_id=member_id, code=code):
            return "totp"
    elif await recovery_codes.spend(member_id=member_id, code=code):
        return "recovery_code"
    raise FieldErrors({"code": NOT_RIGHT})


async def count_attempt(*, member_id: int) -> None:
    """Count one code the member gave (to log in or to enrol); RateLimited past ATTEMPTS per window."""
    await attempts.count(subject=f"factor:{member_id}", limit=ATTEMPTS, window=WINDOW_SECONDS, message=TOO_MANY)


async def enrol_totp(*, member_id: int, proof: totp.TotpProof, connection: BaseDBAsyncClient) -> list[str]:
    """Keep the app's secret its code proved, with fresh recovery codes, in the caller's transaction; returns the
    codes (to show once). InvalidInput when the code does not match the secret."""
    step = totp.proven_step(proof)
    await totp.store(member_id=member_id, secret=proof.secret, step=step, connection=connection)
    codes = recovery_codes.new_codes()
    await recovery_codes.store(member_id=member_id, codes=codes, connection=connection)
    return codes


async def enrol_first(*, member_id: int, proof: Proof, connection: BaseDBAsyncClient) -> list[str]:
    """Keep the member's first factor (the app its code proved, or the passkey its answer made), with fresh recovery
    codes, in the caller's transaction; returns the codes (to show once). Nothing is written when the proof fails."""
    if isinstance(proof, totp.TotpProof):
        return await enrol_totp(member_id=member_id, proof=proof, connection=connection)
    verified = passkey_enrolment.check(proof=proof)
    await passkey_enrolment.keep(member_id=member_id, proof=proof, verified=verified, connection=connection)
    codes = recovery_codes.new_codes()
    await recovery_codes.store(member_id=member_id, codes=codes, connection=connection)
    return codes


def kind_of(proof: Proof) -> str:
    """The factor a proof enrols, as audit events name it."""
    return "totp" if isinstance(proof, totp.TotpProof) else "passkey"


async def remove_all(*, member_id: int, connection: BaseDBAsyncClient) -> int:
    """Remove every second factor of the member (app, passkeys) and their recovery codes; returns how many."""
    removed = await TotpFactor.filter(member_id=member_id).using_db(connection).delete()
    removed += await passkeys.forget_all(member_id=member_id, connection=connection)
    await RecoveryCode.filter(member_id=member_id).using_db(connection).delete()
    return int(removed)
