"""Secrets Gatehouse must read back (an authenticator app's shared secret), sealed at rest with AES-256-GCM under a
key derived from GATEHOUSE_SECRET. A copy of the database alone yields nothing usable; each sealed value is bound to
its purpose and row (associated data), so a value copied to another member's row does not open."""

import base64
import functools
import hmac
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.platform import settings

VERSION = "v1"
NONCE_BYTES = 12


class Unreadable(Exception):
    """Sealed under another GATEHOUSE_SECRET, or altered."""


def seal(plain: str, *, bound_to: str) -> str:
    """The text sealed for storage: "v1:" and the base64 of a random nonce and the ciphertext with its tag."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _cipher(settings.current().secret).encrypt(nonce, plain.encode("utf-8"), bound_to.encode("utf-8"))
    return f"{VERSION}:" + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def unseal(stored: str, *, bound_to: str) -> str:
    """The plain text of a sealed value; Unreadable when the secret changed or the value was altered or moved."""
    version, _, body = stored.partition(":")
    if version != VERSION:
        raise Unreadable()
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
        plain = _cipher(settings.current().secret).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode())
    except (InvalidTag, ValueError):
        raise Unreadable() from None
    return plain.decode("utf-8")


@functools.lru_cache(maxsize=4)
def _cipher(secret: str) -> AESGCM:
    # A key of its own, so that no other use of GATEHOUSE_SECRET (links, sessions) shares it.
    return AESGCM(hmac.digest(secret.encode("utf-8"), b"gatehouse/sealed-secrets/v1", "sha256"))
