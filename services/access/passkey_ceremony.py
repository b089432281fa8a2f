"""What a WebAuthn ceremony needs besides the passkeys themselves: the relying party (from GATEHOUSE_BASE_URL), the
server-side challenges (single use, short-lived, bound to one member and purpose) and reading the browser's answer.

services/access/passkeys.py is the public face; this module keeps it short.
"""

import base64
import hashlib
import hmac
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import webauthn
from webauthn.helpers import base64url_to_bytes, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from models import PasskeyChallenge
from services.errors import InvalidInput
from services.platform import settings
from services.platform.clock import now

RP_NAME = "Gatehouse"
REGISTER, SIGN_IN = "register", "sign_in"
CHALLENGE_LIFETIME = timedelta(minutes=5)
CEREMONY_TIMEOUT_MS = 120_000  # what the browser is told; the challenge outlives it, so a slow finger still counts
PENDING_PER_MEMBER = 4  # open ceremonies per member and purpose (tabs); older ones are dropped as new ones start
EXPIRED = "That passkey request has expired or was already used. Please try again."
FAILED = "Your passkey could not be verified, so nothing was changed. Please try again."
CANCELLED = "The passkey request was cancelled or timed out. Nothing was changed; try again when you are ready."
# What the browser's DOMException names mean to the person at it (the WebAuthn spec's names).
BROWSER_ERRORS = {
    "NotAllowedError": CANCELLED,
    "AbortError": CANCELLED,
    "InvalidStateError": "This device already holds a passkey for your account: use it, or choose another device.",
    "NotSupportedError": "This browser or device cannot make a passkey. Try another browser or security key.",
    "NoAnswer": "Your browser did not answer in time. Nothing was changed; please try again.",
    "Unsupported": "This browser cannot use passkeys. Try a current version of your browser, or another device.",
}
_KNOWN_TRANSPORTS = {transport.value for transport in AuthenticatorTransport}


class CeremonyCancelled(InvalidInput):
    """The person (or their browser) stopped the passkey ceremony: nothing was changed."""


class CeremonyFailed(InvalidInput):
    """The browser's answer could not be verified (expired or spent challenge, wrong site, wrong key)."""


def rp_id() -> str:
    """The relying party id: the base URL's host name (a passkey works only on that site and its subdomains)."""
    return urlsplit(settings.current().base_url).hostname or "localhost"


def origin() -> str:
    """The only origin whose pages may answer a ceremony."""
    return settings.current().base_url


def user_handle(member_id: int) -> bytes:
    """A stable, opaque WebAuthn user id for the member (never their address), derived under GATEHOUSE_SECRET."""
    key = hmac.digest(settings.current().secret.encode("utf-8"), b"gatehouse/passkey-user/v1", "sha256")
    return hmac.digest(key, str(member_id).encode("ascii"), "sha256")


def registration_options(
    *, user_name: str, user_id: bytes, display_name: str, challenge: bytes, kept: list[tuple[str, list[str]]]
) -> str:
    """The JSON options for navigator.credentials.create on this site; kept: the member's passkeys (excluded, so one
    device is not added twice), as (credential id, transports)."""
    options = webauthn.generate_registration_options(
        rp_id=rp_id(),
        rp_name=RP_NAME,
        user_name=user_name,
        user_id=user_id,
        user_display_name=display_name,
        challenge=challenge,
        timeout=CEREMONY_TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.PREFERRED
        ),
        exclude_credentials=[descriptor(str(c), list(t)) for c, t in kept],
    )
    return webauthn.options_to_json(options)


def transports_of(credential: Mapping[str, Any]) -> list[str]:
    """The transports a registration's answer reports (hints for the browser later), at most 8."""
    given = credential.get("response", {}).get("transports") or []
    return [str(t) for t in given if isinstance(t, str)][:8] if isinstance(given, list) else []


def address_handle(email: str) -> bytes:
    """The WebAuthn user id of a newcomer's first passkey, made before their account (and its id) exists: derived
    from the invited address under GATEHOUSE_SECRET, as opaque as user_handle."""
    key = hmac.digest(settings.current().secret.encode("utf-8"), b"gatehouse/passkey-address/v1", "sha256")
    return hmac.digest(key, email.encode("utf-8"), "sha256")


def fresh_challenge() -> bytes:
    """32 random bytes for one ceremony."""
    return secrets.token_bytes(32)


def descriptor(credential_id: str, transports: list[str]) -> PublicKeyCredentialDescriptor:
    known = [AuthenticatorTransport(t) for t in transports if t in _KNOWN_TRANSPORTS]
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(credential_id), transports=known or None)


async def new_challenge(*, member_id: int, purpose: str) -> bytes:
    """A fresh random challenge for the member's next ceremony of this purpose; only its hash is kept."""
    at = now()
    await PasskeyChallenge.filter(expires_at__lte=at).delete()  # the table holds only open ceremonies
    open_ids = (
        await PasskeyChallenge.filter(member_id=member_id, purpose=purpose).order_by("-id").values_list("id", flat=True)
    )
    if stale := list(open_ids)[PENDING_PER_MEMBER - 1 :]:
        await PasskeyChallenge.filter(id__in=stale).delete()
    challenge = fresh_challenge()
    await PasskeyChallenge.create(
        member_id=member_id, purpose=purpose, challenge_hash=_hash(challenge), expires_at=at + CHALLENGE_LIFETIME
    )
    return challenge


async def spend_challenge(*, member_id: int, purpose: str, credential: Mapping[str, Any]) -> bytes:
    """The challenge the answer signed, spent by one conditional delete: only its member, purpose and before it
    expires, and only once in any process. CeremonyFailed otherwise."""
    challenge = _signed_challenge(credential)
    spent = await PasskeyChallenge.filter(
        member_id=member_id, purpose=purpose, challenge_hash=_hash(challenge), expires_at__gt=now()
    ).delete()
    if not spent:
        raise CeremonyFailed(EXPIRED)
    return challenge


async def drop_challenges(*, member_id: int, purpose: str) -> None:
    """Forget the member's open ceremonies of this purpose (the browser said it stopped)."""
    await PasskeyChallenge.filter(member_id=member_id, purpose=purpose).delete()


def credential_of(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The credential in the browser's answer ({"credential": ...} or {"error": name}); CeremonyCancelled for an
    error the browser reported, CeremonyFailed for anything malformed."""
    if not isinstance(answer, Mapping):
        raise CeremonyFailed(FAILED)
    if error := answer.get("error"):
        raise CeremonyCancelled(
            BROWSER_ERRORS.get(str(error), "The passkey request did not complete. Please try again.")
        )
    credential = answer.get("credential")
    if not isinstance(credential, dict) or not isinstance(credential.get("id"), str):
        raise CeremonyFailed(FAILED)
    return credential


def _signed_challenge(credential: Mapping[str, Any]) -> bytes:
    try:
        client_data = base64url_to_bytes(str(credential["response"]["clientDataJSON"]))
        return parse_client_data_json(client_data).challenge
    except (KeyError, TypeError, ValueError, WebAuthnException):
        raise CeremonyFailed(FAILED) from None


def _hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def encode(raw: bytes) -> str:
    """base64url without padding, as WebAuthn writes credential ids."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
