"""NiceGUI's scripts and styles compressed once, not on every request.

Every cold page load fetches about 20 of NiceGUI's files (Vue, Quasar, the element modules). Each went through
a file read in a worker thread and gzip at level 9 in the event loop: 10-40 ms of the one process's time per
file, which a cold load waits for over six connections (docs/PERFORMANCE-lists.md, item 6). Their URLs carry
NiceGUI's version or the module's hash, so what a URL returns never changes while the process runs: the first
complete answer is kept, headers and compressed bytes, and later requests get it straight from memory.
"""

from collections.abc import Callable
from typing import Any

from fastapi.middleware.gzip import GZipMiddleware
from nicegui import __version__ as nicegui_version
from starlette.types import ASGIApp, Message, Receive, Scope, Send

IMMUTABLE_PREFIXES = tuple(  # versioned or hashed: never "dynamic_resources", uploads or media
    f"/_nicegui/{nicegui_version}/{folder}/" for folder in ("static", "components", "libraries", "esm", "resources")
)
MAX_BODY = 2 * 1024 * 1024
MAX_ENTRIES = 256
QUICK_LEVEL = 1  # Starlette defaults to 9; 1 compresses NiceGUI's scripts several times faster, a quarter larger
_CONDITIONAL = (b"range", b"if-none-match", b"if-modified-since", b"if-match", b"if-unmodified-since")


def gzip_factory(*, cache: bool) -> Callable[[ASGIApp], Any]:
    """ui.run's gzip_middleware_factory: with the cache (GATEHOUSE_STATIC_CACHE=on) or NiceGUI's gzip, quicker."""
    return gzip_with_cache if cache else gzip_quick


def gzip_quick(app: ASGIApp) -> GZipMiddleware:
    """NiceGUI's gzip middleware at a low compression level (the default: no cache of our own)."""
    return GZipMiddleware(app, compresslevel=QUICK_LEVEL)


def gzip_with_cache(app: ASGIApp) -> Any:  # Any: ui.run's gzip_middleware_factory is typed to give a GZipMiddleware
    """NiceGUI's gzip middleware, with its answers for NiceGUI's own files kept."""
    return StaticCache(GZipMiddleware(app))


class StaticCache:
    """Plain ASGI: replays the first 200 answer of a GET for an immutable URL, per accepted encoding."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.kept: dict[tuple[str, bool], tuple[Message, bytes]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = _key(scope)
        if key is None:
            await self.app(scope, receive, send)
            return
        if (kept := self.kept.get(key)) is not None:
            start, body = kept
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, self._keeping(key, send))

    def _keeping(self, key: tuple[str, bool], send: Send) -> Send:
        start: dict[str, Any] = {}
        body = bytearray()

        async def keep(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.start" and _cacheable(message):
                start.update(message, headers=list(message["headers"]))
            elif message["type"] == "http.response.body" and start and len(body) <= MAX_BODY:
                body.extend(message.get("body", b""))
                if not message.get("more_body") and len(body) <= MAX_BODY and len(self.kept) < MAX_ENTRIES:
                    self.kept[key] = (start, bytes(body))

        return keep


def _key(scope: Scope) -> tuple[str, bool] | None:
    if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith(IMMUTABLE_PREFIXES):
        return None
    headers = dict(scope["headers"])
    if scope.get("query_string") or any(name in headers for name in _CONDITIONAL):
        return None  # a query would let a client fill the cache with copies; revalidations are rare: NiceGUI answers
    return scope["path"], b"gzip" in headers.get(b"accept-encoding", b"")


def _cacheable(start: Message) -> bool:
    return start.get("status") == 200 and not any(name.lower() == b"set-cookie" for name, _ in start["headers"])
