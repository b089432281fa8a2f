"""GATEHOUSE_DIRECT_PATCHES=on: live patches written straight onto a page's websocket.

Over the installed uvicorn (wsproto), python-engineio and python-socketio, nothing stood in: a real server on a
free port, a real Socket.IO client. When an upgrade changes what components/socket_writer.py relies on, these fail:
keep the switch off (the default) until the writer is brought up to date, or delete it.
"""

import asyncio
import inspect
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import socketio
import uvicorn
from nicegui import core
from nicegui.outbox import Outbox

from components import socket_writer

ROOM = "page-1"
WAIT_SECONDS = 5.0


@dataclass
class Served:
    sio: socketio.AsyncServer
    browser: socketio.AsyncClient
    heard: "asyncio.Queue[dict[str, str]]"

    def connections(self) -> list[Any]:
        """The page's sockets the writer may write onto now (none when it does not recognise them)."""
        found = []
        for _sid, eio_sid in self.sio.manager.get_participants("/", ROOM):
            connection = socket_writer._free(eio_sid)
            if connection is not None:
                found.append(connection)
        return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def served(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Served]:
    sio = socketio.AsyncServer(async_mode="asgi")
    monkeypatch.setattr(core, "sio", sio)

    @sio.event
    async def connect(sid: str, _environ: dict[str, object]) -> None:
        await sio.enter_room(sid, ROOM)

    app = socket_writer._Capture(socketio.ASGIApp(sio, socketio_path=socket_writer.SOCKET_PATH.lstrip("/")))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, port=port, ws="wsproto", lifespan="off", log_level="warning"))
    serving = asyncio.create_task(server.serve())
    browser = socketio.AsyncClient(reconnection=False)
    heard: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    browser.on("run_javascript", heard.put_nowait)
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while not server.started:
                await asyncio.sleep(0.01)
            await browser.connect(
                f"http://127.0.0.1:{port}", socketio_path=socket_writer.SOCKET_PATH, transports=["websocket"]
            )
            while not sio.manager.rooms.get("/", {}).get(ROOM):
                await asyncio.sleep(0.01)
        yield Served(sio, browser, heard)
    finally:
        await browser.disconnect()
        server.should_exit = True
        await serving


async def test_a_patch_written_onto_an_idle_socket_reaches_the_page(served: Served) -> None:
    connections = served.connections()
    assert connections, "the installed uvicorn/Engine.IO no longer look as socket_writer expects"
    before = socket_writer.counts.direct
    socket_writer.write(connections, socket_writer.encoded("run_javascript", {"code": "patch(1)"}))
    async with asyncio.timeout(WAIT_SECONDS):
        assert await served.heard.get() == {"code": "patch(1)"}
    assert socket_writer.counts.direct == before + 1


async def test_a_socket_with_something_queued_or_closed_is_not_written_onto(served: Served) -> None:
    (eio_sid,) = [eio for _, eio in served.sio.manager.get_participants("/", ROOM)]
    queue = served.sio.eio.sockets[eio_sid].queue
    queue.put_nowait(None)  # Engine.IO's own queue holds something for this socket
    try:
        assert served.connections() == []
    finally:
        queue.get_nowait()
    assert served.connections() != []
    await served.browser.disconnect()
    async with asyncio.timeout(WAIT_SECONDS):
        while served.sio.manager.rooms.get("/", {}).get(ROOM):
            await asyncio.sleep(0.01)
    assert served.connections() == []


def test_nicegui_outbox_still_waits_on_the_event_the_writer_reads() -> None:
    loop, init = inspect.getsource(Outbox.loop), inspect.getsource(Outbox.__init__)
    assert "self._enqueue_event.wait()" in loop, "NiceGUI's outbox loop changed: review socket_writer._outbox_idle"
    assert all(f"self.{name}" in init for name in ("updates", "messages", "_enqueue_event"))
