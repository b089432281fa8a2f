"""A live patch written straight onto a page's websocket, when nothing else is on its way to that page.

Emitted the usual way (Socket.IO to the page's room), a message costs per page: a task for the emit, a put on the
Engine.IO socket's queue, a wake-up of that socket's writer task (and the task Python 3.11's wait_for makes for
its next get), and the ASGI send through every middleware's wrapper. With 500 open pages that was most of a
change's server time (docs/PERFORMANCE-lists.md, item 4, fourth round). Written here, a page costs its frame
(wsproto, with the connection's own compression when the browser negotiated it) and one write to the transport.

It is only done where it cannot overtake anything: the page's outbox is idle (nothing waiting, nothing being
emitted), the Engine.IO queue of each of its sockets is empty, no send is in progress on the connection (a writer
paused by flow control holds packets it already took) and the connection is open and writable. Otherwise the
caller emits as before. These conditions read libraries' internals (uvicorn's wsproto protocol, Engine.IO's socket
queue, NiceGUI's outbox event), so the whole path is off unless GATEHOUSE_DIRECT_PATCHES=on (docs/DEPLOYMENT.md,
measured in docs/PERFORMANCE.md item 4); tests/test_socket_writer.py runs it over the installed libraries and fails
when an upgrade moves them. /healthz counts both ways.
"""

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from engineio import packet as eio_packet
from nicegui import Client, core
from socketio import packet as sio_packet
from starlette.applications import Starlette
from uvicorn.protocols.websockets.wsproto_impl import WSProtocol
from wsproto.events import Message

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
SOCKET_PATH = "/_nicegui_ws/socket.io"
SCOPE_KEY = "gatehouse.websocket"


@dataclass
class Counts:
    direct: int = 0  # page sockets written to here
    emitted: int = 0  # pages handed to Socket.IO's emit instead


counts = Counts()
installed = False  # GATEHOUSE_DIRECT_PATCHES=on


class _Connection:
    """A page socket's uvicorn protocol, and how many sends are under way on it."""

    __slots__ = ("protocol", "sending")

    def __init__(self, protocol: WSProtocol) -> None:
        self.protocol = protocol
        self.sending = 0


def install(app: Starlette) -> None:
    """Capture each Socket.IO websocket as it opens, outermost: where the send is still uvicorn's own."""
    global installed
    installed = True
    build = app.build_middleware_stack
    app.build_middleware_stack = lambda: _Capture(build())  # type: ignore[method-assign]


def encoded(event: str, data: dict[str, Any]) -> str:
    """The Engine.IO message a Socket.IO emit of event and data to the default namespace sends."""
    text = core.sio.packet_class(sio_packet.EVENT, namespace="/", data=[event, data]).encode()
    return str(eio_packet.Packet(eio_packet.MESSAGE, text).encode())


def idle_sockets(client: Client) -> list[_Connection]:
    """The page's sockets if a message written onto them now overtakes nothing; none where it could, or where a
    socket is not one captured here."""
    if not _outbox_idle(client):
        return []
    connections = []
    for _sid, eio_sid in core.sio.manager.get_participants("/", client.id):
        connection = _free(eio_sid)
        if connection is None:
            return []
        connections.append(connection)
    return connections


def write(connections: list[_Connection], message: str) -> None:
    """Write the message onto the sockets, each as one frame (compressed where the browser asked for it)."""
    for connection in connections:
        protocol = connection.protocol
        protocol.transport.write(protocol.conn.send(Message(data=message)))
    counts.direct += len(connections)


def _outbox_idle(client: Client) -> bool:
    """Nothing queued in the page's outbox, and its loop waiting for more (not in the middle of an emit)."""
    outbox = client.outbox
    event = getattr(outbox, "_enqueue_event", None)
    if outbox.updates or outbox.messages or event is None or event.is_set():
        return False
    return bool(getattr(event, "_waiters", None))  # the loop awaits the event only while it has nothing to send


def _free(eio_sid: str) -> _Connection | None:
    """The socket's captured connection if nothing is queued or being sent on it and it is open and writable."""
    socket = core.sio.eio.sockets.get(eio_sid)
    environ = core.sio.environ.get(eio_sid)
    if socket is None or environ is None or socket.closed or not socket.queue.empty():
        return None
    connection = environ.get("asgi.scope", {}).get(SCOPE_KEY)
    if not isinstance(connection, _Connection) or connection.sending:
        return None
    protocol = connection.protocol
    if not protocol.handshake_complete or protocol.close_sent or protocol.disconnected or protocol.response_started:
        return None
    return connection if protocol.writable.is_set() and not protocol.transport.is_closing() else None


class _Capture:
    """Plain ASGI: marks a page socket's scope with its connection and counts the sends under way on it."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        protocol = getattr(send, "__self__", None)
        if scope["type"] != "websocket" or SOCKET_PATH not in scope["path"] or not isinstance(protocol, WSProtocol):
            await self.app(scope, receive, send)
            return
        connection = scope[SCOPE_KEY] = _Connection(protocol)

        async def counted(message: MutableMapping[str, Any]) -> None:
            connection.sending += 1
            try:
                await send(message)
            finally:
                connection.sending -= 1

        await self.app(scope, receive, counted)
