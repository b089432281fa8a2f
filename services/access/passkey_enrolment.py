"""A passkey as a member's first second factor (at log-in, or while accepting an invitation whose role needs one).

Unlike a passkey added on Your security, it is kept only by the transaction that enrols it (with the recovery codes,
and when accepting, with the account and the grant), so a half-done enrolment leaves nothing. Its challenge is held
server-side by the page that runs the ceremony, as an authenticator app's new secret is (services/access/totp.py):
never in the browser, one per ceremony. A newcomer has no account yet: their WebAuthn user id is derived from the
invited address instead of the member id.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import webauthn
from tortoise.backends.base.client import BaseDBAsyncClient
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.registration.verify_registration_response import VerifiedRegistration

from models import Passkey
from services.access import passkey_ceremony as ceremony
from services.access.passkey_ceremony import CeremonyFailed
from services.access.passkeys import ALREADY_ADDED, check_label

FIRST_LABEL = "Passkey 1"


@dataclass(frozen=True)
class PasskeyEnrolment:
    """One ceremony: the options for navigator.credentials.create, and its challenge (kept by the server's page)."""

    options: str
    challenge: bytes = field(repr=False)

    def proof(self, answer: Mapping[str, Any], label: str = "") -> "PasskeyProof":
        """The browser's answer to this ceremony, ready for the transaction that enrols it."""
        return PasskeyProof(self.challenge, answer, label)


@dataclass(frozen=True)
class PasskeyProof:
    """A new passkey's registration answer with the challenge it must have signed: what an enrolment keeps."""

    challenge: bytes = field(repr=False)
    answer: Mapping[str, Any]
    label: str = ""


async def new_enrolment(*, email: str, full_name: str, member_id: int | None) -> PasskeyEnrolment:
    """A fresh ceremony for a first passkey (member_id None: a newcomer, known by the invited address); nothing is
    stored until an enrolment keeps its answer."""
    kept = await Passkey.filter(member_id=member_id).values_list("credential_id", "transports") if member_id else []
    challenge = ceremony.fresh_challenge()
    options = ceremony.registration_options(
        user_name=email,
        user_id=ceremony.user_handle(member_id) if member_id else ceremony.address_handle(email),
        display_name=full_name or email,
        challenge=challenge,
        kept=[(str(c), list(t)) for c, t in kept],
    )
    return PasskeyEnrolment(options, challenge)


def check(*, proof: PasskeyProof) -> VerifiedRegistration:
    """The webauthn library's verdict on the answer (its challenge, this site, a well-formed key), before anything is
    written; CeremonyCancelled or CeremonyFailed otherwise, and FieldErrors for a name too long."""
    check_label(label=proof.label)
    credential = ceremony.credential_of(proof.answer)
    try:
        return webauthn.verify_registration_response(
            credential=credential,
            expected_challenge=proof.challenge,
            expected_rp_id=ceremony.rp_id(),
            expected_origin=ceremony.origin(),
        )
    except (WebAuthnException, KeyError, TypeError, ValueError):
        raise CeremonyFailed(ceremony.FAILED) from None


async def keep(
    *, member_id: int, proof: PasskeyProof, verified: VerifiedRegistration, connection: BaseDBAsyncClient
) -> str:
    """Keep the checked passkey as the member's, in the caller's transaction; returns its name. A credential already
    kept (for anyone) is refused before the write, so the caller's transaction is not broken by it."""
    credential_id = ceremony.encode(verified.credential_id)
    if await Passkey.filter(credential_id=credential_id).using_db(connection).exists():
        raise CeremonyFailed(ALREADY_ADDED)
    label = check_label(label=proof.label) or FIRST_LABEL
    await Passkey.create(
        using_db=connection,
        member_id=member_id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=ceremony.transports_of(proof.answer.get("credential") or {}),
        label=label,
    )
    return label
