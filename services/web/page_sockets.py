"""A page's socket belongs to the browser and session that opened the page (docs/SECURITY.md, Sessions).

Plain ASGI, outside NiceGUI. Every page request gets a random per-browser binding cookie (added to the request
before the page sees it, so the page's request records it). A socket of NiceGUI's (/_nicegui_ws/) is refused
(HTTP 403, before NiceGUI sees anything) unless it names a page in its query, comes from the configured origin,
brings the binding cookie and session cookie that page was opened with, and that page has no other live socket.
Polling is refused: the pages use websockets only. On an accepted socket, every Socket.IO event must name its own
page: NiceGUI finds a page by the client id inside each event, so a frame naming another page is dropped.
"""

import json
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from socketio import packet as sio_packet
from starlette.datastructures import MutableHeaders
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

BROWSER_COOKIE = "gatehouse_browser"
SOCKET_PATH = "/_nicegui_ws/"
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
_PASSED_THROUGH = (sio_packet.CONNECT, sio_packet.DISCONNECT, sio_packet.ACK)
log = logging.getLogger("gatehouse.sockets")


@dataclass(frozen=True)
class PageBinding:
    """What a page was opened with: the browser's binding cookie and the session cookie (None when absent)."""

    browser: str | None
    session: str | None


BindingLookup = Callable[[str], PageBinding | None]  # None: no page of that id in this process


def allowed_origins(*, base_url: str) -> frozenset[str]:
    """The configured origin; with a loopback host, its loopback aliases too (same scheme and port)."""
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = f"[{host}]" if ":" in host else host
    hosts = LOOPBACK if host in LOOPBACK else (host,)
    return frozenset(_origin(parts.scheme, name, port) for name in hosts)


def normalised_origin(origin: str) -> str | None:
    """scheme://host:port of an Origin header (default port spelled out), or None when it is not one."""
    try:
        parts = urlsplit(origin)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query:
        return None
    host = parts.hostname.lower()
    return _origin(parts.scheme, f"[{host}]" if ":" in host else host, port)


def _origin(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://{host}:{port}"


class PageSocketGuard:
    """Plain ASGI: binding cookies on page requests; sockets only for the browser and session of their page."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        binding_of: BindingLookup,
        origins: Callable[[], Iterable[str]],
        session_cookie: str,
        secure: Callable[[], bool],
    ) -> None:
        self.app = app
        self.binding_of = binding_of
        self.origins = origins
        self.session_cookie = session_cookie
        self.secure = secure
        self.live: set[str] = set()  # client ids with an accepted socket still open in this process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
        elif SOCKET_PATH in str(scope["path"]):
            await self._socket(scope, receive, send)
        else:
            await self._page(scope, receive, send)

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _cookies(scope).get(BROWSER_COOKIE):
            await self.app(scope, receive, send)
            return
        value = secrets.token_urlsafe(32)
        headers = MutableHeaders(scope=scope)  # the page's request sees the cookie it is about to be given
        headers["cookie"] = "; ".join(filter(None, (headers.get("cookie"), f"{BROWSER_COOKIE}={value}")))
        cookie = f"{BROWSER_COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if self.secure() else "")

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    async def _socket(self, scope: Scope, receive: Receive, send: Send) -> None:
        client_id, refusal = self._check(scope)
        if refusal:
            log.warning("Refused a page socket: %s", refusal)
            await _refuse(scope, send)
            return
        self.live.add(client_id)

        async def own_frames_only() -> Message:
            while True:
                message = await receive()
                if message["type"] != "websocket.receive" or _names_only(message, client_id):
                    return message
                log.warning("Dropped a socket frame that did not name its own page")

        try:
            await self.app(scope, own_frames_only, send)
        finally:
            self.live.discard(client_id)

    def _check(self, scope: Scope) -> tuple[str, str]:
        """The client id the socket names, and why it is refused ("" when it may be that page's socket)."""
        if scope["type"] != "websocket":
            return "", "polling transport"
        client_ids = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("client_id", [])
        if len(client_ids) != 1:
            return "", "no single client_id in the query"
        client_id = client_ids[0]
        origin = normalised_origin(MutableHeaders(scope=scope).get("origin", ""))
        if origin is None or origin not in set(self.origins()):
            return client_id, "not the configured origin"
        binding = self.binding_of(client_id)
        if binding is None:  # no such page (a restart forgot it): NiceGUI refuses it and the browser reloads
            return client_id, ""
        cookies = _cookies(scope)
        if not binding.browser:
            return client_id, "the page has no binding"
        if not _same(cookies.get(BROWSER_COOKIE, ""), binding.browser):
            return client_id, "another browser"
        if not _same(cookies.get(self.session_cookie, ""), binding.session or ""):
            return client_id, "another session"
        if client_id in self.live:
            return client_id, "the page already has a live socket"
        return client_id, ""


def _same(sent: str, kept: str) -> bool:
    return secrets.compare_digest(sent.encode(), kept.encode())


async def _refuse(scope: Scope, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})  # before accepting: the server answers 403
        return
    await send({"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"Forbidden"})


def _cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies, read as Starlette's Request reads them (its first Cookie header)."""
    return cookie_parser(MutableHeaders(scope=scope).get("cookie", ""))


def _names_only(message: Message, client_id: str) -> bool:
    """An Engine.IO frame passes unless it is a Socket.IO packet other than connect, disconnect and ack, or an event
    whose payload does not name this page; binary frames never pass (the pages send none)."""
    text = message.get("text")
    if text is None:
        return False
    if not text.startswith("4"):  # ping, pong, close, upgrade, noop: no Socket.IO payload
        return True
    try:
        packet = sio_packet.Packet(encoded_packet=text[1:])
    except (ValueError, TypeError, json.JSONDecodeError):
        return False
    if packet.namespace not in (None, "/"):
        return False
    if packet.packet_type in _PASSED_THROUGH:
        return True
    return packet.packet_type == sio_packet.EVENT and _payload_names(packet.data, client_id)


def _payload_names(data: Any, client_id: str) -> bool:
    return (
        isinstance(data, list)
        and len(data) == 2
        and isinstance(data[1], dict)
        and data[1].get("client_id") == client_id
    )
