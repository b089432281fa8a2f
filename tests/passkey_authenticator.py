"""A software WebAuthn authenticator for tests: a real ES256 (P-256) key from `cryptography` signing real client
data and authenticator data, laid out as WebAuthn Level 2 says (attestation "none"), answering the JSON options
the service hands the browser. Nothing of the webauthn library is used to make its answers."""

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, AT = 0x01, 0x04, 0x40  # authenticator data flags: user present, user verified, attested credential data


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    """One authenticator holding one credential once it has registered."""

    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(16))
    counter: int = 0
    user_handle: bytes = b""

    def register(self, options_json: str, *, origin: str) -> dict[str, Any]:
        """The browser's answer to navigator.credentials.create with these options, made on origin."""
        options = json.loads(options_json)
        self.user_handle = unb64url(options["user"]["id"])
        client_data = _client_data("webauthn.create", options["challenge"], origin)
        attested = self._public_key_data()
        auth_data = self._auth_data(options["rp"]["id"], UP | UV | AT) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        response = {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation)}
        return {"credential": self._credential(response | {"transports": ["internal"]})}

    def sign_in(self, options_json: str, *, origin: str, rp_id: str | None = None) -> dict[str, Any]:
        """The browser's answer to navigator.credentials.get with these options: the counter moves on by one."""
        options = json.loads(options_json)
        self.counter += 1
        client_data = _client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._auth_data(rp_id or options["rpId"], UP | UV)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        response = {
            "clientDataJSON": b64url(client_data),
            "authenticatorData": b64url(auth_data),
            "signature": b64url(signature),
            "userHandle": b64url(self.user_handle),
        }
        return {"credential": self._credential(response)}

    def _auth_data(self, rp_id: str, flags: int) -> bytes:
        return hashlib.sha256(rp_id.encode()).digest() + bytes([flags]) + self.counter.to_bytes(4, "big")

    def _public_key_data(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        cose = {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        length = len(self.credential_id).to_bytes(2, "big")
        return bytes(16) + length + self.credential_id + cbor2.dumps(cose)  # an all-zero AAGUID: no attestation

    def _credential(self, response: dict[str, Any]) -> dict[str, Any]:
        credential_id = b64url(self.credential_id)
        return {
            "id": credential_id,
            "rawId": credential_id,
            "type": "public-key",
            "response": response,
            "clientExtensionResults": {},
        }


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}).encode()
