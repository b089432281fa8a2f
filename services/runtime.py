"""Starting and stopping what runs beside the pages: database, first admin, mail sink and mail worker."""

import dataclasses
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response

from services import bootstrap, database, mail_sink, mail_worker, outbox, roles
from services.settings import Settings

log = logging.getLogger("gatehouse")
NO_STORE_PREFIXES = ("/accept", "/login", "/auth")
_depth = 0


@asynccontextmanager
async def running(config: Settings) -> AsyncIterator[None]:
    """The app's lifespan: everything is ready before the first request and stopped after the last."""
    global _depth
    if _depth:  # a nested lifespan (NiceGUI's test users) shares the running database and workers
        yield
        return
    _depth += 1
    try:
        async with _started(config):
            yield
    finally:
        _depth -= 1


@asynccontextmanager
async def _started(config: Settings) -> AsyncIterator[None]:
    in_memory = ":memory:" in config.database_url
    async with database.connected(config.database_url, generate=in_memory):
        await roles.seed_defaults()
        sink = await _start_sink(config)
        mail_config = _mail_settings(config, sink)
        worker = await _start_worker(mail_config)
        await bootstrap.ensure_first_admin()
        try:
            yield
        finally:
            if worker is not None:
                outbox.set_waker(None)
                await worker.stop()
            if sink is not None:
                sink.stop()
                mail_sink.set_current(None)


def add_security_headers(app: FastAPI) -> None:
    """No referrer ever leaves with a token; token and log-in pages are never cached; no framing."""

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        if request.url.path.startswith(NO_STORE_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        return response


async def _start_sink(config: Settings) -> mail_sink.MailSink | None:
    if not config.embedded_mail or os.environ.get("GATEHOUSE_SMTP_SINK") == "off":
        return None
    sink = mail_sink.MailSink(port=config.smtp_port)
    sink.start()
    mail_sink.set_current(sink)
    log.info("Embedded mail sink on 127.0.0.1:%s; read the mail at /dev/mailbox", sink.port)
    return sink


def _mail_settings(config: Settings, sink: mail_sink.MailSink | None) -> Settings:
    if sink is None:
        return config
    return dataclasses.replace(config, smtp_host="127.0.0.1", smtp_port=sink.port, smtp_tls="none")


async def _start_worker(config: Settings) -> mail_worker.MailWorker | None:
    if os.environ.get("GATEHOUSE_MAIL_WORKER") == "off" or config.smtp_host is None:
        return None
    worker = mail_worker.MailWorker(config)
    await worker.start()
    outbox.set_waker(worker.wake)
    return worker
