"""Page clients whose websocket offers permessage-deflate as Chromium's does (issue 17), and a handshake probe.

Chromium offers `permessage-deflate; client_max_window_bits` on every websocket; the bench's python-socketio
clients offered nothing, so they measured a server that never compressed for them. These clients make the same
offer through python-socketio's documented `websocket_extra_options`, handed to aiohttp's `ws_connect`
(`compress=15`: deflate with the 32 KB window Chromium asks for); whether the server took it is read back from
the handshake's answer, the way a browser learns it. (A module of its own beside bench/lists_common.py, whose
PageClient it extends, so that the list benchmarks' shared module stays as it is.)
"""

import asyncio
import re
import uuid
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import socketio

from bench.lists_common import PageClient

WINDOW_BITS = 15  # Chromium's window; aiohttp then offers plain "permessage-deflate"
CHROMIUM_OFFER = "permessage-deflate; client_max_window_bits"  # what Chromium sends in its handshake


class BrowserLikePageClient(PageClient):
    """A PageClient whose socket offers permessage-deflate (compress=True, the default), as Chromium's does."""

    def __init__(self, *args: Any, compress: bool = True, **options: Any) -> None:
        super().__init__(*args, **options)
        self.compress = compress
        if compress:
            extra = {"compress": WINDOW_BITS}
            self.sio = socketio.AsyncClient(reconnection=False, websocket_extra_options=extra)
            self.sio.on("*", self._on_any)

    @property
    def deflating(self) -> bool:
        """Whether this page's socket negotiated permessage-deflate (aiohttp's compress: the window agreed, or 0)."""
        return bool(getattr(getattr(self.sio.eio, "ws", None), "compress", 0))


async def negotiated_extensions(base: str, path: str, cookies: dict[str, str], *, offer: str) -> str:
    """Open a page, then its socket by hand offering `offer`; the server's Sec-WebSocket-Extensions ('' if none).

    A raw HTTP/1.1 upgrade, as a browser sends it, so the answer's header is read as sent (no client library
    between): the one way to see what the server negotiates."""
    cookies = cookies | {"gatehouse_browser": uuid.uuid4().hex}
    async with aiohttp.ClientSession() as http, http.get(base + path, cookies=cookies) as response:
        html = await response.text()
        cookies |= {name: morsel.value for name, morsel in response.cookies.items()}
    found = re.search(r"""["']client_id["']: ["']([^"']+)["']""", html)
    if found is None:
        raise RuntimeError(f"no NiceGUI client in {path}")
    query = urlencode({
        "client_id": found.group(1), "next_message_id": 0, "implicit_handshake": "true", "tab_id": uuid.uuid4(),
        "document_id": uuid.uuid4(), "EIO": 4, "transport": "websocket",
    })  # fmt: skip
    parts = urlsplit(base)
    request = (
        f"GET /_nicegui_ws/socket.io/?{query} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Extensions: {offer}\r\nOrigin: {base}\r\n"
        f"Cookie: {'; '.join(f'{k}={v}' for k, v in cookies.items())}\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(request.encode())
        head = (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)).decode("latin-1")
    finally:
        writer.close()
    if not head.startswith("HTTP/1.1 101"):
        raise RuntimeError(f"the socket was refused: {head.splitlines()[0]}")
    lines = [line.split(":", 1) for line in head.split("\r\n")[1:] if ":" in line]
    return next((value.strip() for name, value in lines if name.strip().lower() == "sec-websocket-extensions"), "")
