"""Live updates across processes: PostgreSQL LISTEN/NOTIFY as the transport of services/events.

Each process keeps one dedicated connection that LISTENs on one channel and also sends the NOTIFYs. A change
travels as "topic:kind" (the organisation id, 0 for platform-wide, and a word such as "invitations"): never any
data, so nothing can leak; every page re-reads its lists with its own user's permissions. PostgreSQL hands a
notification to every listening session, this one included, so a process hears its own changes the same way as
the others' and events.publish delivers nothing directly while this transport is installed.

When the connection drops, the transport reconnects with backoff; meanwhile this process's own changes are
delivered directly, and after reconnecting every open list hears "resync" (it may have missed the others').
"""

import asyncio
import logging
import random
import time
from contextlib import suppress
from typing import Any

import asyncpg

from services.platform import events, pg

log = logging.getLogger(__name__)

CHANNEL = "gatehouse_events"
APPLICATION_NAME = "gatehouse-events"
RESYNC = "resync"
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0
PING_SECONDS = 10.0  # a silent network drop shows up at the next ping at the latest
PING_TIMEOUT = 5.0
START_TIMEOUT = 10.0
MAX_KIND = 200


class PgEventTransport:
    """One LISTEN/NOTIFY connection per process, reconnecting until stopped."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.reconnects = 0
        self._connection: asyncpg.Connection | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._listening = False
        self._ready = asyncio.Event()
        self._disconnected_at: float | None = time.monotonic()

    @property
    def connected(self) -> bool:
        """True while the listening connection is open."""
        return self._connection is not None and not self._connection.is_closed()

    @property
    def disconnected_for(self) -> float:
        """Seconds since the connection was lost (0 while connected)."""
        return 0.0 if self.connected or self._disconnected_at is None else time.monotonic() - self._disconnected_at

    @property
    def server_pid(self) -> int | None:
        """The listening session's backend process id (tests terminate it to prove the reconnection)."""
        return self._connection.get_server_pid() if self.connected and self._connection else None

    async def start(self) -> None:
        """Connect (waiting briefly for the first connection), then route events.publish through NOTIFY."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="gatehouse events listener")
        with suppress(TimeoutError):
            await asyncio.wait_for(self._ready.wait(), START_TIMEOUT)
        if not self.connected:
            log.warning("events: not connected to PostgreSQL yet; retrying in the background")
        events.install_remote(self.publish)

    async def stop(self) -> None:
        """Go back to in-process delivery and close the connection."""
        events.install_remote(None)
        self._stopping = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def publish(self, topic: int, kind: str) -> None:
        """NOTIFY every process (this one included); deliver here directly when the connection is down."""
        connection = self._connection
        if connection is None or connection.is_closed():
            events.deliver_local(topic, kind)
            return
        try:
            async with self._lock:
                await connection.execute("SELECT pg_notify($1, $2)", CHANNEL, f"{int(topic)}:{kind[:MAX_KIND]}")
        except Exception as error:  # asyncpg raises several families when a session dies; never fail the caller
            # The change is committed: at least this process's lists hear it; the others resync on reconnect.
            log.warning("events: NOTIFY failed (%s); delivered in this process only", error)
            events.deliver_local(topic, kind)

    async def _run(self) -> None:
        delay = BACKOFF_FIRST
        while not self._stopping:
            self._listening = False
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # whatever breaks the connection, the loop reconnects
                log.warning("events: PostgreSQL connection failed (%s: %s)", type(error).__name__, error)
            if self._stopping:
                break
            if self._listening:  # the connection had worked: the next attempt starts fast again
                delay = BACKOFF_FIRST
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, BACKOFF_MAX)

    async def _listen(self) -> None:
        connection = await pg.connect(self.database_url, application_name=APPLICATION_NAME)
        closed = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: closed.set())
            await connection.add_listener(CHANNEL, self._on_notification)
            self._connection, self._disconnected_at, self._listening = connection, None, True
            if self._ready.is_set():
                self.reconnects += 1
                log.info("events: reconnected to PostgreSQL; open lists resync")
            self._ready.set()
            for topic in events.topics():  # changes made elsewhere while not listening were not heard
                events.deliver_local(topic, RESYNC)
            await self._watch(connection, closed)
        finally:
            self._connection = None
            self._disconnected_at = time.monotonic()
            if not self._stopping:
                log.warning("events: lost the PostgreSQL connection; reconnecting")
            with suppress(Exception):
                await asyncio.wait_for(connection.close(), PING_TIMEOUT)
            connection.terminate()

    async def _watch(self, connection: asyncpg.Connection, closed: asyncio.Event) -> None:
        """Return when the connection closes or stops answering."""
        while not closed.is_set():
            with suppress(TimeoutError):
                await asyncio.wait_for(closed.wait(), PING_SECONDS)
            if closed.is_set() or connection.is_closed():
                return
            async with self._lock:
                await connection.fetchval("SELECT 1", timeout=PING_TIMEOUT)

    def _on_notification(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        topic, separator, kind = payload.partition(":")
        if not separator or not topic.isdigit() or not kind:
            log.warning("events: ignored a malformed notification")
            return
        events.deliver_local(int(topic), kind)


_current: PgEventTransport | None = None


def current() -> PgEventTransport | None:
    """The running transport (for the health check), or None when in-process."""
    return _current


async def start(*, database_url: str) -> PgEventTransport:
    """Install the transport for this process."""
    global _current
    transport = PgEventTransport(database_url)
    await transport.start()
    _current = transport
    return transport


async def stop() -> None:
    """Uninstall the transport and close its connection."""
    global _current
    transport, _current = _current, None
    if transport is not None:
        await transport.stop()
