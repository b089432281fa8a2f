"""The benchmarks' floor of any push: a prebuilt message written straight onto each page's websocket.

Bench only (bench/lists_server.py's /_bench/raw). The app itself pushes through Socket.IO: written this way a patch
skipped Engine.IO's per-page task and queue, but the list goals held without it (docs/PERFORMANCE.md, issue 15),
and it reads uvicorn's wsproto protocol, Engine.IO's socket queue and NiceGUI's outbox event. A socket is written
onto only where that overtakes nothing: the page's outbox idle, the socket's queue empty, no send under way on the
connection, the connection open and writable; other pages get NiceGUI's own push.
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


counts = Counts()


class _Connection:
    """A page socket's uvicorn protocol, and how many sends are under way on it."""

    __slots__ = ("protocol", "sending")

    def __init__(self, protocol: WSProtocol) -> None:
        self.protocol = protocol
        self.sending = 0


def install(app: Starlette) -> None:
    """Capture each Socket.IO websocket as it opens, outermost: where the send is still uvicorn's own."""
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
