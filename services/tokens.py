"""Secret tokens: 32 random bytes, URL-safe; only their SHA-256 is ever stored."""

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """A fresh (raw token, stored hash) pair."""
    raw = secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
