"""Gatehouse: wiring only (settings, database, background workers, pages, ui.run); importing it reads no settings."""

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from nicegui import app, ui

from components import frame, invite_dialog, page_binding, passkey
from pages import (
    accept_invite,
    access_settings,
    account_security,
    admin,
    api_v1,
    audit,
    care,
    care_webhooks,
    exports,
    health,
    home,
    integrations,
    login,
    mailbox,
    reviews,
    roles,
    scim,
    sso,
    sso_settings,
)
from services.platform import logs, runtime, settings
from services.platform.settings import SettingsError
from services.web import headers, static_cache, upload_limit


def start() -> settings.Settings:
    """Load the settings and set up logging as the app starts (never at import: the secret file is written here)."""
    try:
        config = settings.load()
    except SettingsError as problem:
        sys.exit(f"Gatehouse cannot start: {problem}")
    settings.configure(config)
    logs.configure(log_format=config.log_format, level=config.log_level)
    return config


nicegui_lifespan = app.router.lifespan_context


@asynccontextmanager
async def gatehouse_lifespan(asgi_app: FastAPI) -> AsyncIterator[None]:
    """Database, migrations and workers ready before NiceGUI starts and the first request is served.

    NiceGUI's app.on_startup runs async handlers as background tasks, not before the first request; so, as
    NiceGUI's own ui.run_with does, its lifespan is wrapped through Starlette's public router.lifespan_context."""
    async with runtime.running(settings.current()), nicegui_lifespan(asgi_app):
        yield


app.router.lifespan_context = gatehouse_lifespan
upload_limit.install(app)  # uploads refused while they stream: no session cookie, or over 10 MB
headers.install(app)
page_binding.install()  # a page's socket only for the browser and session that opened the page
frame.install()
invite_dialog.install()
passkey.install()
PAGES = (
    home,
    login,
    accept_invite,
    admin,
    care,
    roles,
    access_settings,
    reviews,
    care_webhooks,
    integrations,
    account_security,
    audit,
    exports,
    mailbox,
    health,
    api_v1,
    scim,
    sso,
    sso_settings,
)
for page in PAGES:
    page.create()

# The one definition of how the app is served: bench/lists_server.py runs the app through run() as well.
UI_RUN_OPTIONS: dict[str, Any] = {
    "title": "Gatehouse",
    "reload": False,
    "show": False,
    "favicon": "🏛️",
    "log_config": None,  # uvicorn's records go through the handler logs.configure installed (plain or JSON)
    "tailwind": False,  # the classes the pages use come from components/utilities.css, not Tailwind's in-page compiler
}


def run(**extra: Any) -> None:
    """Serve the app (extra options only for the benchmarks' experiments)."""
    config = start()
    options = UI_RUN_OPTIONS | {
        "gzip_middleware_factory": static_cache.gzip_factory(cache=config.static_cache),
        # uvicorn's setting: a socket's deflate state costs ~260 KB per open page, its small patches gain little
        "ws_per_message_deflate": config.ws_compression,
    }
    ui.run(host=config.host, port=config.port, storage_secret=config.secret, **(options | extra))


if __name__ in {"__main__", "__mp_main__"}:
    run()
