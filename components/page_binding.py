"""Each page's socket bound to the browser and session that opened the page (services/web/page_sockets.py)."""

from nicegui import Client, app

from services.access import auth
from services.platform import settings
from services.web import page_sockets
from services.web.page_sockets import PageBinding


def install() -> None:
    """Guard NiceGUI's sockets, and let the pages' browsers use websockets only (the guard refuses polling)."""
    app.config.socket_io_js_transports = ["websocket"]
    app.add_middleware(
        page_sockets.PageSocketGuard,
        binding_of=binding_of,
        origins=lambda: page_sockets.allowed_origins(base_url=settings.current().base_url),
        session_cookie=auth.SESSION_COOKIE,
        secure=lambda: settings.current().base_url.startswith("https://"),
    )


def binding_of(client_id: str) -> PageBinding | None:
    """The cookies the page's own request brought (every page records its request), or None for no such page."""
    client = Client.instances.get(client_id)
    if client is None:
        return None
    try:
        cookies = client.request.cookies
    except RuntimeError:  # a client built without a request: nothing to bind to, so every socket is refused
        return PageBinding(browser=None, session=None)
    return PageBinding(browser=cookies.get(page_sockets.BROWSER_COOKIE), session=cookies.get(auth.SESSION_COOKIE))
