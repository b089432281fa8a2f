"""Issue 17, goal 2: what the pending-count triggers (and PostgreSQL's trigram index) cost a CSV import.

The real import (bench.bulk_import.service: parse, invitations.send, commit) of N addresses on a fresh copy of the
same database, with models/derived.py's triggers and index and with them dropped, alternated; the PostgreSQL
database given is WIPED.

    .venv/bin/python -m bench.write_cost sqlite 100000 2
    .venv/bin/python -m bench.write_cost postgres://postgres@127.0.0.1:5432/gatehouse_bench 100000 2
    .venv/bin/python -m bench.write_cost sqlite 100000 2 search   # SQLite's search index alone (migration 0009)
"""

import asyncio
import sqlite3
import sys
import tempfile
from pathlib import Path

import asyncpg

from bench import bulk_import
from bench import world as worlds
from bench.common import addresses, csv_bytes
from models import derived

# Plain tables in place of the search index, for the service's one INSERT ... SELECT per send (a few ms per 100,000).
_PLAIN_SEARCH_TABLES = (
    "CREATE TABLE invitation_search (email TEXT); CREATE TABLE invitation_search_deferred (deferred INTEGER NOT NULL);"
)


async def main(database: str, size: int, repeat: int, only_search: bool = False) -> None:
    data = csv_bytes(addresses(size))
    with tempfile.TemporaryDirectory(prefix="gatehouse-write-cost-") as folder:
        template, world = (None, None) if database != "sqlite" else await worlds.sqlite_template(Path(folder))
        for attempt in range(repeat):
            for derived_on in (True, False) if attempt % 2 == 0 else (False, True):
                if template is not None and world is not None:
                    target = worlds.sqlite_copy(template, f"run{attempt}{derived_on}.sqlite3")
                    if not derived_on:
                        with sqlite3.connect(target) as connection:
                            dropped = derived.DROP_SEARCH_SQLITE + ("" if only_search else derived.DROP_SQLITE)
                            connection.executescript(dropped + _PLAIN_SEARCH_TABLES)
                    url, used = f"sqlite://{target}", world
                else:
                    url, used = database, await worlds.fresh_postgres(database)
                    if not derived_on:
                        raw = await asyncpg.connect(database)
                        await raw.execute(derived.DROP_POSTGRES)
                        await raw.close()
                figures = await bulk_import.service(url, data, used, size)
                print(
                    f"{'sqlite' if template else 'postgres'} {size:,} run {attempt + 1} "
                    f"{'with   ' if derived_on else 'without'} {'search index' if only_search else 'triggers'}: "
                    f"service {figures['service']:.2f} s, "
                    f"cpu {figures['service_cpu']:.2f} s, loop held max {figures['lag_max_ms']:.0f} ms",
                    flush=True,
                )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:] == ["search"]))
