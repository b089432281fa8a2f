"""Shared by the list benchmarks (issue 6, items 3-6; issue 17): invitations across 100 organisations, fast.

Organisation 1 ("the large one") holds 10% of the invitations (or `large` of them), half of them from one CSV
import (the same created, sent and expiry times: a worst case for keyset pages), the other 99 share the rest, so
one run measures a typical organisation and a far larger one on the same data. 90% of the invitations are
pending (a quarter of those expired), the rest accepted or deleted; 40% are organisation-wide, the rest spread
over three deployments. Addresses spread over thousands of domains (some internationalised), as a platform's
do. The invitations are written with one raw executemany (SQLite) or COPY (PostgreSQL) in one transaction: only
the columns' constraints matter here, not the service path (item 1 measures that).
"""

import asyncio
import contextlib
import hashlib
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import socketio
from tortoise import Tortoise, connections
from tortoise.transactions import in_transaction

from bench import world as worlds
from bench.varied import varied_addresses
from models import Deployment, Organisation, Role, RoleAssignment, Session, StaffMember
from services.access import roles, tokens
from services.platform.database import connected

TOTAL = 100_000
ORGANISATIONS = 100
LARGE_SHARE = 0.10
DEPLOYMENTS_PER_ORG = 3
SECRET = "bench-secret-that-is-long-enough-for-the-settings-check"
START = datetime(2026, 9, 1, tzinfo=UTC)
COLUMNS = (
    "email", "role_id", "level", "organisation_id", "deployment_id", "scope_key", "invited_by_id", "token_hash",
    "state", "delivery_state", "delivery_error", "lifetime_hours", "send_count", "sends_today", "created_at",
    "last_sent_at", "expires_at", "accepted_at", "deleted_at",
)  # fmt: skip


@dataclass(frozen=True)
class Org:
    id: int
    name: str
    deployment_ids: tuple[int, ...]
    owner_id: int  # holds organisation_owner: sees the whole organisation
    owner_email: str
    dep_admin_id: int  # holds admin on the first deployment only: the visibility filter narrows the list
    dep_admin_email: str
    invitations: int


@dataclass(frozen=True)
class Seeded:
    large: Org
    typical: Org
    other: Org  # a third organisation: its pages must hear nothing of the others' changes
    total: int


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite://")


async def seed(url: str, *, total: int = TOTAL, organisations: int = ORGANISATIONS, large: int = 0) -> Seeded:
    """A fresh, migrated database (SQLite file replaced, PostgreSQL schema WIPED) holding the invitations."""
    if is_sqlite(url):
        worlds.start_sqlite(Path(url.removeprefix("sqlite://")))
    else:
        config = {"connections": {"default": url}, "apps": {"models": {"models": ["models"]}}}
        await Tortoise.init(config=config)
        try:
            await connections.get("default").execute_script(
                "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"
            )
        finally:
            await Tortoise.close_connections()
    async with connected(url):
        seeded = await _populate(url, total, organisations, large)
        await connections.get("default").execute_script("ANALYZE" if is_sqlite(url) else "VACUUM ANALYZE")
    return seeded


async def _populate(url: str, total: int, organisations: int, large: int) -> Seeded:
    await roles.seed_defaults()
    role = {key: (await Role.get(key=key)).id for key in ("organisation_owner", "admin", "clinician", "contributor")}
    large = (large or round(total * LARGE_SHARE)) if organisations > 1 else total
    orgs = [
        await _organisation(n, size, role)
        for n, size in enumerate([large, *_spread(total - large, organisations - 1)], 1)
    ]
    emails, rng, rows = iter(varied_addresses(total)), random.Random(6), []
    for org in orgs:
        imported = org.invitations // 2 if org is orgs[0] else 0  # one CSV import: thousands of equal timestamps
        for n in range(org.invitations):
            created = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 80) // 10 * 10)  # ties, as batches make
            sent = created + timedelta(hours=rng.choice((0, 0, 0, 24, 72)))
            lifetime = rng.choice((72, 168, 336))
            if n < imported:
                created, sent, lifetime = START + timedelta(days=40), START + timedelta(days=40), 336
            draw, dep_id = rng.random(), org.deployment_ids[n % DEPLOYMENTS_PER_ORG] if rng.random() >= 0.4 else None
            state = "pending" if draw < 0.9 else "accepted" if draw < 0.96 else "deleted"
            rows.append((
                next(emails), rng.choice((role["clinician"], role["contributor"])), "organisation" if dep_id is None
                else "deployment", org.id, dep_id, f"org:{org.id}" if dep_id is None else f"dep:{dep_id}",
                rng.choice((org.owner_id, org.dep_admin_id, None)), hashlib.sha256(b"%d-%d" % (org.id, n)).hexdigest(),
                state, rng.choice(("queued", "sent", "sent", "sent", "failed")), "", lifetime, 1 + (sent > created), 1,
                created, sent, sent + timedelta(hours=lifetime, days=60 * (n < imported or rng.random() < 0.75)),
                sent if state == "accepted" else None, sent if state == "deleted" else None,
            ))  # fmt: skip
    await _write_invitations(url, rows)
    return Seeded(large=orgs[0], typical=orgs[1], other=orgs[2], total=len(rows))


async def _organisation(number: int, size: int, role: dict[str, int]) -> Org:
    """An organisation with its deployments, an owner and an Admin of its first deployment."""
    organisation = await Organisation.create(name=f"Trust {number:03d}")
    deps = [await Deployment.create(organisation=organisation, name=f"Study {n}") for n in range(DEPLOYMENTS_PER_ORG)]
    owner, admin = [
        await StaffMember.create(email=f"{kind}{number}@trust.example", full_name=f"{kind} {number}", password_hash="-")
        for kind in ("owner", "admin")
    ]
    await RoleAssignment.create(member=owner, role_id=role["organisation_owner"], level="organisation",
                                organisation=organisation, scope_key=f"org:{organisation.id}")  # fmt: skip
    await RoleAssignment.create(member=admin, role_id=role["admin"], level="deployment", organisation=organisation,
                                deployment=deps[0], scope_key=f"dep:{deps[0].id}")  # fmt: skip
    return Org(organisation.id, organisation.name, tuple(d.id for d in deps), owner.id, owner.email, admin.id,
               admin.email, size)  # fmt: skip


def _spread(count: int, parts: int) -> list[int]:
    return [count // parts + (1 if n < count % parts else 0) for n in range(parts)]


async def _write_invitations(url: str, rows: list[tuple[Any, ...]]) -> None:
    """One transaction: executemany through the app's own SQLite connection, COPY on PostgreSQL."""
    if is_sqlite(url):
        text = [[v.isoformat(" ") if isinstance(v, datetime) else v for v in row] for row in rows]
        marks = ", ".join("?" for _ in COLUMNS)
        async with in_transaction() as connection:
            await connection.execute_many(f"INSERT INTO invitation ({', '.join(COLUMNS)}) VALUES ({marks})", text)
        return
    raw = await asyncpg.connect(url)
    try:
        async with raw.transaction():
            await raw.copy_records_to_table("invitation", records=rows, columns=COLUMNS)
    finally:
        await raw.close()


async def open_session(member_id: int) -> str:
    """A signed-in session for the member (as /auth/complete makes one); returns the raw cookie value."""
    raw, hashed = tokens.new_token()
    at = datetime.now(UTC)
    await Session.create(token_hash=hashed, member_id=member_id, last_seen_at=at, expires_at=at + timedelta(hours=12))
    return raw


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share 0.95 for p95) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def p50(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    return percentile(values, 0.95)


@dataclass
class Heard:
    at: float  # time.monotonic() when this process handled the message (the same clock as the server's)
    event: str
    data: Any


class PageClient:
    """One open page as a browser holds it: its HTML, then its socket (implicit handshake), every message kept."""

    def __init__(self, base: str, path: str, session_token: str | None = None, expect: str = "") -> None:
        self.base, self.path, self.expect = base, path, expect  # expect: text a complete page's HTML holds
        self.cookies = {"gatehouse_session": session_token} if session_token else {}
        self.cookies["gatehouse_browser"] = uuid.uuid4().hex  # a page's socket must come from its own browser
        self.heard: list[Heard] = []
        self.reader: Callable[[str, Any], int | None] | None = None  # what a message says the page shows now
        self.versions: list[tuple[float, int]] = []
        self.html_bytes = 0
        self.client_id = ""
        self.next_message_id = 0
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("*", self._on_any)

    async def open(self, http: aiohttp.ClientSession) -> None:
        async with http.get(self.base + self.path, cookies=self.cookies) as response:
            html = await response.text()
            self.cookies.update({name: morsel.value for name, morsel in response.cookies.items()})  # the browser's
        self.html_bytes = len(html.encode())
        if self.expect not in html:  # NiceGUI answers with a partial page when building it took over 3 s
            raise TimeoutError(f"{self.path} came back incomplete")
        found = re.search(r"""["']client_id["']: ["']([^"']+)["'], ["']next_message_id["']: (\d+)""", html)
        if found is None:
            raise RuntimeError(f"no NiceGUI client in {self.path}: {html[:300]}")
        self.client_id, self.next_message_id = found.group(1), int(found.group(2))
        query = (
            f"client_id={self.client_id}&next_message_id={self.next_message_id}&implicit_handshake=true"
            f"&tab_id={uuid.uuid4()}&document_id={uuid.uuid4()}"
        )
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        await self.sio.connect(
            f"{self.base}?{query}",
            socketio_path="/_nicegui_ws/socket.io",
            transports=["websocket"],
            headers={"Cookie": cookie, "Origin": self.base} if cookie else {"Origin": self.base},
            wait_timeout=30,
        )

    async def _on_any(self, event: str, data: Any = None) -> None:
        self.heard.append(Heard(time.monotonic(), event, data))
        if self.reader is not None and (version := self.reader(event, data)) is not None:
            self.versions.append((self.heard[-1].at, version))  # read on arrival: no rescans while measuring
        if isinstance(data, dict) and isinstance(data.get("_id"), int):
            self.next_message_id = data["_id"] + 1

    async def ack(self) -> None:
        """What the browser sends every 3 s: the server may forget the messages before this one."""
        if self.sio.connected:
            await self.sio.emit("ack", {"client_id": self.client_id, "next_message_id": self.next_message_id})

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.sio.disconnect(), timeout=5)  # a socket the server already dropped can hang


def message_bytes(heard: Heard) -> int:
    return len(json.dumps(heard.data, separators=(",", ":")).encode())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SWITCHES = ("GATEHOUSE_STATIC_CACHE", "GATEHOUSE_GC_FREEZE_SECONDS")


def app_environment(database_url: str, port: int, **extra: str) -> dict[str, str]:
    """A bench app process's environment: ours without test and GATEHOUSE_ settings, then the bench's, no mail."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "NICEGUI_", "GATEHOUSE_"))}
    env.update(
        GATEHOUSE_DATABASE_URL=database_url, GATEHOUSE_SECRET=SECRET, GATEHOUSE_PORT=str(port),
        GATEHOUSE_BASE_URL=f"http://127.0.0.1:{port}",  # the origin page sockets must come from
        GATEHOUSE_MAIL_WORKER="off", GATEHOUSE_SMTP_SINK="off", GATEHOUSE_LOG_LEVEL="WARNING",
    )  # fmt: skip
    return env | extra


@contextlib.asynccontextmanager
async def app_server(database_url: str, *, tracemalloc: bool = False) -> AsyncIterator[str]:
    """The app (bench/lists_server.py: main.py plus /_bench routes) in its own process; yields its URL."""
    port = free_port()
    env = app_environment(
        database_url, port, GATEHOUSE_HOUSEKEEPING="off", BENCH_TRACEMALLOC="1" if tracemalloc else ""
    )
    env.update({name: os.environ.get(name, "") for name in SWITCHES})  # the app's switches, for A/B runs
    command = [sys.executable, "-m", "bench.lists_server"]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(1200):
                if process.poll() is not None:
                    raise RuntimeError("the app server stopped during start-up")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(base + "/_bench/stats") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.1)
            else:
                raise TimeoutError("the app server did not start within 2 minutes")
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


async def bench_call(http: aiohttp.ClientSession, base: str, path: str) -> Any:
    async with http.post(base + path) as response:
        response.raise_for_status()
        return await response.json()


def results_of(command: list[str]) -> list[dict[str, Any]]:
    """Run one benchmark process; echo its JSON result lines as they come (kept if a later step fails)."""
    found: list[dict[str, Any]] = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("{"):
                print(line, end="", flush=True)
                found.append(json.loads(line))
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return found
