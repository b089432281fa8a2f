"""Issue 6, item 6: the pending list page loaded in Chromium with 100,000 invitations in the database.

The app runs in its own process (bench/lists_server.py) on a SQLite file seeded with 100,000
invitations; Playwright drives Debian's /usr/bin/chromium. Three kinds of load, each timed from navigation
start (the browser's performance.now()): when the table shows its first rows, when the page's websocket is
connected (it reacts from then on), and "usable" = both.

- truly cold (issue 17): a new server process that has answered nothing but its readiness probe (no page built,
  no query of the list run, none of NiceGUI's files served or compressed yet), and a new Chromium process with a
  new, empty profile (empty HTTP cache, no connection open), both started for this one load. What the first
  visitor after a restart sees, on a browser that never visited. The operating system's file cache is warm (the
  same files were read by earlier loads): the one thing not cold, as on any server that has run before.
- cold: a new browser context (empty HTTP cache, new connections) in a browser and server that served earlier loads.
- warm: that context's page reloaded (cached scripts and styles). Then one interaction (sort by
email: the server's new first page is shown) and one live change (an invitation sent by someone else: the
count moves, through the row/counter patch) are timed. Baseline, same server, same run: a minimal NiceGUI page
with a static ui.table of 50 rows. Also checked: the browser never holds more than one page of rows.

    .venv/bin/python -m bench.page_load             # 7 loads of each page, 5 truly cold ones
    .venv/bin/python -m bench.page_load --quick     # 10,000 invitations, 3 loads, 3 truly cold ones
"""

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Browser, Page, async_playwright

from bench import world as worlds
from bench.common import machine, median
from bench.lists_common import Org, app_server, bench_call, seed

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic",
]  # fmt: skip
GOAL_MS = 1000.0
ROWS = "() => { const n = document.querySelectorAll('.q-table tbody tr').length; return n > 0 ? performance.now() : 0 }"
CONNECTED = "() => window.did_handshake === true ? performance.now() : 0"
FIRST_EMAIL = "() => document.querySelector('.q-table tbody tr td:nth-child(2)')?.textContent?.trim() ?? ''"
COUNT = "() => document.querySelector('.q-table__bottom')?.textContent ?? ''"


async def timed(page: Page) -> dict[str, float]:
    shown = await (await page.wait_for_function(ROWS, polling="raf", timeout=30_000)).json_value()
    connected = await (await page.wait_for_function(CONNECTED, polling="raf", timeout=30_000)).json_value()
    rows = await page.evaluate("() => document.querySelectorAll('.q-table tbody tr').length")
    return {"shown_ms": shown, "connected_ms": connected, "usable_ms": max(shown, connected), "rows": rows}


async def load(browser: Browser, base: str, path: str, token: str | None, *, interact: int | None) -> dict[str, Any]:
    context = await browser.new_context()
    if token:
        await context.add_cookies([{"name": "gatehouse_session", "value": token, "url": base}])
    page = await context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        await page.goto(base + path, wait_until="commit")
        cold = await timed(page)
        html_kb = len((await page.content()).encode()) / 1024
        result: dict[str, Any] = {"cold": cold, "html_kb": html_kb}
        if interact is not None:
            result |= await interactions(page, base, interact)
        await page.reload(wait_until="commit")
        result["warm"] = await timed(page)
        result["errors"] = errors
        return result
    finally:
        await context.close()


async def interactions(page: Page, base: str, organisation: int) -> dict[str, float]:
    """Sort by email (a server round trip), then a change made elsewhere arriving as a patch of the counter."""
    before = await page.evaluate(FIRST_EMAIL)
    started = time.perf_counter()
    await page.locator(".q-table th", has_text="Email").first.click()
    await page.wait_for_function(f"() => ({FIRST_EMAIL})() !== {json.dumps(before)}", polling="raf")
    sort_ms = (time.perf_counter() - started) * 1000
    counter = await page.evaluate(COUNT)
    async with aiohttp.ClientSession() as http:
        started = time.perf_counter()
        await bench_call(http, base, f"/_bench/send?org={organisation}")
    await page.wait_for_function(f"() => ({COUNT})() !== {json.dumps(counter)}", polling="raf", timeout=10_000)
    return {"sort_ms": sort_ms, "live_change_ms": (time.perf_counter() - started) * 1000}


async def truly_cold(url: str, path: str, org: Org | None, loads: int) -> list[dict[str, Any]]:
    """Loads each on a new server process and a new Chromium process with an empty profile (see above)."""
    runs = []
    async with async_playwright() as playwright:
        for _ in range(loads):
            async with app_server(url) as base, aiohttp.ClientSession() as http:
                token = (
                    (await bench_call(http, base, f"/_bench/session?member={org.owner_id}"))["token"] if org else None
                )
                browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                try:
                    runs.append(await load(browser, base, path, token, interact=None))
                finally:
                    await browser.close()
    return runs


async def run(total: int, loads: int, cold_loads: int) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-page-load-") as folder:
        url = f"sqlite://{Path(folder) / 'page_load.sqlite3'}"
        worlds.configure(url)
        seeded = await seed(url, total=total)
        async with app_server(url) as base, aiohttp.ClientSession() as http, async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            pages = [
                (f"pending list, {org.invitations:,} invitations", f"/care?org={org.id}&view=pending", org)
                for org in (seeded.large, seeded.typical)
            ]
            results: list[dict[str, Any]] = []
            for name, path, org in [*pages, ("baseline: static table of 50 rows", "/_bench/minimal", None)]:
                runs = []
                for _ in range(loads):
                    token = (
                        (await bench_call(http, base, f"/_bench/session?member={org.owner_id}"))["token"]
                        if org
                        else None
                    )
                    runs.append(await load(browser, base, path, token, interact=org.id if org else None))
                results.append({"page": name, "runs": runs, "load_average": os.getloadavg()[0]})
            await browser.close()
        for result, (_, path, org) in zip(results, [*pages, ("", "/_bench/minimal", None)], strict=True):
            result["truly_cold"] = await truly_cold(url, path, org, cold_loads)
            result["load_average"] = max(result["load_average"], os.getloadavg()[0])
            print(json.dumps(result), flush=True)
        return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| page | load | truly cold: rows shown / connected / usable ms (max) | ratio | goal < 1 s "
        "| cold: rows shown / connected / usable ms | warm: usable ms | ratio (usable, cold) "
        "| rows in the browser | HTML KB | sort round trip ms | live change ms | browser errors |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    baseline = median([r["cold"]["usable_ms"] for r in results[-1]["runs"]])
    first_baseline = median([r["cold"]["usable_ms"] for r in results[-1]["truly_cold"]])
    for result in results:
        runs = result["runs"]

        def m(key: str, phase: str = "cold", runs: list[dict[str, Any]] = runs) -> float:
            return median([r[phase][key] for r in runs])

        usable, first = m("usable_ms"), m("usable_ms", runs=result["truly_cold"])
        slowest = max(r["cold"]["usable_ms"] for r in result["truly_cold"])
        interaction = [
            median([r[k] for r in runs]) if k in runs[0] else float("nan") for k in ("sort_ms", "live_change_ms")
        ]
        lines.append(
            f"| {result['page']} | {result['load_average']:.1f} "
            f"| {m('shown_ms', runs=result['truly_cold']):.0f} / {m('connected_ms', runs=result['truly_cold']):.0f} "
            f"/ {first:.0f} ({slowest:.0f}) | {first / first_baseline:.2f}x | {'yes' if first < GOAL_MS else 'NO'} "
            f"| {m('shown_ms'):.0f} / {m('connected_ms'):.0f} / {usable:.0f} "
            f"| {m('usable_ms', 'warm'):.0f} | {usable / baseline:.2f}x "
            f"| {max(r['cold']['rows'] for r in runs)} | {median([r['html_kb'] for r in runs]):.0f} "
            f"| {interaction[0]:.0f} | {interaction[1]:.0f} | {sum(len(r['errors']) for r in runs)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="10,000 invitations and 3 loads of each page")
    parser.add_argument("--loads", type=int, default=0, help="loads of each page (default 7)")
    parser.add_argument("--cold-loads", type=int, default=0, help="truly cold loads of each page (default 5)")
    options = parser.parse_args()
    total, loads, cold = (10_000, 3, 3) if options.quick else (100_000, 7, 5)
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in machine().items()), flush=True)
    print(table(asyncio.run(run(total, options.loads or loads, options.cold_loads or cold))))


if __name__ == "__main__":
    main()
