"""The one source of the current time, so tests can move it."""

from datetime import UTC, datetime, timedelta

_offset = timedelta()


def now() -> datetime:
    return datetime.now(UTC) + _offset


def advance(delta: timedelta) -> None:
    """Move the clock forward (tests only: expiry and rate limits without sleeping)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta()
