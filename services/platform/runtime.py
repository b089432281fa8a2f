"""What runs beside the pages: database, first admin, live-update transport, mail sink and worker, housekeeping."""

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from models import Invitation, InvitationState, StaffMember
from services.access import roles
from services.mail import outbox
from services.mail import sink as mail_sink
from services.mail import worker as mail_worker
from services.platform import bootstrap, collector, database, events_pg, health, housekeeping, pg, sql
from services.platform.clock import now
from services.platform.settings import Settings
from services.webhooks.worker import WebhookWorker

log = logging.getLogger("gatehouse")
STARTUP = "gatehouse-startup"
SIBLING_START_WINDOW = timedelta(minutes=2)  # processes started together print one first-admin link, not several
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
    async with AsyncExitStack() as stack:
        # Several processes may start together on PostgreSQL: one at a time migrates, seeds and invites.
        async with pg.advisory_lock(database_url=config.database_url, key=pg.STARTUP_LOCK, application_name=STARTUP):
            await stack.enter_async_context(database.connected(config.database_url, generate=in_memory))
            await roles.seed_defaults()
            await _ensure_first_admin(config)
        if sql.is_postgres(config.database_url):
            await events_pg.start(database_url=config.database_url)
            stack.push_async_callback(events_pg.stop)
        sink = await _start_sink(config)
        worker = await _start_worker(_mail_settings(config, sink))
        housekeeper = await _start_housekeeper(config, in_memory=in_memory)
        if config.webhook_worker:
            webhooks = WebhookWorker()
            await webhooks.start()
            stack.push_async_callback(webhooks.stop)
        health.register(worker=worker, housekeeper=housekeeper)
        if seconds := config.gc_freeze_seconds:
            schedule = collector.Collector(freeze_seconds=seconds)
            schedule.start()
            stack.push_async_callback(schedule.stop)
        try:
            yield
        finally:
            health.register(worker=None, housekeeper=None)
            if housekeeper is not None:
                await housekeeper.stop()
            if worker is not None:
                outbox.set_waker(None)
                await worker.stop()
            if sink is not None:
                sink.stop()
                mail_sink.set_current(None)


async def _start_sink(config: Settings) -> mail_sink.MailSink | None:
    if not config.embedded_mail or not config.smtp_sink:
        return None
    sink = mail_sink.MailSink(port=config.smtp_port)
    sink.start()
    mail_sink.set_current(sink)
    log.info("Embedded mail sink on 127.0.0.1:%s; read the mail at /dev/mailbox", sink.port)
    return sink


def _mail_settings(config: Settings, sink: mail_sink.MailSink | None) -> Settings:
    if sink is None:
        return config
    return config.model_copy(update={"smtp_host": "127.0.0.1", "smtp_port": sink.port, "smtp_tls": "none"})


async def _start_worker(config: Settings) -> mail_worker.MailWorker | None:
    if not config.mail_worker or config.smtp_host is None:
        return None
    worker = mail_worker.MailWorker(config, lease_seconds=config.mail_lease_seconds)
    await worker.start()
    outbox.set_waker(worker.wake)
    return worker


async def _start_housekeeper(config: Settings, *, in_memory: bool) -> housekeeping.Housekeeper | None:
    # A throwaway in-memory database (tests) has nothing to expire on a real clock and nothing old to purge.
    if in_memory or not config.housekeeping:
        return None
    housekeeper = housekeeping.Housekeeper(
        database_url=config.database_url,
        retention_days=config.retention_days,
        interval_seconds=config.housekeeping_seconds,
    )
    await housekeeper.start()
    return housekeeper


async def _ensure_first_admin(config: Settings) -> None:
    """Invite the first admin, unless another process starting beside this one has just done so."""
    if sql.is_postgres(config.database_url):
        just_now = now() - SIBLING_START_WINDOW
        first = Invitation.filter(scope_key="platform", state=InvitationState.PENDING, invited_by_id=None)
        if not await StaffMember.exists() and await first.filter(created_at__gt=just_now).exists():
            log.info("First start: another process has just invited the first Super Admin; see its console")
            return
    await bootstrap.ensure_first_admin()
