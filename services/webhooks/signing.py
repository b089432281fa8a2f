"""Standard Webhooks signatures (https://www.standardwebhooks.com): HMAC-SHA256 of "id.timestamp.body" with the
secret's bytes, sent as `webhook-signature: v1,<base64>` beside `webhook-id` and `webhook-timestamp`."""

import base64
import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"  # noqa: S105  the prefix Standard Webhooks gives secrets, not a secret
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh endpoint secret: "whsec_" and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """The webhook-signature header's value for one attempt."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(*, secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    """The headers of one signed POST."""
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature(secret=secret, msg_id=msg_id, timestamp=timestamp, body=body),
    }
