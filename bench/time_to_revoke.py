"""Issue 18 item 2: time-to-revoke across two processes on PostgreSQL (goal: under 60 s at p95).

Time-to-revoke (PRODUCT.md): from the moment access should stop to the last request it still allowed. Two app
processes share one database (bench/revoke_world.py): A leads housekeeping and is where the access is taken away;
every member is signed in on B (a real session cookie from /auth/complete), asks B for the organisation's staff
list every `--poll` seconds (what every action on the Care Portal's staff list does: the session read afresh, the
service's permission check; bench/revoke_server.py) and holds that list open as a page (its socket, as a browser
keeps it). Three paths, one after the other, each on members of its own:

- end: the sponsor gives each grant an end a few seconds away, through A's service (grant_ends.set_end), staggered
  by `--stagger`; nothing else happens: housekeeping (on A) must end them by itself;
- remove: *Remove from team* through A's service (staff.remove_from_team), one member every `--stagger`;
- suspend: *Suspend account* through A's service (suspension.suspend), one member every `--stagger`.

Per member: the moment access should stop (the end; or when the removal or suspension was sent to A), the last
request B allowed (its answer's arrival: an upper bound of when it was decided) and the first it refused (its
sending), any request allowed after a refusal, and when the open page lost what the grant gave (it was sent to the
log-in page or reloaded). Half of the members hold another grant elsewhere: their sessions must stay, their page
must still lose this organisation's staff list.

Baseline (same run): the gap between two requests of one member, as measured (the poll interval, or longer when B
falls behind). It is the resolution of any such measurement: a product that refuses from the very moment access
stops is seen refused within one gap, and the last request it allowed is one that was in flight at that moment,
answered at most one request's time later (its median is reported beside it). So time-to-revoke / gap at or under
about 1 reads "refused from the moment on, as far as a client can tell"; the goal's 60 s is some 200 gaps. The
housekeeping interval (60 s by default) is no baseline: access never waits for housekeeping (every check reads only
grants in force), only the marking, the open pages and the sessions of members left with nothing do.

    .venv/bin/python -m bench.time_to_revoke --postgres postgres://postgres@127.0.0.1:5432/gatehouse_bench  # WIPED
    .venv/bin/python -m bench.time_to_revoke --postgres ... --members 20 --paths end --housekeeping-seconds 60
"""

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
from typing import Any

import aiohttp

from bench import revoke_world as worlds
from bench.common import machine
from bench.lists_common import PageClient
from bench.revoke_report import Options, Poll, Watched, figures, page_left, summarise, summary
from bench.revoke_world import Member, Process, World

__all__ = ["PATHS", "Options", "run", "summary"]

PATHS = ("end", "remove", "suspend")
PAGE_TEXT = "All staff members"  # a complete staff-list page holds it


def cookie(token: str) -> dict[str, str]:
    return {"Cookie": f"gatehouse_session={token}"}


async def log_in(http: aiohttp.ClientSession, b: Process, member: Member) -> str:
    """The real log-in: the service the form calls, then the ticket spent at /auth/complete for the cookie."""
    query = {"email": member.email, "password": worlds.PASSWORD}
    async with http.post(b.base + "/_bench/revoke/login", params=query) as response:
        response.raise_for_status()
        ticket = (await response.json())["ticket"]
    async with http.get(b.base + "/auth/complete", params={"ticket": ticket}, allow_redirects=False) as response:
        return str(response.cookies["gatehouse_session"].value)


async def open_pages(
    http: aiohttp.ClientSession, b: Process, world: World, watched: list[Watched], leaving: set[asyncio.Task[None]]
) -> None:
    """Each member's staff list open on B, two loading at a time (as bench.live_updates opens its pages). Told to
    go elsewhere, a page closes its socket, as a browser leaving it does (else B would keep refreshing it)."""
    gate = asyncio.Semaphore(2)

    async def one(w: Watched) -> None:
        async with gate:
            page = PageClient(b.base, f"/care?org={world.organisation_id}", w.token, expect=PAGE_TEXT)
            left: list[asyncio.Task[None]] = []

            def leave(event: str, _data: Any) -> None:
                if event == "open" and not left:
                    left.append(asyncio.get_running_loop().create_task(page.close()))
                    leaving.add(left[0])

            page.reader = leave
            await page.open(http)
            w.page = page

    await asyncio.gather(*(one(w) for w in watched))


async def poll(http: aiohttp.ClientSession, b: Process, world: World, w: Watched, options: Options) -> None:
    """Ask B for the staff list every options.poll seconds until refused (and a little longer)."""
    next_at = time.time()
    while not w.finished(options.tail):
        sent = time.time()
        status = await ask(http, b, world, w)
        w.polls.append(Poll(sent, time.time(), status))
        next_at = max(next_at + options.poll, time.time())
        await asyncio.sleep(next_at - time.time())


async def ask(http: aiohttp.ClientSession, b: Process, world: World, w: Watched) -> int:
    async with http.get(f"{b.base}/_bench/revoke/staff?org={world.organisation_id}", headers=cookie(w.token)) as answer:
        await answer.read()
        return answer.status


async def take_away(http: aiohttp.ClientSession, a: Process, world: World, path: str, watched: list[Watched],
                    options: Options) -> None:  # fmt: skip
    """Through A: give each grant its end (path end), or remove or suspend one member every options.stagger s."""
    first = time.time() + options.lead
    for n, w in enumerate(watched):
        at = first + n * options.stagger
        if path == "end":
            query = {"by": world.owner_id, "assignment": w.member.assignment_id, "at": at}
            await _post(http, a, "set_end", query)
            w.end = at
            continue
        await asyncio.sleep(max(0.0, at - time.time()))
        w.end = time.time()
        if path == "remove":
            done = await _post(http, a, "remove", {"by": world.owner_id, "assignment": w.member.assignment_id})
        else:
            done = await _post(http, a, "suspend", {"by": world.admin_id, "member": w.member.id})
        w.acted = float(done["done"])
    if path == "end" and time.time() >= first:
        raise RuntimeError(f"setting {len(watched)} ends took longer than --lead {options.lead} s: raise it")


async def _post(http: aiohttp.ClientSession, process: Process, route: str, query: dict[str, Any]) -> Any:
    async with http.post(f"{process.base}/_bench/revoke/{route}", params=query) as response:
        response.raise_for_status()
        return await response.json()


async def cpu(http: aiohttp.ClientSession, process: Process) -> float:
    async with http.get(process.base + "/_bench/revoke/cpu") as response:
        return float((await response.json())["cpu_s"])


async def acks(watched: list[Watched]) -> None:
    while True:  # what a browser sends every 3 s
        await asyncio.sleep(3)
        for w in watched:
            if w.page is not None:
                with contextlib.suppress(Exception):
                    await w.page.ack()


async def phase(
    http: aiohttp.ClientSession, a: Process, b: Process, world: World, path: str, options: Options
) -> dict[str, Any]:
    """One path on its members: sign in on B, open pages, poll, take access away through A, watch."""
    watched = [Watched(m, await log_in(http, b, m)) for m in world.members[path]]
    leaving: set[asyncio.Task[None]] = set()
    if options.pages:
        await open_pages(http, b, world, watched, leaving)
    acking = asyncio.create_task(acks(watched))
    pollers = [asyncio.create_task(poll(http, b, world, w, options)) for w in watched]
    try:
        await asyncio.sleep(options.warm)
        cpu_before = [await cpu(http, p) for p in (a, b)] + [time.process_time()]
        await take_away(http, a, world, path, watched, options)
        deadline = max(w.end or 0.0 for w in watched) + options.watch
        while time.time() < deadline and not all(_settled(w, options) for w in watched):
            await asyncio.sleep(0.1)
        cpu_after = [await cpu(http, p) for p in (a, b)] + [time.process_time()]
        for w in watched:
            w.last_status = await ask(http, b, world, w)
    finally:
        for task in (*pollers, acking):
            task.cancel()
        await asyncio.gather(*pollers, acking, *leaving, return_exceptions=True)
        await asyncio.gather(*(w.page.close() for w in watched if w.page is not None))
    members = [figures(w, options) for w in watched]
    spent = zip(("A", "B", "bench"), cpu_before, cpu_after, strict=True)
    cpu_used = {f"cpu_{name}_s": after - before for name, before, after in spent}
    return {"path": path, "members": members, **cpu_used, "load": os.getloadavg()[0]}


def _settled(w: Watched, options: Options) -> bool:
    return w.finished(options.tail) and (w.page is None or page_left(w) is not None)


async def run(
    url: str, paths: tuple[str, ...], members: int, housekeeping_seconds: int, options: Options
) -> list[dict[str, Any]]:
    """Seed, start A and B, and measure each path in turn; returns one result per path."""
    world = await worlds.seed(url, paths, members)
    results = []
    async with (
        worlds.cluster(url, housekeeping_seconds=housekeeping_seconds) as (a, b),
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
    ):
        for path in paths:
            result = await phase(http, a, b, world, path, options)
            result["leaders"] = await worlds.leaders(http, (a, b))
            result["summary"] = summarise(result)
            print(f"  {path}: {json.dumps(result['summary'])}", file=sys.stderr, flush=True)
            results.append(result)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", required=True, help="a PostgreSQL database to WIPE and use")
    parser.add_argument("--members", type=int, default=50, help="members per path (default 50)")
    parser.add_argument("--paths", default=",".join(PATHS), help="which paths, comma-separated")
    parser.add_argument("--poll", type=float, default=0.25, help="seconds between a member's requests (0.25)")
    parser.add_argument("--stagger", type=float, default=0.2, help="seconds between two members' moments (0.2)")
    parser.add_argument("--lead", type=float, default=5.0, help="the first end this long after setting them (5)")
    parser.add_argument("--watch", type=float, default=75.0, help="how long pages are watched after the last moment")
    parser.add_argument("--warm", type=float, default=2.0, help="seconds of requests before the first moment (2)")
    parser.add_argument("--tail", type=float, default=1.0, help="requests go on this long after a refusal (1)")
    parser.add_argument("--housekeeping-seconds", type=int, default=60, help="the app's setting (default 60)")
    parser.add_argument("--no-pages", action="store_true", help="requests only, no open pages")
    options = parser.parse_args()
    paths = tuple(p for p in PATHS if p in options.paths.split(","))
    chosen = Options(poll=options.poll, stagger=options.stagger, lead=options.lead, warm=options.warm,
                     tail=options.tail, watch=options.watch, pages=not options.no_pages)  # fmt: skip
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in machine().items()), flush=True)
    results = asyncio.run(run(options.postgres, paths, options.members, options.housekeeping_seconds, chosen))
    print(f"\nPostgreSQL, two processes, {options.members} members a path, poll {options.poll} s:")
    table = summary([r["summary"] for r in results])
    print(table)
    print(json.dumps({"benchmark": "time_to_revoke", "options": vars(options), "runs": results, "table": table}))


if __name__ == "__main__":
    main()
