"""The health of this process for /healthz: database, mail worker, live-update transport, housekeeping.

Nothing secret is reported: no URLs, hosts, addresses, tokens or error texts, only states, times and counts.
"""

import asyncio
import os
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

from models import OutboxMessage, OutboxState
from services.mail.worker import MailWorker
from services.platform import events_pg
from services.platform.clock import now
from services.platform.housekeeping import Housekeeper

DATABASE_TIMEOUT = 3.0
WORKER_STALE_SECONDS = 90.0  # the loop passes every second (30 s at most while the database is failing)
EVENTS_GRACE_SECONDS = 30.0  # a reconnecting listener is not yet a failure


@dataclass
class _Registered:
    worker: MailWorker | None = None
    housekeeper: Housekeeper | None = None


_registered = _Registered()


def register(*, worker: MailWorker | None, housekeeper: Housekeeper | None) -> None:
    """Tell the health check which background jobs this process runs (None: switched off)."""
    _registered.worker, _registered.housekeeper = worker, housekeeper


async def report() -> tuple[bool, dict[str, Any]]:
    """(healthy, details): healthy when the database answers and every running job is alive."""
    database = await _database()
    checks = {
        "database": database,
        "mail_worker": await _mail_worker(database["ok"]),
        "events": _events(),
        "housekeeping": _housekeeping(),
    }
    healthy = all(check["ok"] for check in checks.values())
    return healthy, {"status": "ok" if healthy else "failing", "process": os.getpid(), "checks": checks}


async def _database() -> dict[str, Any]:
    started = time.perf_counter()
    try:
        connection = connections.get("default")
        await asyncio.wait_for(connection.execute_query("SELECT 1"), DATABASE_TIMEOUT)
    except Exception:  # unreachable, timed out, not initialised: the details go to the log, never to the page
        return {"ok": False}
    return {"ok": True, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}


async def _mail_worker(database_ok: bool) -> dict[str, Any]:
    worker = _registered.worker
    result: dict[str, Any] = {"ok": True, "state": "off"}
    if worker is not None:
        last = worker.last_drain_at
        fresh = last is not None and (now() - last).total_seconds() < WORKER_STALE_SECONDS
        started_recently = last is None and worker.running
        result = {
            "ok": worker.running and (fresh or started_recently),
            "state": "running" if worker.running else "stopped",
            "last_drain_at": _iso(last),
        }
    if database_ok:
        try:
            result.update(await _queue())
        except Exception:  # the queue figures are information; the database check already says why they fail
            result["queue_depth"] = None
    return result


async def _queue() -> dict[str, Any]:
    waiting = OutboxMessage.filter(state__in=(OutboxState.QUEUED, OutboxState.SENDING))
    depth = await waiting.count()
    oldest = await OutboxMessage.filter(state=OutboxState.QUEUED).order_by("created_at").first().values("created_at")
    age = (now() - oldest["created_at"]).total_seconds() if oldest else 0.0
    return {"queue_depth": depth, "oldest_queued_seconds": round(max(age, 0.0), 1)}


def _events() -> dict[str, Any]:
    transport = events_pg.current()
    if transport is None:
        return {"ok": True, "transport": "in-process"}
    return {
        "ok": transport.connected or transport.disconnected_for < EVENTS_GRACE_SECONDS,
        "transport": "postgres",
        "connected": transport.connected,
        "reconnects": transport.reconnects,
    }


def _housekeeping() -> dict[str, Any]:
    housekeeper = _registered.housekeeper
    if housekeeper is None:
        return {"ok": True, "state": "off"}
    return {"ok": True, "leader": housekeeper.leader, "last_run_at": _iso(housekeeper.last_run_at)}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None
