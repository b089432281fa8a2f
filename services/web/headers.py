"""Security headers on every response: no referrer ever leaves with a token, token and log-in pages are never
cached, no framing, no content sniffing."""

from fastapi import FastAPI
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE_PREFIXES = ("/accept", "/login", "/auth")


def install(app: FastAPI) -> None:
    """No referrer ever leaves with a token; token and log-in pages are never cached; no framing."""
    app.add_middleware(_SecurityHeaders)


class _SecurityHeaders:
    """Plain ASGI: headers added as the response starts. (A BaseHTTPMiddleware re-streamed every response body
    through a task and a memory stream: a cold page load fetches about 20 scripts and styles.)"""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        no_store = str(scope["path"]).startswith(NO_STORE_PREFIXES)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                if no_store:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)
