"""Gatehouse: wiring only (settings, database, background workers, pages, ui.run)."""

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.routing import _merge_lifespan_context
from nicegui import app, ui

from pages import accept_invite, admin, audit, care, home, login, mailbox, roles
from services import runtime, settings
from services.settings import SettingsError

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

try:
    config = settings.load()
except SettingsError as problem:
    sys.exit(f"Gatehouse cannot start: {problem}")
settings.configure(config)


@asynccontextmanager
async def gatehouse_lifespan(_app: FastAPI) -> AsyncIterator[None]:
    async with runtime.running(config):
        yield


app.router.lifespan_context = _merge_lifespan_context(gatehouse_lifespan, app.router.lifespan_context)
runtime.add_security_headers(app)
for page in (home, login, accept_invite, admin, care, roles, audit, mailbox):
    page.create()

if __name__ in {"__main__", "__mp_main__"}:
    ui.run(
        title="Gatehouse",
        port=config.port,
        storage_secret=config.secret,
        reload=False,
        show=False,
        favicon="🏛️",
    )
