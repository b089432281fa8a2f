"""Issue 6, item 4: N open pending lists of one organisation while invitations are sent in bursts.

The app runs in its own process (bench/lists_server.py: main.py's wiring plus /_bench routes); this process opens N
pages of one organisation's /care?view=pending (each with its own session) and N/10 of another organisation's,
each as a browser does (HTML, then a Socket.IO websocket), and records every message. A burst is a few
invitations.send calls through the real service; a change's latency, per client, is from the server's
events.publish to the first message that shows the new count. Baseline, same run, same clients: a minimal
NiceGUI page whose label the server sets on every open page (the cheapest push NiceGUI has to N tabs); and the
floor, same pages: one prebuilt message written straight onto every page's websocket (no refresh, no NiceGUI).

    .venv/bin/python -m bench.live_updates                  # 200 and 500 clients, SQLite
    .venv/bin/python -m bench.live_updates --postgres postgres://postgres@127.0.0.1:5432/gatehouse_lists
    .venv/bin/python -m bench.live_updates --quick          # 20 and 50 clients, 10,000 invitations
"""

import argparse
import asyncio
import functools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bench import world as worlds
from bench.common import machine
from bench.deflate_clients import CHROMIUM_OFFER, BrowserLikePageClient, negotiated_extensions
from bench.lists_common import (
    PageClient,
    Seeded,
    app_server,
    bench_call,
    is_sqlite,
    message_bytes,
    p50,
    p95,
    results_of,
    seed,
)

GOALS_MS = {200: 100.0, 500: 250.0}
LIVE_EVENTS = ("update", "run_javascript")
CPU_KEYS = ("cpu_ms_per_change", "baseline_cpu_ms_per_change", "floor_cpu_ms_per_change")


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
    http: aiohttp.ClientSession, base: str, path: str, member: int | None, count: int, *, compress: bool = True
) -> list[PageClient]:
    """count complete pages, two loading at a time (a page built in over 3 s comes back partial: tried again).

    Their sockets offer permessage-deflate as Chromium's do, unless compress=False."""
    pages: list[PageClient] = []
    gate = asyncio.Semaphore(2)
    expect = "data-bench" if member is None else "Pending staff invitations"

    async def one() -> None:
        async with gate:
            for attempt in range(5):
                token = (await bench_call(http, base, f"/_bench/session?member={member}"))["token"] if member else None
                page = BrowserLikePageClient(base, path, token, expect, compress=compress)
                page.reader = functools.partial(version_of, minimal=member is None)
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


def latencies(pages: list[PageClient], changes: list[tuple[float, int]], since: float) -> list[float]:
    """Per client and change (published at, version): ms to the first message showing at least that version."""
    found: list[float] = []
    for page in pages:
        seen = [(at, version) for at, version in page.versions if at >= since]
        for published, wanted in changes:
            arrival = next((at for at, version in seen if version >= wanted), None)
            found.append(float("inf") if arrival is None else max(0.0, arrival - published) * 1000)
    return found


async def settle(pages: list[PageClient], version: int) -> None:
    """Wait (at most 30 s) until every page shows the version."""
    for _ in range(300):
        if all(page.versions and page.versions[-1][1] >= version for page in pages):
            return
        await asyncio.sleep(0.1)


async def phase(
    http: aiohttp.ClientSession, base: str, route: str, pages: list[PageClient], first: int
) -> tuple[list[float], float, list[int]]:
    """3 bursts of 3 changes: every page's latency for every change, server CPU per change, message sizes."""
    since = time.monotonic()
    cpu = (await (await http.get(base + "/_bench/stats")).json())["cpu_s"]
    said = await bursts(http, base, route, bursts=3, size=3)
    changes = [(s["published"], s.get("tick", first + n)) for n, s in enumerate(said)]
    await settle(pages, changes[-1][1])  # no backlog may spill into the next phase
    cpu = (await (await http.get(base + "/_bench/stats")).json())["cpu_s"] - cpu
    sizes = [message_bytes(h) for h in pages[0].heard if h.at >= since and h.event in LIVE_EVENTS]
    return latencies(pages, changes, since), cpu / len(changes), sizes


async def measure(
    url: str, seeded: Seeded, clients: int, repeat: int, *, gc_freeze: bool, compress: bool
) -> dict[str, Any]:
    org, other = seeded.typical, seeded.other
    async with app_server(url) as base, aiohttp.ClientSession() as http:
        negotiated = await negotiated_extensions(base, "/_bench/minimal", {}, offer=CHROMIUM_OFFER)
        opened = functools.partial(open_pages, http, base, compress=compress)
        ours = await opened(f"/care?org={org.id}&view=pending", org.owner_id, clients)
        theirs = await opened(f"/care?org={other.id}&view=pending", other.owner_id, max(1, clients // 10))
        minimal = await opened("/_bench/minimal", None, clients)
        acks = asyncio.create_task(ack_every_3s(ours + theirs + minimal))
        await asyncio.sleep(2)
        paused = len(await gc_pauses(http, base, freeze=gc_freeze))
        service: list[float] = []
        baseline: list[float] = []
        floor: list[float] = []
        cpu: tuple[list[float], list[float], list[float]] = ([], [], [])
        sizes: list[int] = []
        started = time.monotonic()
        try:
            for _ in range(repeat):
                first = (await bench_call(http, base, f"/_bench/count?org={org.id}"))["total"] + 1
                found, per_change, sizes_now = await phase(http, base, f"/_bench/send?org={org.id}", ours, first)
                service, sizes = service + found, sizes + sizes_now
                cpu[0].append(per_change)
                found, per_change, _ = await phase(http, base, "/_bench/tick", minimal, 0)
                baseline += found
                cpu[1].append(per_change)
                found, per_change, _ = await phase(http, base, "/_bench/raw", minimal, 0)
                floor += found
                cpu[2].append(per_change)
            longest = max((await gc_pauses(http, base))[paused:], default=0.0)
            heard = [(page, h) for page in theirs for h in page.heard if h.at >= started and h.event in LIVE_EVENTS]
            theirs_total = (await bench_call(http, base, f"/_bench/count?org={other.id}"))["total"]
            leaks = sum(1 for page, h in heard if page.reader and page.reader(h.event, h.data) != theirs_total)
            for _, h in heard[:1]:
                print(f"another organisation's page heard: {json.dumps(h.data)[:600]}", file=sys.stderr)
        finally:
            acks.cancel()
            await asyncio.gather(*(page.close() for page in ours + theirs + minimal))
    return {
        "clients": clients, "database": "sqlite" if is_sqlite(url) else "postgres", "gc_freeze": gc_freeze,
        "clients_offer_deflate": compress, "server_answers_chromium": negotiated or "none",
        "load_average": os.getloadavg()[0],
        "service_p50": p50(service), "service_p95": p95(service), "service_max": max(service),
        "baseline_p50": p50(baseline), "baseline_p95": p95(baseline), "baseline_max": max(baseline),
        "missed": service.count(float("inf")),
        "floor_p50": p50(floor), "floor_p95": p95(floor), "floor_max": max(floor),
        "floor_cpu_ms_per_change": p50(cpu[2]) * 1000,
        "gc_pause_max_ms": longest, "cpu_ms_per_change": p50(cpu[0]) * 1000,
        "baseline_cpu_ms_per_change": p50(cpu[1]) * 1000,
        "other_org_messages": len(heard), "other_org_changes": leaks, "other_org_clients": len(theirs),
        "bytes_per_update": p50([*map(float, sizes)] or [0.0]),
    }  # fmt: skip


async def gc_pauses(http: aiohttp.ClientSession, base: str, *, freeze: bool = False) -> list[float]:
    """The collector's full passes so far, in ms (a change waits for them like for any other work)."""
    query = "?collect=true&freeze=true" if freeze else ""
    async with http.get(base + "/_bench/stats" + query) as response:
        return list((await response.json())["gc_pauses_ms"])


async def ack_every_3s(pages: list[PageClient]) -> None:
    while True:
        await asyncio.sleep(3)
        await asyncio.gather(*(page.ack() for page in pages), return_exceptions=True)


async def run(database: str, total: int, counts: list[int], repeat: int, gc_freeze: bool, compress: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        url = f"sqlite://{Path(folder) / 'live.sqlite3'}" if database == "sqlite" else database
        worlds.configure(url)
        seeded = await seed(url, total=total)
        for clients in counts:
            found = await measure(url, seeded, clients, repeat, gc_freeze=gc_freeze, compress=compress)
            print(json.dumps(found), flush=True)


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | clients | load | deflate: clients offer / server answers | gc.freeze (experiment) "
        "| service p50 / p95 / max ms | baseline p50 / p95 / max ms "
        "| floor p50 / p95 / max ms | p95 ratio to baseline / floor "
        "| server CPU ms per change: service / baseline / floor (per page) "
        "| longest gc pause ms | goal p95 ms "
        "| met | other org's messages showing another count, of all (a page's own relative-time redraws) "
        "| bytes per update |",
        "| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for r in results:
        pages = r["clients"]
        goal = GOALS_MS[200] if pages <= 200 else GOALS_MS[500]
        met = r["service_p95"] <= goal and r["missed"] == 0 and r.get("other_org_changes", 0) == 0
        lines.append(
            f"| {r['database']} | {r['clients']} | {r['load_average']:.1f} "
            f"| {'yes' if r['clients_offer_deflate'] else 'no'} / {r['server_answers_chromium']} "
            f"| {'yes' if r['gc_freeze'] else 'no'} "
            f"| {r['service_p50']:.0f} / {r['service_p95']:.0f} / {r['service_max']:.0f} "
            f"| {r['baseline_p50']:.0f} / {r['baseline_p95']:.0f} / {r['baseline_max']:.0f} "
            f"| {r['floor_p50']:.0f} / {r['floor_p95']:.0f} / {r['floor_max']:.0f} "
            f"| {r['service_p95'] / r['baseline_p95']:.1f}x / {r['service_p95'] / r['floor_p95']:.1f}x "
            f"| {' / '.join(f'{r[key]:.0f}' for key in CPU_KEYS)} "
            f"({' / '.join(f'{r[key] / pages:.2f}' for key in CPU_KEYS)}) "
            f"| {r['gc_pause_max_ms']:.0f} | {goal:.0f} "
            f"| {'yes' if met else 'NO'} | {r.get('other_org_changes', '-')} of {r['other_org_messages']} "
            f"({r['other_org_clients']} pages) "
            f"| {r['bytes_per_update']:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="run one database in this process: 'sqlite' or a postgres:// URL (WIPED)")
    parser.add_argument("--postgres", default="", help="also run on this PostgreSQL database (its schema is WIPED)")
    parser.add_argument("--quick", action="store_true", help="20 and 50 clients on 10,000 invitations")
    parser.add_argument("--clients", default="", help="comma-separated client counts (default 200,500)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of 3 bursts of 3 sends (default 3)")
    parser.add_argument(
        "--experiment-gc-freeze",
        action="store_true",
        help="also run with gc.freeze() once the pages are open: the steady state of the app's collector schedule",
    )
    parser.add_argument(
        "--no-deflate-offer",
        action="store_true",
        help="the page clients offer no permessage-deflate (as before issue 17; Chromium always offers it)",
    )
    options = parser.parse_args()
    total, counts = (10_000, [20, 50]) if options.quick else (100_000, [200, 500])
    counts = [int(c) for c in options.clients.split(",")] if options.clients else counts
    if options.database:  # one database per process: Tortoise binds the models to one SQL dialect
        compress = not options.no_deflate_offer
        asyncio.run(run(options.database, total, counts, options.repeat, options.experiment_gc_freeze, compress))
        return
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in machine().items()), flush=True)
    results: list[dict[str, Any]] = []
    for database in ["sqlite"] + ([options.postgres] if options.postgres else []):
        for cache in [False] + ([True] if options.experiment_gc_freeze else []):
            command = [sys.executable, "-m", "bench.live_updates", "--database", database, "--repeat",
                       str(options.repeat), "--clients", ",".join(map(str, counts))]  # fmt: skip
            command += (["--quick"] if options.quick else []) + (["--experiment-gc-freeze"] if cache else [])
            command += ["--no-deflate-offer"] if options.no_deflate_offer else []
            results += results_of(command)
    print(table(results))


if __name__ == "__main__":
    main()
