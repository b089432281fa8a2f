"""Secret tokens: 32 random bytes, URL-safe; only their SHA-256 is ever stored, and logs show them redacted.

An emailed link's token is never stored at all, not even while its email waits: the outbox keeps a random seed,
and the token is HMAC-SHA256(seed) under a key derived from GATEHOUSE_SECRET, computed again when the email is
rendered. A copy of the database alone (a backup, a stolen disk, SQLite's freed pages) yields no usable link.
"""

import base64
import functools
import hashlib
import hmac
import logging
import re
import secrets

from services.platform import settings

# An invitation link's path, the log-in hand-over's ticket and follow-on target, and a single sign-on callback's code
# and state carry secrets.
_SECRET_IN_URL = re.compile(r"(/accept/|%2Faccept%2F|[?&](?:ticket|next|code|state)=)[^\s\"'?&#/]+", re.IGNORECASE)
REDACTED = "[redacted]"
# Request logs, and the database drivers' DEBUG logs of each query with its values (an outbox row holds its link).
URL_LOGGERS = ("uvicorn.access", "uvicorn.error", "nicegui", "fastapi", "tortoise.db_client", "aiosqlite", "asyncpg")


def new_token() -> tuple[str, str]:
    """A fresh (raw token, stored hash) pair."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def new_link_seed() -> tuple[str, str]:
    """A fresh (seed to store with the email, hash to store with the invitation) pair for an emailed link."""
    seed = secrets.token_urlsafe(32)
    return seed, hash_token(link_token(seed, secret=settings.current().secret))


def link_token(seed: str, *, secret: str) -> str:
    """The token of an emailed link, derived from its stored seed under GATEHOUSE_SECRET."""
    mac = hmac.digest(_link_key(secret), seed.encode("ascii"), "sha256")
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode("ascii")


@functools.lru_cache(maxsize=4)
def _link_key(secret: str) -> bytes:
    # A key of its own for links, so that no other use of GATEHOUSE_SECRET can ever produce a link token.
    return hmac.digest(secret.encode("utf-8"), b"gatehouse/invitation-link/v1", "sha256")


def redact(text: str) -> str:
    """The text with every token-bearing URL part replaced by [redacted]."""
    return _SECRET_IN_URL.sub(lambda found: found.group(1) + REDACTED, text)


class RedactTokens(logging.Filter):
    """A log filter that rewrites records whose message holds a link token (an access log line, say)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is the logging module's business, not ours
            return True
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def redact_logs(*logger_names: str) -> None:
    """Install the filter on the loggers that write request URLs (idempotent)."""
    for name in logger_names or URL_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactTokens) for existing in logger.filters):
            logger.addFilter(RedactTokens())
