"""Issue 6, item 3 and issue 17, goal 2: the pending list of a big organisation, against hand-written SQL.

Data (bench/lists_common.py): 1,000,000 invitations across 100 organisations, the large one holding 100,000
pending (`--quick`: 10,000 invitations, the large one 10%; `--total` for another size).

Service: `services.invitations.pending.list_pending` (visibility filter, COUNT, one page of 50 with its joins,
rows built).
Baseline, same data, same run, same process: the same statements as hand-written SQL on a raw driver
connection (aiosqlite / asyncpg), returning tuples (the count the triggers keep, the keyset seeks). Each case is
checked to return the same ids and total, then timed interleaved with its baseline (which goes first alternates);
the query plans of the service's own SQL are checked for full scans.

    .venv/bin/python -m bench.pending_list                    # SQLite, and PostgreSQL if --postgres is given
    .venv/bin/python -m bench.pending_list --postgres postgres://postgres@127.0.0.1:5432/gatehouse_lists
    .venv/bin/python -m bench.pending_list --quick            # 10,000 invitations, fewer samples
    .venv/bin/python -m bench.pending_list --total 100000     # the shape of issue 6 (the large org 10%)
"""

import argparse
import asyncio
import json
import logging
import random
import re
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg
from tortoise import connections

from bench import world as worlds
from bench.common import machine
from bench.lists_common import Org, Seeded, is_sqlite, p50, p95, results_of, seed
from services.access import service as access
from services.access.service import Actor
from services.invitations import pending, pending_search
from services.platform.database import connected

SIZE = 50
BIG_TOTAL, BIG_LARGE = 1_000_000, 111_112  # 90% pending: the large organisation holds 100,000 pending
GOAL_RATIO, GOAL_P95_MS = 3.0, 25.0
PAGE_COLUMNS = (
    "i.id, i.created_at, i.email, r.name, d.name, o.name, s.full_name, i.last_sent_at, i.expires_at, "
    "i.delivery_state, i.delivery_error, i.send_count, i.reminded_at"
)
JOINS = (
    "JOIN role r ON r.id = i.role_id LEFT JOIN deployment d ON d.id = i.deployment_id "
    "LEFT JOIN organisation o ON o.id = i.organisation_id LEFT JOIN staff_member s ON s.id = i.invited_by_id"
)


@dataclass(frozen=True)
class Case:
    name: str
    org: Org
    member_id: int
    sort: str = "expires"
    descending: bool = False
    search: str = ""
    page: int = 1
    after: pending.Key | None = None
    before: pending.Key | None = None
    deployments: tuple[int, ...] = ()  # the visibility filter the baseline applies (empty: whole organisation)
    last: bool = False  # the last page, read from the end


class Baseline:
    """The same COUNT and page by hand, on a connection of its own."""

    def __init__(self, url: str) -> None:
        self.url, self.sqlite = url, is_sqlite(url)
        self.connection: Any = None

    async def open(self) -> None:
        if self.sqlite:
            self.connection = await aiosqlite.connect(self.url.removeprefix("sqlite://"))
        else:
            self.connection = await asyncpg.connect(self.url)

    async def close(self) -> None:
        await self.connection.close()

    def statements(self, case: Case) -> tuple[str, str, list[Any], list[Any], bool]:
        """(count SQL, page SQL, count parameters, page parameters, rows come in reverse)."""
        params: list[Any] = []

        def mark(value: Any) -> str:
            params.append(value)
            return "?" if self.sqlite else f"${len(params)}"

        where = f"i.organisation_id = {mark(case.org.id)} AND i.state = 'pending'"
        if case.deployments:
            where += f" AND i.deployment_id IN ({', '.join(mark(d) for d in case.deployments)})"
        if case.search:
            local = case.search.lower().split("@")[0]
            if (
                not self.sqlite and "@" in case.search and len(local) >= 3
            ):  # as the service: the index sees the local part
                where += (
                    f" AND i.email LIKE {mark('%' + local + '%')} AND strpos(i.email, {mark(case.search.lower())}) > 0"
                )
            else:
                where += f" AND i.email LIKE {mark('%' + case.search.lower() + '%')}"
                indexed = pending_search.candidates(case.org.id, case.search.lower()) if self.sqlite else None
                if indexed is not None:  # as the service: candidates from the trigram index
                    where += f" AND i.id IN ({pending_search.CANDIDATES.replace('?', '{}')})".format(
                        *map(mark, indexed.params)
                    )
        count_sql, count_params = f"SELECT 1 FROM invitation i WHERE {where}", list(params)
        indexed = pending_search.candidates(case.org.id, case.search.lower()) if self.sqlite else None
        if indexed is not None and indexed.exact and not case.deployments:  # the index alone counts
            count_sql, count_params = pending_search.COUNT, indexed.params[1:]
        count_sql = f"SELECT COUNT(*) FROM ({count_sql} LIMIT {pending.SEARCH_COUNT_CAP + 1}) AS capped"
        if not case.search:  # the count the database keeps by triggers (models/derived.py), as the service reads it
            count_params = [case.org.id, *case.deployments]
            marks = [("?" if self.sqlite else f"${n}") for n in range(1, len(count_params) + 1)]
            count_sql = f"SELECT COALESCE(SUM(pending), 0) FROM pending_count WHERE organisation_id = {marks[0]}"
            if case.deployments:
                count_sql += f" AND deployment_id IN ({', '.join(marks[1:])})"
        column = "i." + pending.SORTS[case.sort]
        ascending = not case.descending
        reverse = case.before is not None or case.last
        if reverse:
            ascending = not ascending
        key = case.after or case.before
        direction, op = ("ASC", ">") if ascending else ("DESC", "<")
        limit = -1 if case.last else SIZE  # the last page's size comes from the count (run() fills it in)
        order = f"ORDER BY {column} {direction}, i.id {direction} LIMIT {limit}"
        if key is not None:
            value: Any = key[0] if case.sort == "email" else datetime.fromisoformat(key[0])
            if self.sqlite and isinstance(value, datetime):
                value = value.isoformat(" ")
            if self.sqlite:  # SQLite seeks a row value by its first column only: the ties, then the rest (two seeks)
                select = f"SELECT {PAGE_COLUMNS} FROM invitation i {JOINS} WHERE {where}"
                ties, rest = (
                    f"{select} AND {column} = ? AND i.id {op} ? {order}",
                    f"{select} AND {column} {op} ? {order}",
                )
                union = f"SELECT * FROM ({ties}) UNION ALL SELECT * FROM ({rest}) LIMIT {limit}"
                return count_sql, union, count_params, [*params, value, key[1], *params, value], reverse
            where += f" AND ({column}, i.id) {op} ({mark(value)}, {mark(key[1])})"  # PostgreSQL seeks a row value
        return (
            count_sql,
            f"SELECT {PAGE_COLUMNS} FROM invitation i {JOINS} WHERE {where} {order}",
            count_params,
            params,
            reverse,
        )

    async def run(self, case: Case) -> tuple[list[tuple[Any, ...]], int]:
        if self.sqlite or not case.search:
            return await self.read(case)
        async with self.connection.transaction():  # as the service: custom plans, the LIKE pattern in view
            await self.connection.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            return await self.read(case)

    async def read(self, case: Case) -> tuple[list[tuple[Any, ...]], int]:
        count_sql, page_sql, count_params, params, reverse = self.statements(case)
        if self.sqlite:
            async with self.connection.execute(count_sql, count_params) as cursor:
                total = (await cursor.fetchone())[0]
        else:
            total = await self.connection.fetchval(count_sql, *count_params)
        counted = total
        if case.search:  # as the service: a search says "more than 1,000"
            total = min(total, pending.SEARCH_COUNT_CAP)
        if counted > pending_search.WALK_ABOVE:  # as the service: walk the sort's index, keeping candidates
            page_sql = page_sql.replace(" AND i.id IN (", " AND +i.id IN (")
        if page_sql.endswith("LIMIT -1"):
            page_sql = page_sql.removesuffix("-1") + str(total - (max(1, -(-total // SIZE)) - 1) * SIZE)
        if self.sqlite:
            async with self.connection.execute(page_sql, params) as cursor:
                rows = list(await cursor.fetchall())
        else:
            rows = [tuple(r) for r in await self.connection.fetch(page_sql, *params)]
        return (rows[::-1] if reverse else rows), total


async def service(case: Case, actors: dict[int, Actor]) -> pending.PendingPage:
    return await pending.list_pending(
        actor=actors[case.member_id],
        organisation_id=case.org.id,
        search=case.search,
        sort=case.sort,
        descending=case.descending,
        page=case.page,
        page_size=SIZE,
        after=case.after,
        before=case.before,
    )


async def cases_of(org: Org, label: str, actors: dict[int, Actor], baseline: Baseline) -> list[Case]:
    """First pages in every sort, deep pages by keyset both ways, the last page, searches, narrower visibility."""
    base = Case(f"{label}: first page, expires", org, org.owner_id)
    found: list[Case] = [base]
    for sort, descending in (("created", True), ("email", False), ("last_sent", True), ("expires", True)):
        found.append(replace(base, name=f"{label}: first page, {sort}{' desc' if descending else ''}", sort=sort,
                             descending=descending))  # fmt: skip
    for sort in ("expires", "email", "created"):
        total = (await baseline.run(replace(base, sort=sort)))[1]
        middle = max(2, -(-total // SIZE) // 2)
        previous = await service(replace(base, sort=sort, page=middle - 1), actors)  # OFFSET, setup only
        after = pending.edge_key(previous.rows[-1], sort)
        deep = replace(base, name=f"{label}: deep page {middle} (after), {sort}", sort=sort, page=middle, after=after)
        found.append(deep)
        this = await service(deep, actors)
        before = pending.edge_key(this.rows[0], sort)
        found.append(replace(deep, name=f"{label}: page {middle - 1} (before), {sort}", page=middle - 1, after=None,
                             before=before))  # fmt: skip
    found.append(replace(base, name=f"{label}: last page, expires", page=10**6, last=True))
    found.append(replace(base, name=f"{label}: search 'smith' (4% match)", search="smith"))
    found.append(replace(base, name=f"{label}: search 'smith', email sort", search="smith", sort="email"))
    found.append(replace(base, name=f"{label}: search one address", search=await one_address(baseline, org)))
    found.append(replace(base, name=f"{label}: search 'mi' (2 characters)", search="mi"))
    found.append(replace(base, name=f"{label}: deployment admin", member_id=org.dep_admin_id,
                         deployments=org.deployment_ids[:1]))  # fmt: skip
    return found


async def one_address(baseline: Baseline, org: Org) -> str:
    """A whole address of one pending invitation of the organisation, as someone searching for it types it."""
    sql = "SELECT email FROM invitation WHERE organisation_id = {} AND state = 'pending' ORDER BY id LIMIT 1 OFFSET {}"
    middle = org.invitations // 3
    if baseline.sqlite:
        async with baseline.connection.execute(sql.format("?", middle), [org.id]) as cursor:
            return str((await cursor.fetchone())[0])
    return str(await baseline.connection.fetchval(sql.format("$1", middle), org.id))


class _Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.queries: list[tuple[str, list[Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.args, tuple) and len(record.args) == 2 and isinstance(record.args[1], list | None):
            self.queries.append((str(record.args[0]), list(record.args[1] or [])))


async def plan_of(case: Case, actors: dict[int, Actor], sqlite: bool) -> tuple[bool, list[str]]:
    """(no full scan of invitation, the plan lines) for every statement list_pending runs for the case."""
    captured = _Captured()
    logger = logging.getLogger("tortoise.db_client")
    logger.addHandler(captured)
    level = logger.level
    logger.setLevel(logging.DEBUG)  # setLevel, not .level: it also clears the logger's isEnabledFor cache
    try:
        await service(case, actors)
    finally:
        logger.removeHandler(captured)
        logger.setLevel(level)
    connection = connections.get("default")
    lines: list[str] = []
    for sql, values in captured.queries:
        if "invitation" not in sql.split("FROM", 1)[-1]:
            continue
        if sqlite:
            lines += [r["detail"] for r in await connection.execute_query_dict("EXPLAIN QUERY PLAN " + sql, values)]
        else:
            lines += [r["QUERY PLAN"] for r in await connection.execute_query_dict("EXPLAIN " + sql, values)]
    full = [x for x in lines if re.match(r"SCAN (i|invitation)\b", x) or "Seq Scan on invitation" in x]
    return not full, lines


async def measure(url: str, seeded: Seeded, samples: int, only: str) -> list[dict[str, Any]]:
    actors: dict[int, Actor] = {}
    for org in (seeded.typical, seeded.large):
        for member_id, email in ((org.owner_id, org.owner_email), (org.dep_admin_id, org.dep_admin_email)):
            actors[member_id] = await access.load_actor(member_id=member_id, email=email, full_name="")
    baseline = Baseline(url)
    await baseline.open()
    try:
        cases = await cases_of(seeded.typical, "typical org", actors, baseline)
        cases += await cases_of(seeded.large, "large org", actors, baseline)
        cases = [case for case in cases if only in case.name]
        for case in cases:  # same result, else the comparison means nothing
            page, (rows, total) = await service(case, actors), await baseline.run(case)
            assert [r.id for r in page.rows] == [r[0] for r in rows] and page.total == total, (
                case,
                [r.id for r in page.rows],
                [r[0] for r in rows],
                page.total,
                total,
            )
        timings: dict[str, tuple[list[float], list[float]]] = {c.name: ([], []) for c in cases}
        for round_number in range(samples + 3):
            random.shuffle(cases)
            for case in cases:
                for which in (0, 1) if round_number % 2 else (1, 0):
                    started = time.perf_counter()
                    await (service(case, actors) if which == 0 else baseline.run(case))
                    if round_number >= 3:  # warm-up rounds are not counted
                        timings[case.name][which].append((time.perf_counter() - started) * 1000)
        results = []
        for case in sorted(cases, key=lambda c: (c.org.invitations, c.name)):
            ok, plan = await plan_of(case, actors, baseline.sqlite)
            ours, theirs = timings[case.name]
            results.append({
                "case": case.name, "database": "sqlite" if baseline.sqlite else "postgres",
                "service_p50": p50(ours), "service_p95": p95(ours), "baseline_p50": p50(theirs),
                "baseline_p95": p95(theirs), "service_max": max(ours), "baseline_max": max(theirs),
                "ratio_p50": p50(ours) / p50(theirs), "ratio_p95": p95(ours) / p95(theirs),
                "no_full_scan": ok, "plan": plan, "samples": len(ours),
            })  # fmt: skip
        return results
    finally:
        await baseline.close()


async def run(
    database: str, total: int, samples: int, only: str = "", large: int = 0, reuse: str = ""
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-pending-") as folder:
        sqlite_file = Path(f"{reuse}-sqlite.sqlite3") if reuse else Path(folder) / "pending.sqlite3"
        url = f"sqlite://{sqlite_file}" if database == "sqlite" else database
        worlds.configure(url)
        seeded = await seeded_once(
            url, total, large, Path(f"{reuse}-{'sqlite' if database == 'sqlite' else 'pg'}.json") if reuse else None
        )
        async with connected(url):  # migrates a reused database the code has not seen yet
            return await measure(url, seeded, samples, only)


async def seeded_once(url: str, total: int, large: int, record: Path | None) -> Seeded:
    """Seed the database, or reuse the one a previous run seeded with the same data (its ids kept in record)."""
    if record is not None and record.exists():
        kept = json.loads(record.read_text())
        if kept["url"] == url and kept["total"] == total:
            orgs = {name: Org(**{**kept[name], "deployment_ids": tuple(kept[name]["deployment_ids"])})
                    for name in ("large", "typical", "other")}  # fmt: skip
            print(f"reusing the {total:,} invitations seeded in {url}", file=sys.stderr)
            return Seeded(**orgs, total=total)
    started = time.perf_counter()
    seeded = await seed(url, total=total, large=large)
    print(f"seeded {seeded.total:,} invitations in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if record is not None:
        record.write_text(json.dumps({"url": url, **asdict(seeded)}))
    return seeded


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| database | case | service p50 / p95 / max ms | baseline p50 / p95 / max ms | ratio p50 / p95 | goal met "
        "| plan |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        met = r["ratio_p50"] <= GOAL_RATIO and r["service_p95"] < GOAL_P95_MS
        sort_note = (
            "; sorts" if any("TEMP B-TREE" in x or x.lstrip(" ->").startswith("Sort") for x in r["plan"]) else ""
        )
        lines.append(
            f"| {r['database']} | {r['case']} "
            f"| {r['service_p50']:.2f} / {r['service_p95']:.2f} / {r['service_max']:.1f} "
            f"| {r['baseline_p50']:.2f} / {r['baseline_p95']:.2f} / {r['baseline_max']:.1f} "
            f"| {r['ratio_p50']:.2f}x / {r['ratio_p95']:.2f}x "
            f"| {'yes' if met else 'NO'} | {'no full scan' if r['no_full_scan'] else 'FULL SCAN'}{sort_note} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", help="run one database in this process: 'sqlite' or a postgres:// URL (WIPED)")
    parser.add_argument("--postgres", default="", help="also run on this PostgreSQL database (its schema is WIPED)")
    parser.add_argument("--quick", action="store_true", help="10,000 invitations and 20 samples per case")
    parser.add_argument("--total", type=int, default=0, help="invitations (default 1,000,000)")
    parser.add_argument("--samples", type=int, default=0, help="timed calls per case (default 100, quick 20)")
    parser.add_argument("--plans", action="store_true", help="print every query plan")
    parser.add_argument("--only", default="", help="only the cases whose name contains this text")
    parser.add_argument(
        "--reuse", default="", help="seed once and keep: PREFIX-sqlite.sqlite3 and PREFIX-{sqlite,pg}.json (the ids)"
    )
    options = parser.parse_args()
    total, samples = (10_000, 20) if options.quick else (BIG_TOTAL, 100)
    total, samples = options.total or total, options.samples or samples
    large = BIG_LARGE if total == BIG_TOTAL else 0
    if options.database:  # one dialect per process: Tortoise binds the models to one
        for result in asyncio.run(run(options.database, total, samples, options.only, large, options.reuse)):
            print(json.dumps(result))
        return
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in machine().items()), flush=True)
    results: list[dict[str, Any]] = []
    for database in ["sqlite"] + ([options.postgres] if options.postgres else []):
        command = [sys.executable, "-m", "bench.pending_list", "--database", database, "--samples", str(samples),
                   "--only", options.only, "--total", str(total), "--reuse", options.reuse]  # fmt: skip
        results += results_of(command)
    print(table(results))
    if options.plans:
        for r in results:
            print(f"\n{r['database']} {r['case']}:\n  " + "\n  ".join(r["plan"]))


if __name__ == "__main__":
    main()
