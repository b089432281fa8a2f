"""Fixtures of the fault tests: those of the security tests, and relays and workers that are always stopped."""

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from services.mail.worker import MailWorker
from tests.faults.smtp_server import ScriptedSmtp
from tests.security.conftest import fresh_limits, frozen_clock  # noqa: F401  shared fixtures
from tests.security.helpers import relay_settings

SHORT_TIMEOUT = 0.3  # seconds per SMTP operation: a relay that hangs is noticed at once


@pytest.fixture
async def relays() -> AsyncIterator[Callable[..., ScriptedSmtp]]:
    """Make scripted relays (started by the test); each is stopped at the end."""
    made: list[ScriptedSmtp] = []

    def make(**behaviour: Any) -> ScriptedSmtp:
        made.append(ScriptedSmtp(**behaviour))
        return made[-1]

    yield make
    for relay in made:
        await relay.stop()


@pytest.fixture
async def workers() -> AsyncIterator[Callable[..., MailWorker]]:
    """Make mail workers for a relay port with a short SMTP timeout; each is stopped at the end."""
    made: list[MailWorker] = []

    def make(port: int, **options: Any) -> MailWorker:
        options.setdefault("smtp_timeout", SHORT_TIMEOUT)
        made.append(MailWorker(relay_settings(port), **options))
        return made[-1]

    yield make
    for worker in made:
        await worker.stop()
