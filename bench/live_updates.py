"""Issue 6, item 4: N open pending lists of one organisation while invitations are sent in bursts.

The app runs in its own process (`--serve`: main.py's wiring plus a few /_bench routes); this process opens N
pages of one organisation's /care?view=pending (each with its own session) and N/10 of another organisation's,
each as a browser does (HTML, then a Socket.IO websocket), and records every message. A burst is a few
invitations.send calls through the real service; a change's latency, per client, is from the server's
events.publish to the first message that shows the new count. Baseline, same run, same clients: a minimal
NiceGUI page whose label the server sets on every open page (the cheapest possible push to N tabs).

    .venv/bin/python -m bench.live_updates                  # 200 and 500 clients, SQLite
    .venv/bin/python -m bench.live_updates --postgres postgres://postgres@127.0.0.1:5432/gatehouse_lists
    .venv/bin/python -m bench.live_updates --quick          # 20 and 50 clients, 10,000 invitations
"""

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import weakref
from pathlib import Path
from typing import Any

import aiohttp

from bench import world as worlds
from bench.common import machine
from bench.lists_common import (
    SECRET,
    PageClient,
    Seeded,
    app_server,
    bench_call,
    is_sqlite,
    message_bytes,
    p50,
    p95,
    seed,
)

GOALS_MS = {200: 100.0, 500: 250.0}
LIVE_EVENTS = ("update", "run_javascript")


def serve() -> None:
    """The app as main.py runs it, plus the routes the benchmarks drive (only in this process)."""
    from fastapi import Request
    from nicegui import app, ui

    import main  # noqa: F401  the app's own wiring: settings, lifespan, pages
    from bench.lists_common import open_session
    from components.session import PageSession
    from models import Invitation, InvitationState, Role, RoleAssignment
    from pages.care_pending import PendingView
    from services import access, events, invitations

    if os.environ.get("BENCH_CACHE_ACTOR"):
        _cache_actors()
    labels: weakref.WeakSet[ui.label] = weakref.WeakSet()
    published: dict[int, list[float]] = {}
    state: dict[str, Any] = {"tick": 0, "sent": 0}

    @ui.page("/_bench/minimal")
    def minimal() -> None:  # the baseline page: a label to push to, and a static table of 50 rows
        labels.add(ui.label("0").props("data-bench=minimal"))
        rows = [{"id": n, "email": f"person{n}@example.org", "role": "Clinician", "sent": 1} for n in range(50)]
        ui.table(rows=rows, row_key="id")

    @ui.page("/_bench/pending_only")
    async def pending_only(request: Request, org: int) -> None:  # the view alone, without the portal's frame
        view = PendingView(PageSession(request), org)
        await view.refresh()

    @app.post("/_bench/session")
    async def session(member: int) -> dict[str, str]:
        return {"token": await open_session(member)}

    @app.post("/_bench/count")
    async def count(org: int) -> dict[str, int]:
        return {"total": await Invitation.filter(organisation_id=org, state=InvitationState.PENDING).count()}

    @app.post("/_bench/send")
    async def send(org: int) -> dict[str, float]:
        if org not in published:
            published[org] = []
            events.subscribe(organisation_id=org, handler=lambda _kind: published[org].append(time.monotonic()))
        owner = await RoleAssignment.get(organisation_id=org, role__key="organisation_owner")
        actor = await access.load_actor(member_id=owner.member_id, email="", full_name="Bench")
        state["sent"] += 1
        address = f"live{state['sent']}.{os.getpid()}@bench.example"
        role = await Role.get(key="clinician")
        before = len(published[org])
        await invitations.send(
            actor=actor, addresses=[address], role_id=role.id, lifetime_hours=72, organisation_id=org
        )
        returned = time.monotonic()
        heard = published[org][before:] if len(published[org]) > before else [returned]
        return {"published": min(heard[0], returned)}  # in-process: at publish; PostgreSQL NOTIFY: once sent

    @app.post("/_bench/tick")
    async def tick() -> dict[str, float]:
        state["tick"] += 1
        at = time.monotonic()
        for label in list(labels):
            if not label.client.is_deleted:
                label.text = str(state["tick"])
        return {"published": at, "tick": state["tick"]}

    @app.get("/_bench/stats")
    async def stats(collect: bool = False) -> dict[str, Any]:
        from nicegui import Client

        if collect:
            gc.collect()
        with open("/proc/self/status") as status:
            rss = next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))
        traced, top = 0, []
        if os.environ.get("BENCH_TRACEMALLOC") and not tracemalloc.is_tracing():
            tracemalloc.start()  # from the first call on: the pages, not the imports
        if tracemalloc.is_tracing():  # the allocation sites that grew since the last call, largest first
            traced, snapshot = tracemalloc.get_traced_memory()[0], tracemalloc.take_snapshot()
            if "snapshot" in state:
                top = [str(stat) for stat in snapshot.compare_to(state["snapshot"], "lineno")[:40]]
            state["snapshot"] = snapshot
        return {
            "rss_kb": rss, "traced_bytes": traced, "clients": len(Client.instances), "pid": os.getpid(),
            "cpu_s": time.process_time(), "top": top,
        }  # fmt: skip

    ui.run(
        title="Gatehouse", port=int(os.environ["GATEHOUSE_PORT"]), storage_secret=SECRET, reload=False, show=False,
        favicon="🏛️", log_config=None,
    )  # fmt: skip


def _cache_actors() -> None:
    """EXPERIMENT, not the app: remember each session's actor for 60 s (what item 4 needs from auth/session)."""
    from services import auth

    original = auth.actor_for
    known: dict[str | None, tuple[float, Any]] = {}

    async def actor_for(*, session_token: str | None) -> Any:
        hit = known.get(session_token)
        if hit is not None and time.monotonic() - hit[0] < 60:
            return hit[1]
        actor = await original(session_token=session_token)
        known[session_token] = (time.monotonic(), actor)
        return actor

    auth.actor_for = actor_for


def version_of(event: str, data: Any, *, minimal: bool) -> int | None:
    """The count a pending list shows after this message (or the tick a minimal page shows), if it says."""
    if event == "update" and isinstance(data, dict):
        for element in data.values():
            if not isinstance(element, dict):
                continue
            if minimal and str(element.get("text", "")).isdigit():
                return int(element["text"])
            pagination = (element.get("props") or {}).get("pagination")
            if not minimal and isinstance(pagination, dict) and "rowsNumber" in pagination:
                return int(pagination["rowsNumber"])
    if event == "run_javascript" and isinstance(data, dict) and not minimal:
        code = str(data.get("code", ""))
        marker = code.find('"rowsNumber":')
        if marker >= 0:
            digits = code[marker + 13 :].lstrip().split(",")[0].split("}")[0]
            return int(digits) if digits.isdigit() else None
    return None


async def open_pages(
    http: aiohttp.ClientSession, base: str, path: str, member: int | None, count: int
) -> list[PageClient]:
    """count complete pages, two loading at a time (a page built in over 3 s comes back partial: tried again)."""
    pages: list[PageClient] = []
    gate = asyncio.Semaphore(2)
    expect = "data-bench" if member is None else "Pending staff invitations"

    async def one() -> None:
        async with gate:
            for attempt in range(5):
                token = (await bench_call(http, base, f"/_bench/session?member={member}"))["token"] if member else None
                page = PageClient(base, path, token, expect)
                try:
                    await page.open(http)
                except TimeoutError:
                    if attempt == 4:
                        raise
                    continue
                pages.append(page)
                return

    await asyncio.gather(*(one() for _ in range(count)))
    return pages


async def bursts(http: aiohttp.ClientSession, base: str, route: str, *, bursts: int, size: int) -> list[dict[str, Any]]:
    """bursts x size changes, 20 ms apart inside a burst, 1.5 s between bursts; what the server said of each."""
    said: list[dict[str, Any]] = []
    for _ in range(bursts):
        for _ in range(size):
            said.append(await bench_call(http, base, route))
            await asyncio.sleep(0.02)
        await asyncio.sleep(1.5)
    return said


def latencies(pages: list[PageClient], changes: list[tuple[float, int]], since: float, minimal: bool) -> list[float]:
    """Per client and change (published at, version): ms to the first message showing at least that version."""
    found: list[float] = []
    for page in pages:
        seen = [(h.at, v) for h in page.heard if h.at >= since and (v := version_of(h.event, h.data, minimal=minimal))]
        for published, wanted in changes:
            arrival = next((at for at, version in seen if version >= wanted), None)
            found.append(float("inf") if arrival is None else max(0.0, arrival - published) * 1000)
    return found


async def settle(pages: list[PageClient], version: int, since: float, *, minimal: bool) -> None:
    """Wait (at most 30 s) until every page shows the version."""
    for _ in range(300):
        shown = [max((v for h in p.heard if h.at >= since and (v := version_of(h.event, h.data, minimal=minimal))),
                     default=0) for p in pages]  # fmt: skip
        if min(shown, default=version) >= version:
            return
        await asyncio.sleep(0.1)


async def phase(
    http: aiohttp.ClientSession, base: str, route: str, pages: list[PageClient], first: int, *, minimal: bool
) -> tuple[list[float], float, list[int]]:
    """3 bursts of 3 changes: every page's latency for every change, server CPU per change, message sizes."""
    since = time.monotonic()
    cpu = (await (await http.get(base + "/_bench/stats")).json())["cpu_s"]
    said = await bursts(http, base, route, bursts=3, size=3)
    changes = [(s["published"], s.get("tick", first + n)) for n, s in enumerate(said)]
    await settle(pages, changes[-1][1], since, minimal=minimal)  # no backlog may spill into the next phase
    cpu = (await (await http.get(base + "/_bench/stats")).json())["cpu_s"] - cpu
    sizes = [message_bytes(h) for h in pages[0].heard if h.at >= since and h.event in LIVE_EVENTS]
    return latencies(pages, changes, since, minimal=minimal), cpu / len(changes), sizes


async def measure(url: str, seeded: Seeded, clients: int, repeat: int, *, cache_actor: bool) -> dict[str, Any]:
    org, other = seeded.typical, seeded.other
    async with app_server(url, cache_actor=cache_actor) as base, aiohttp.ClientSession() as http:
        ours = await open_pages(http, base, f"/care?org={org.id}&view=pending", org.owner_id, clients)
        theirs = await open_pages(
            http, base, f"/care?org={other.id}&view=pending", other.owner_id, max(1, clients // 10)
        )
        minimal = await open_pages(http, base, "/_bench/minimal", None, clients)
        acks = asyncio.create_task(ack_every_3s(ours + theirs + minimal))
        await asyncio.sleep(2)
        service: list[float] = []
        baseline: list[float] = []
        cpu: tuple[list[float], list[float]] = ([], [])
        sizes: list[int] = []
        started = time.monotonic()
        try:
            for _ in range(repeat):
                first = (await bench_call(http, base, f"/_bench/count?org={org.id}"))["total"] + 1
                found, per_change, sizes_now = await phase(http, base, f"/_bench/send?org={org.id}", ours, first,
                                                           minimal=False)  # fmt: skip
                service, sizes = service + found, sizes + sizes_now
                cpu[0].append(per_change)
                found, per_change, _ = await phase(http, base, "/_bench/tick", minimal, 0, minimal=True)
                baseline += found
                cpu[1].append(per_change)
            strays = sum(1 for page in theirs for h in page.heard if h.at >= started and h.event in LIVE_EVENTS)
        finally:
            acks.cancel()
            await asyncio.gather(*(page.close() for page in ours + theirs + minimal))
    return {
        "clients": clients, "database": "sqlite" if is_sqlite(url) else "postgres", "actor_cache": cache_actor,
        "service_p50": p50(service), "service_p95": p95(service), "service_max": max(service),
        "baseline_p50": p50(baseline), "baseline_p95": p95(baseline), "missed": service.count(float("inf")),
        "cpu_ms_per_change": p50(cpu[0]) * 1000, "baseline_cpu_ms_per_change": p50(cpu[1]) * 1000,
        "other_org_messages": strays, "other_org_clients": len(theirs),
        "bytes_per_update": p50([*map(float, sizes)] or [0.0]),
    }  # fmt: skip


async def ack_every_3s(pages: list[PageClient]) -> None:
    while True:
        await asyncio.sleep(3)
        await asyncio.gather(*(page.ack() for page in pages), return_exceptions=True)


async def run(database: str, total: int, counts: list[int], repeat: int, cache_actor: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        url = f"sqlite://{Path(folder) / 'live.sqlite3'}" if database == "sqlite" else database
        worlds.configure(url)
        seeded = await seed(url, total=total)
        for clients in counts:
            print(json.dumps(await measure(url, seeded, clients, repeat, cache_actor=cache_actor)), flush=True)


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | clients | actor cache (experiment) | service p50 / p95 / max ms | baseline p50 / p95 ms "
        "| ratio p95 | server CPU ms per change: service / baseline | goal p95 ms | met | other org's messages "
        "| bytes per update |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in results:
        goal = GOALS_MS[200] if r["clients"] <= 200 else GOALS_MS[500]
        met = r["service_p95"] <= goal and r["missed"] == 0 and r["other_org_messages"] == 0
        lines.append(
            f"| {r['database']} | {r['clients']} | {'yes' if r['actor_cache'] else 'no'} "
            f"| {r['service_p50']:.0f} / {r['service_p95']:.0f} / {r['service_max']:.0f} "
            f"| {r['baseline_p50']:.0f} / {r['baseline_p95']:.0f} | {r['service_p95'] / r['baseline_p95']:.1f}x "
            f"| {r['cpu_ms_per_change']:.0f} / {r['baseline_cpu_ms_per_change']:.0f} | {goal:.0f} "
            f"| {'yes' if met else 'NO'} | {r['other_org_messages']} ({r['other_org_clients']} pages) "
            f"| {r['bytes_per_update']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    if "--serve" in sys.argv:
        serve()
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="run one database in this process: 'sqlite' or a postgres:// URL (WIPED)")
    parser.add_argument("--postgres", default="", help="also run on this PostgreSQL database (its schema is WIPED)")
    parser.add_argument("--quick", action="store_true", help="20 and 50 clients on 10,000 invitations")
    parser.add_argument("--clients", default="", help="comma-separated client counts (default 200,500)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of 3 bursts of 3 sends (default 3)")
    parser.add_argument(
        "--experiment-actor-cache",
        action="store_true",
        help="also run with each session's actor remembered for 60 s (a change the app does not have)",
    )
    options = parser.parse_args()
    total, counts = (10_000, [20, 50]) if options.quick else (100_000, [200, 500])
    counts = [int(c) for c in options.clients.split(",")] if options.clients else counts
    if options.database:  # one database per process: Tortoise binds the models to one SQL dialect
        asyncio.run(run(options.database, total, counts, options.repeat, options.experiment_actor_cache))
        return
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in machine().items()), flush=True)
    results: list[dict[str, Any]] = []
    for database in ["sqlite"] + ([options.postgres] if options.postgres else []):
        for cache in [False] + ([True] if options.experiment_actor_cache else []):
            command = [sys.executable, "-m", "bench.live_updates", "--database", database, "--repeat",
                       str(options.repeat), "--clients", ",".join(map(str, counts))]  # fmt: skip
            command += (["--quick"] if options.quick else []) + (["--experiment-actor-cache"] if cache else [])
            finished = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
            results += [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    print(table(results))


if __name__ == "__main__":
    main()
