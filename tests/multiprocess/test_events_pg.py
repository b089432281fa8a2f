"""The LISTEN/NOTIFY transport: delivery between sessions, organisation isolation, and reconnection."""

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.platform import events, events_pg

pytestmark = pytest.mark.multiprocess

DELIVERY_TIMEOUT = 5.0


class Heard:
    """Collects the change kinds one subscriber hears, and lets a test wait for one."""

    def __init__(self) -> None:
        self.kinds: list[str] = []
        self._changed = asyncio.Event()

    def __call__(self, kind: str) -> None:
        self.kinds.append(kind)
        self._changed.set()

    async def wait_for(self, kind: str) -> None:
        async def seen() -> None:
            while kind not in self.kinds:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(seen(), DELIVERY_TIMEOUT)


@pytest.fixture
async def transport(postgres_url: str) -> AsyncIterator[events_pg.PgEventTransport]:
    started = await events_pg.start(database_url=postgres_url)
    assert started.connected
    yield started
    await events_pg.stop()


@pytest.fixture
async def other_session(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """Another database session, standing in for another app process."""
    connection = await asyncpg.connect(postgres_url)
    yield connection
    await connection.close()


async def notify(connection: asyncpg.Connection, payload: str) -> None:
    await connection.execute("SELECT pg_notify($1, $2)", events_pg.CHANNEL, payload)


async def test_a_change_published_here_is_heard_once_through_postgres(
    transport: events_pg.PgEventTransport,
) -> None:
    heard = Heard()
    events.subscribe(organisation_id=7, handler=heard)
    platform = Heard()
    events.subscribe(organisation_id=events.PLATFORM_TOPIC, handler=platform)

    await events.publish(organisation_id=7, kind="invitations")
    await heard.wait_for("invitations")
    await platform.wait_for("invitations")
    await notify_and_wait_for_marker(transport, heard)
    assert heard.kinds.count("invitations") == 1, "delivered directly as well as through NOTIFY"


async def notify_and_wait_for_marker(transport: events_pg.PgEventTransport, heard: Heard) -> None:
    """Everything sent before a marker has arrived once the marker has (one session, in order)."""
    await transport.publish(7, "marker")
    await heard.wait_for("marker")


async def test_another_process_reaches_only_the_organisation_it_names(
    transport: events_pg.PgEventTransport, other_session: asyncpg.Connection
) -> None:
    first, second = Heard(), Heard()
    events.subscribe(organisation_id=1, handler=first)
    events.subscribe(organisation_id=2, handler=second)

    await notify(other_session, "2:invitations")
    await notify(other_session, "not a notification")
    await notify(other_session, "2:")
    await notify(other_session, "-1:delivery")
    await notify(other_session, "1:delivery")
    await first.wait_for("delivery")  # sent last from the same session: everything before it has arrived too

    assert second.kinds == ["invitations"]
    assert first.kinds == ["delivery"], "organisation 1 heard another organisation's change"


async def test_after_the_connection_is_killed_delivery_resumes_and_open_lists_resync(
    transport: events_pg.PgEventTransport, other_session: asyncpg.Connection
) -> None:
    heard = Heard()
    events.subscribe(organisation_id=3, handler=heard)
    killed_pid = transport.server_pid
    assert killed_pid is not None

    assert await other_session.fetchval("SELECT pg_terminate_backend($1)", killed_pid)
    await heard.wait_for(events_pg.RESYNC)  # reconnected: lists re-read what they may have missed

    assert transport.connected and transport.reconnects == 1
    assert transport.server_pid != killed_pid
    await notify(other_session, "3:invitations")
    await heard.wait_for("invitations")
    await events.publish(organisation_id=3, kind="accepted")
    await heard.wait_for("accepted")


async def test_changes_published_while_disconnected_still_reach_this_process(
    transport: events_pg.PgEventTransport, other_session: asyncpg.Connection
) -> None:
    heard = Heard()
    events.subscribe(organisation_id=4, handler=heard)
    pid = transport.server_pid
    transport._stopping = True  # keep it down: no reconnection while the test publishes
    assert await other_session.fetchval("SELECT pg_terminate_backend($1)", pid)
    for _ in range(100):  # bounded: the termination is noticed within milliseconds
        if not transport.connected:
            break
        await asyncio.sleep(0.02)
    assert not transport.connected

    await events.publish(organisation_id=4, kind="deleted")
    assert heard.kinds == ["deleted"]
