"""Secret tokens: 32 random bytes, URL-safe; only their SHA-256 is ever stored, and logs show them redacted."""

import hashlib
import logging
import re
import secrets

# An invitation link's path, and the log-in hand-over's ticket and follow-on target, carry secrets.
_SECRET_IN_URL = re.compile(r"(/accept/|%2Faccept%2F|[?&](?:ticket|next)=)[^\s\"'?&#/]+", re.IGNORECASE)
REDACTED = "[redacted]"
# Request logs, and the database drivers' DEBUG logs of each query with its values (an outbox row holds its link).
URL_LOGGERS = ("uvicorn.access", "uvicorn.error", "nicegui", "fastapi", "tortoise.db_client", "aiosqlite", "asyncpg")


def new_token() -> tuple[str, str]:
    """A fresh (raw token, stored hash) pair."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


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
