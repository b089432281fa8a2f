"""Fixtures of the security tests: a frozen clock, and fresh rate limits and session listeners for every test."""

from datetime import datetime

import pytest

from services.access import sessions
from services.platform import clock
from tests.security.helpers import FROZEN_AT, reset_limits


@pytest.fixture(autouse=True)
def fresh_limits() -> None:
    reset_limits()
    sessions.reset()


class _FrozenDatetime(datetime):
    @classmethod
    def now(cls, tz: object = None) -> "datetime":  # type: ignore[override]
        return FROZEN_AT


@pytest.fixture
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Stop the service clock at a whole second; clock.advance still moves it (to the microsecond)."""
    monkeypatch.setattr(clock, "datetime", _FrozenDatetime)
    return clock.now()
