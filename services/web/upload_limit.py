"""Uploads are refused while they stream: without a session cookie before a byte of the body is read, and over the
CSV limit as soon as the declared length or the bytes counted so far pass it (413), never after reading it whole."""

import re
from http.cookies import CookieError, SimpleCookie

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.access import auth
from services.invitations.csv_import import DEFAULT_MAX_BYTES

# NiceGUI's ui.upload posts one multipart body to this route; the multipart framing around a file is a few hundred
# bytes, so this allowance keeps a file of exactly 10 MB acceptable and refuses anything visibly larger.
UPLOAD_PATH = re.compile(r"^/_nicegui/client/[^/]+/upload/[^/]+/?$")
MULTIPART_ALLOWANCE = 64 * 1024
MAX_UPLOAD_BYTES = DEFAULT_MAX_BYTES + MULTIPART_ALLOWANCE


def install(app: FastAPI, *, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Guard NiceGUI's upload endpoint (uploads only happen from signed-in pages)."""
    app.add_middleware(UploadLimit, max_bytes=max_bytes)


class BodyTooLarge(Exception):
    """Raised inside receive() once the body passes the limit; the middleware answers 413."""


class UploadLimit:
    """Plain ASGI: a 403 or 413 before the app reads (more of) the body; other requests pass untouched."""

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not UPLOAD_PATH.match(str(scope["path"])):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if not _has_session_cookie(headers.get("cookie", "")):
            await _refuse(send, 403, "Sign in to upload files.")
            return
        declared = headers.get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _refuse(send, 413 if declared.isdigit() else 400, _too_large(self.max_bytes))
            return

        counted = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal counted
            message = await receive()
            if message["type"] == "http.request":
                counted += len(message.get("body", b""))
                if counted > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watching_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, watching_send)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, 413, _too_large(self.max_bytes))


def _has_session_cookie(header: str) -> bool:
    cookies = SimpleCookie()
    try:
        cookies.load(header)
    except CookieError:
        return False
    morsel = cookies.get(auth.SESSION_COOKIE)
    return morsel is not None and bool(morsel.value)


def _too_large(_max_bytes: int) -> str:
    return f"The file is larger than {DEFAULT_MAX_BYTES // (1024 * 1024)} MB."


async def _refuse(send: Send, status: int, text: str) -> None:
    # Connection: close tells the server not to keep reading an unread body for the next request on this connection.
    body = text.encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
