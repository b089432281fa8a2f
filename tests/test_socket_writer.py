"""Live patches straight onto a page's websocket: only where nothing else is on its way to that page.

The real stack (uvicorn's wsproto protocol, Engine.IO, NiceGUI, Chromium's compressed frames) is covered by
tests/browser/test_care_portal.py, which reads /healthz's count of patches written this way.
"""

import asyncio
import json
from collections.abc import MutableMapping
from types import SimpleNamespace
from typing import Any

import pytest
from nicegui import core
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, Request, TextMessage

from components import socket_writer

MESSAGE = socket_writer.SCOPE_KEY  # any text will do


class _Transport:
    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closing = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closing


def _open_connection() -> tuple[WSConnection, WSConnection]:
    """A server-side wsproto connection past its handshake, as uvicorn holds one, and its browser's side."""
    server, browser = WSConnection(ConnectionType.SERVER), WSConnection(ConnectionType.CLIENT)
    server.receive_data(browser.send(Request(host="localhost", target="/")))
    next(server.events())
    browser.receive_data(server.send(AcceptConnection()))
    next(browser.events())
    return server, browser


def _protocol(conn: WSConnection) -> SimpleNamespace:
    writable = asyncio.Event()
    writable.set()
    return SimpleNamespace(
        conn=conn, transport=_Transport(), writable=writable, handshake_complete=True, close_sent=False,
        disconnected=False, response_started=False,
    )  # fmt: skip


class _Page:
    """A page with one socket, everything idle: its outbox loop waits for work, its socket queue is empty."""

    def __init__(self, client_id: str) -> None:
        self.id = client_id
        event = asyncio.Event()
        event._waiters.append(asyncio.get_running_loop().create_future())
        self.outbox = SimpleNamespace(updates={}, messages=[], _enqueue_event=event)
        server, self.browser = _open_connection()
        self.protocol = _protocol(server)
        self.connection = socket_writer._Connection(self.protocol)  # type: ignore[arg-type]
        self.socket = SimpleNamespace(closed=False, queue=asyncio.Queue())
        self.environ = {"asgi.scope": {socket_writer.SCOPE_KEY: self.connection}}


@pytest.fixture
async def pages(monkeypatch: pytest.MonkeyPatch) -> list[_Page]:
    found = [_Page(f"page-{n}") for n in range(2)]
    sio = SimpleNamespace(
        manager=SimpleNamespace(get_participants=lambda _ns, room: [(f"sid-{room}", f"eio-{room}")]),
        eio=SimpleNamespace(sockets={f"eio-{p.id}": p.socket for p in found}),
        environ={f"eio-{p.id}": p.environ for p in found},
    )
    monkeypatch.setattr(core, "sio", sio)
    return found


async def test_an_idle_page_gets_the_message_as_one_websocket_frame(pages: list[_Page]) -> None:
    page = pages[0]
    socket_writer.write(socket_writer.idle_sockets(page), MESSAGE)  # type: ignore[arg-type]
    page.browser.receive_data(b"".join(page.protocol.transport.written))
    assert [e.data for e in page.browser.events() if isinstance(e, TextMessage)] == [MESSAGE]
    assert pages[1].protocol.transport.written == []


@pytest.mark.parametrize(
    "busy",
    [
        "an update waits in the outbox",
        "a message waits in the outbox",
        "the outbox is emitting",
        "a packet waits on the socket",
        "a send is under way",
        "the connection is paused by flow control",
        "the connection is closing",
        "the socket is closed",
        "the socket is not a captured websocket",
    ],
)
async def test_nothing_is_written_where_it_could_overtake_or_is_not_ours(pages: list[_Page], busy: str) -> None:
    page = pages[0]
    {
        "an update waits in the outbox": lambda: page.outbox.updates.__setitem__(7, object()),
        "a message waits in the outbox": lambda: page.outbox.messages.append(("page-0", "run_javascript", {})),
        "the outbox is emitting": lambda: page.outbox._enqueue_event._waiters.clear(),
        "a packet waits on the socket": lambda: page.socket.queue.put_nowait("3"),
        "a send is under way": lambda: setattr(page.connection, "sending", 1),
        "the connection is paused by flow control": page.protocol.writable.clear,
        "the connection is closing": lambda: setattr(page.protocol.transport, "closing", True),
        "the socket is closed": lambda: setattr(page.socket, "closed", True),
        "the socket is not a captured websocket": lambda: page.environ["asgi.scope"].clear(),
    }[busy]()
    assert socket_writer.idle_sockets(page) == []  # type: ignore[arg-type]
    assert pages[1].connection in socket_writer.idle_sockets(pages[1])  # type: ignore[arg-type]


def test_the_message_is_what_socket_io_would_have_sent() -> None:
    message = socket_writer.encoded("run_javascript", {"code": "patch()"})
    assert message[:2] == "42"  # Engine.IO message, Socket.IO event
    assert json.loads(message[2:]) == ["run_javascript", {"code": "patch()"}]


async def test_page_sockets_are_captured_with_their_sends_counted_and_others_left_alone() -> None:
    protocol = WSProtocol.__new__(WSProtocol)  # only its type matters here
    seen: list[tuple[MutableMapping[str, Any], int]] = []

    async def send(_protocol: WSProtocol, _message: MutableMapping[str, Any]) -> None:
        seen.append((scope, scope[socket_writer.SCOPE_KEY].sending))

    async def app(scope: MutableMapping[str, Any], _receive: Any, send: Any) -> None:
        await send({"type": "websocket.send", "text": "4"})

    bound = send.__get__(protocol)  # a send bound to uvicorn's protocol, as uvicorn hands it over
    scope: MutableMapping[str, Any] = {"type": "websocket", "path": "/_nicegui_ws/socket.io/"}
    await socket_writer._Capture(app)(scope, None, bound)
    assert seen == [(scope, 1)]
    assert scope[socket_writer.SCOPE_KEY].protocol is protocol
    assert scope[socket_writer.SCOPE_KEY].sending == 0

    for other in ({"type": "http", "path": "/_nicegui_ws/socket.io/"}, {"type": "websocket", "path": "/other"}):
        await socket_writer._Capture(app)(other, None, bound)
        assert socket_writer.SCOPE_KEY not in other
