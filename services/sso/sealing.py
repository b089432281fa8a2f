"""Client secrets at rest: AES-256-GCM under a key derived (HKDF-SHA256) from GATEHOUSE_SECRET, bound to the
organisation: a copy of the database alone reveals no secret, and a sealed secret moved to another row opens nothing."""

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from services.errors import InvalidInput
from services.platform import settings

VERSION = "v1"
UNREADABLE = (
    "The stored client secret can no longer be read (GATEHOUSE_SECRET changed since it was saved): enter it again."
)


def seal(plain: str, *, organisation_id: int) -> str:
    """The secret sealed for this organisation's row ("v1:" and base64 of nonce and ciphertext)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key()).encrypt(nonce, plain.encode("utf-8"), _bound_to(organisation_id))
    return f"{VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"


def unseal(sealed: str, *, organisation_id: int) -> str:
    """The secret as it was typed; InvalidInput when it cannot be opened with today's GATEHOUSE_SECRET."""
    version, _, body = sealed.partition(":")
    try:
        raw = base64.urlsafe_b64decode(body.encode("ascii"))
        if version != VERSION or len(raw) < 13:
            raise ValueError(version)
        plain = AESGCM(_key()).decrypt(raw[:12], raw[12:], _bound_to(organisation_id))
    except (InvalidTag, ValueError):
        raise InvalidInput(UNREADABLE) from None
    return plain.decode("utf-8")


def _key() -> bytes:
    derive = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"gatehouse/sso-client-secret/v1")
    return derive.derive(settings.current().secret.encode("utf-8"))


def _bound_to(organisation_id: int) -> bytes:
    return f"sso_connection.organisation:{organisation_id}".encode("ascii")
