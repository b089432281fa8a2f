"""Issue 17: do the bench's page clients stand for real Chromium tabs? Both open on one pending list, side by side.

One app process (bench/lists_server.py) on 10,000 invitations. First K Chromium tabs (Debian's /usr/bin/chromium
through Playwright, each in a context of its own with its own session, so each negotiates its socket as Chromium
does) open the typical organisation's pending list; the server's RSS (after gc.collect()) before and after gives
KB per tab. Then K of the bench's page clients (offering permessage-deflate as Chromium does) open the same list:
KB per client. Then invitations are sent in 3 bursts of 3, and every tab's and client's latency is taken from the
server's publish to the moment the new count is on screen (a MutationObserver in each tab, on the browser's
clock: performance.timeOrigin + now(), wall time like the server's) or arrives (the clients).

    .venv/bin/python -m bench.beside_chromium                  # 8 tabs and 8 clients, the app's default
    BENCH_UI_RUN='{"ws_per_message_deflate": true}' .venv/bin/python -m bench.beside_chromium   # deflate accepted
"""

import argparse
import asyncio
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import BrowserContext, Page, async_playwright

from bench import world as worlds
from bench.common import machine
from bench.deflate_clients import CHROMIUM_OFFER, negotiated_extensions
from bench.lists_common import app_server, bench_call, p50, p95, seed
from bench.live_updates import ack_every_3s, bursts, latencies, open_pages, settle
from bench.memory import stats
from bench.page_load import CHROMIUM_ARGS, CONNECTED, ROWS

OBSERVE = """() => {
    window.bench_counts = [];
    const bottom = document.querySelector('.q-table__bottom');
    const note = () => window.bench_counts.push([performance.timeOrigin + performance.now(), bottom.textContent]);
    new MutationObserver(note).observe(bottom, { subtree: true, childList: true, characterData: true });
}"""


async def open_tab(context: BrowserContext, base: str, path: str, token: str) -> Page:
    await context.add_cookies([{"name": "gatehouse_session", "value": token, "url": base}])
    page = await context.new_page()
    await page.goto(base + path, wait_until="commit")
    await page.wait_for_function(ROWS, polling="raf", timeout=60_000)
    await page.wait_for_function(CONNECTED, polling="raf", timeout=60_000)
    await page.evaluate(OBSERVE)
    return page


async def tab_latencies(tabs: list[Page], changes: list[tuple[float, int]], offset: float) -> list[float]:
    """Per tab and change: ms from publish (server's monotonic clock, made wall time) to the count on screen."""
    found: list[float] = []
    for tab in tabs:
        seen = [(at / 1000, _count(text)) for at, text in await tab.evaluate("() => window.bench_counts")]
        for published, wanted in changes:
            arrival = next((at for at, count in seen if count >= wanted), None)
            found.append(float("inf") if arrival is None else max(0.0, arrival - (published + offset)) * 1000)
    return found


def _count(text: str) -> int:
    numbers = re.findall(r"\d[\d,]*", text)
    return int(numbers[-1].replace(",", "")) if numbers else -1


async def run(count: int) -> dict[str, Any]:
    offset = time.time() - time.monotonic()  # the server's publish times are monotonic, the browser's wall time
    with tempfile.TemporaryDirectory(prefix="bench-beside-") as folder:
        url = f"sqlite://{Path(folder) / 'beside.sqlite3'}"
        worlds.configure(url)
        org = (await seed(url, total=10_000)).typical
        path = f"/care?org={org.id}&view=pending"
        async with app_server(url) as base, aiohttp.ClientSession() as http, async_playwright() as playwright:
            answer = await negotiated_extensions(base, "/_bench/minimal", {}, offer=CHROMIUM_OFFER)
            browser = await playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            warm = await open_pages(http, base, path, org.owner_id, 2)  # first-page costs out of the figures:
            token = (await bench_call(http, base, f"/_bench/session?member={org.owner_id}"))["token"]
            first_tab = await open_tab(await browser.new_context(), base, path, token)  # and the files' first serving
            await asyncio.gather(*(page.close() for page in warm), first_tab.context.close())
            await asyncio.sleep(5)  # the closed pages are deleted after NiceGUI's reconnect timeout (3 s)
            before = await stats(http, base)
            tabs = []
            for _ in range(count):
                token = (await bench_call(http, base, f"/_bench/session?member={org.owner_id}"))["token"]
                tabs.append(await open_tab(await browser.new_context(), base, path, token))
            await asyncio.sleep(7)  # two of the browsers' acks: the message history pruned
            with_tabs = await stats(http, base)
            clients = await open_pages(http, base, path, org.owner_id, count)
            acks = asyncio.create_task(ack_every_3s(clients))
            await asyncio.sleep(7)
            with_clients = await stats(http, base)
            first = (await bench_call(http, base, f"/_bench/count?org={org.id}"))["total"] + 1
            since = time.monotonic()
            said = await bursts(http, base, f"/_bench/send?org={org.id}", bursts=3, size=3)
            changes = [(s["published"], first + n) for n, s in enumerate(said)]
            await settle(clients, changes[-1][1])
            tab_ms = await tab_latencies(tabs, changes, offset)
            client_ms = latencies(clients, changes, since)
            acks.cancel()
            await asyncio.gather(*(client.close() for client in clients))
            await browser.close()
    return {
        "server_answers_chromium": answer or "none", "load_average": os.getloadavg()[0], "pages": count,
        "kb_per_chromium_tab": (with_tabs["rss_kb"] - before["rss_kb"]) / count,
        "kb_per_bench_client": (with_clients["rss_kb"] - with_tabs["rss_kb"]) / count,
        "chromium_p50_p95_max": [p50(tab_ms), p95(tab_ms), max(tab_ms)],
        "bench_p50_p95_max": [p50(client_ms), p95(client_ms), max(client_ms)],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=8, help="Chromium tabs, and as many bench clients (default 8)")
    options = parser.parse_args()
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in machine().items()), flush=True)
    print(json.dumps(asyncio.run(run(options.pages))))


if __name__ == "__main__":
    main()
