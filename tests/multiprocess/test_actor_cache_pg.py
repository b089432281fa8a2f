"""Actors remembered for live refreshes are forgotten when another process announces a log-out over NOTIFY."""

import asyncio
from datetime import timedelta

import asyncpg
import pytest

from services.access import sessions
from services.access.service import Actor
from services.platform import clock, events, events_pg

pytestmark = pytest.mark.multiprocess


async def test_a_log_out_in_another_process_forgets_what_this_one_remembers(postgres_url: str) -> None:
    started = await events_pg.start(database_url=postgres_url)
    other = await asyncpg.connect(postgres_url)  # standing in for the process where the log-out happened
    heard: asyncio.Queue[str] = asyncio.Queue()
    try:
        assert started.connected
        actor = Actor(1, "nurse@trust.org", "Nurse", ())
        since = sessions.generation()
        sessions.remember("session", sessions.Remembered(actor, clock.now() + timedelta(minutes=1)), since=since)
        events.subscribe(organisation_id=events.PLATFORM_TOPIC, handler=heard.put_nowait)
        for kind, kept in (("invitations", True), (sessions.SESSION_ENDED, False)):
            await other.execute("SELECT pg_notify($1, $2)", events_pg.CHANNEL, f"{events.PLATFORM_TOPIC}:{kind}")
            assert await asyncio.wait_for(heard.get(), 5) == kind
            assert (sessions.recall("session") is not None) is kept  # invitations move no one's grants
    finally:
        await other.close()
        await events_pg.stop()
