"""Issue 6, item 5: server memory per open pending-list page, with 500 pages open in one process.

The app runs in its own process (bench/lists_server.py) on 100,000 invitations; this process opens N
pages of /care?view=pending as a browser does (HTML, then the websocket, acks every 3 s) and reads the server's
RSS (after gc.collect()) before and after. Baseline, same run, its own fresh server: N pages of a minimal NiceGUI
page holding a label and a static ui.table of 50 rows. With --tracemalloc the server also traces Python
allocations (slower; RSS then includes the tracer's own memory) and reports them per page.

    .venv/bin/python -m bench.memory                 # 500 pages, SQLite
    .venv/bin/python -m bench.memory --quick         # 50 pages, 10,000 invitations
    .venv/bin/python -m bench.memory --tracemalloc   # Python allocations per page as well
"""

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import aiohttp

from bench import world as worlds
from bench.common import machine
from bench.deflate_clients import CHROMIUM_OFFER, negotiated_extensions
from bench.lists_common import PageClient, app_server, seed
from bench.live_updates import ack_every_3s, open_pages

GOAL_KB = 300


async def stats(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    async with http.get(base + "/_bench/stats?collect=true") as response:
        result: dict[str, Any] = await response.json()
        return result


async def per_page(
    url: str, path: str, member: int | None, count: int, *, tracemalloc: bool, compress: bool
) -> dict[str, Any]:
    """KB of server memory per open page: (after N pages - before) / N, on a fresh server."""
    async with app_server(url, tracemalloc=tracemalloc) as base, aiohttp.ClientSession() as http:
        negotiated = await negotiated_extensions(base, "/_bench/minimal", {}, offer=CHROMIUM_OFFER)
        # templates, modules and caches a first page loads
        warm = await open_pages(http, base, path, member, 3, compress=compress)
        await asyncio.sleep(1)
        await asyncio.gather(*(page.close() for page in warm))
        await asyncio.sleep(5)  # deleted after the reconnect timeout (3 s)
        before = await stats(http, base)
        pages: list[PageClient] = await open_pages(http, base, path, member, count, compress=compress)
        acks = asyncio.create_task(ack_every_3s(pages))
        await asyncio.sleep(7)  # two acks: the message history is pruned as a browser would have it
        after = await stats(http, base)
        if tracemalloc:
            print("\n".join(["allocation sites that grew with the pages:", *after["top"]]), file=sys.stderr)
        acks.cancel()
        html = statistics.median(page.html_bytes for page in pages)
        await asyncio.gather(*(page.close() for page in pages))
        await asyncio.sleep(6)
        closed = await stats(http, base)
    return {
        "clients_offer_deflate": compress,
        "server_answers_chromium": negotiated or "none",
        "load_average": os.getloadavg()[0],
        "pages": after["clients"] - before["clients"],
        "rss_kb_per_page": (after["rss_kb"] - before["rss_kb"]) / (after["clients"] - before["clients"]),
        "traced_kb_per_page": (after["traced_bytes"] - before["traced_bytes"])
        / 1024
        / (after["clients"] - before["clients"]),
        "rss_mb_before": before["rss_kb"] / 1024,
        "rss_mb_open": after["rss_kb"] / 1024,
        "rss_mb_closed": closed["rss_kb"] / 1024,
        "traced_kb_per_page_after_close": (closed["traced_bytes"] - before["traced_bytes"]) / 1024 / count,
        "clients_after_close": closed["clients"],
        "html_kb": html / 1024,
    }


async def run(count: int, total: int, tracemalloc: bool, compress: bool) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as folder:
        url = f"sqlite://{Path(folder) / 'memory.sqlite3'}"
        worlds.configure(url)
        seeded = await seed(url, total=total)
        results = []
        for name, path, member in (
            ("pending list (/care?view=pending)", f"/care?org={seeded.large.id}&view=pending", seeded.large.owner_id),
            (
                "the pending view alone, without the portal frame",
                f"/_bench/pending_only?org={seeded.large.id}",
                seeded.large.owner_id,
            ),
            ("baseline: label + static table of 50 rows", "/_bench/minimal", None),
        ):
            found = await per_page(url, path, member, count, tracemalloc=tracemalloc, compress=compress)
            results.append({"page": name, "open": count, **found})
            print(json.dumps(results[-1]), flush=True)
        return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| page | open pages | deflate: clients offer / server answers | load | RSS KB per page | ratio "
        "| traced KB per page | RSS MB: before / open / closed | HTML KB | goal |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    baseline = results[-1]["rss_kb_per_page"]
    for r in results:
        met = "—" if r is results[-1] else ("yes" if r["rss_kb_per_page"] <= GOAL_KB else "NO")
        lines.append(
            f"| {r['page']} | {r['pages']} | {'yes' if r['clients_offer_deflate'] else 'no'} / "
            f"{r['server_answers_chromium']} | {r['load_average']:.1f} | {r['rss_kb_per_page']:.0f} "
            f"| {r['rss_kb_per_page'] / baseline:.2f}x "
            f"| {r['traced_kb_per_page']:.0f} | {r['rss_mb_before']:.0f} / {r['rss_mb_open']:.0f} / "
            f"{r['rss_mb_closed']:.0f} | {r['html_kb']:.0f} | {met} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 pages on 10,000 invitations")
    parser.add_argument("--pages", type=int, default=0, help="open pages (default 500)")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python allocations (slower)")
    parser.add_argument(
        "--no-deflate-offer",
        action="store_true",
        help="the page clients offer no permessage-deflate (as before issue 17; Chromium always offers it)",
    )
    options = parser.parse_args()
    count, total = (50, 10_000) if options.quick else (500, 100_000)
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in machine().items()), flush=True)
    print(table(asyncio.run(run(options.pages or count, total, options.tracemalloc, not options.no_deflate_offer))))


if __name__ == "__main__":
    main()
