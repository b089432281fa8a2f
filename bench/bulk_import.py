"""Issue 6, item 1: a CSV of N new addresses through the real service path, against the irreducible parts by hand.

Service: `csv_import.parse` in a thread (as the upload handler runs it), then `invitations.send`, with a probe
measuring how late the event loop answers meanwhile. Baseline, same data, same run: `csv` parsing, the service's own
address checks (`addresses.normalise`, so both pay for the same checks) and its duplicate key, token generation and
hashing, and the same rows (invitations, outbox messages, audit events) written in one transaction through the same
driver: `executemany` on SQLite (aiosqlite), COPY on PostgreSQL (asyncpg). The addresses spread over thousands of
domains, a few internationalised and typed in Unicode (bench/varied.py), as a hospital's export has them; baseline
and service take turns going first.

Run one database per process (Tortoise binds the models to one SQL dialect): `python -m bench` does that.
"""

import argparse
import asyncio
import csv
import io
import json
import secrets
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from bench import world as worlds
from bench.common import LagProbe, QueryProbe, csv_bytes, idle_lag_ms, stopwatch
from bench.varied import varied_addresses
from models import Invitation, InvitationState, Organisation, derived
from services.access import tokens
from services.invitations import addresses, csv_import
from services.invitations import service as invitations
from services.platform import settings
from services.platform.database import connected

INVITATION_COLUMNS = (
    "id", "email", "role_id", "level", "organisation_id", "deployment_id", "scope_key", "invited_by_id",
    "token_hash", "state", "delivery_state", "delivery_error", "lifetime_hours", "send_count", "sends_today",
    "created_at", "last_sent_at", "expires_at", "reminder_seed", "remind_at", "approval",
)  # fmt: skip
OUTBOX_COLUMNS = (
    "kind", "recipient", "context", "link_seed", "invitation_id", "organisation_id", "state", "attempts",
    "next_attempt_at", "last_error", "created_at",
)  # fmt: skip
AUDIT_COLUMNS = (
    "at",
    "actor_id",
    "actor_email",
    "action",
    "outcome",
    "organisation_id",
    "deployment_id",
    "target",
    "detail",
)
SQLITE_PRAGMAS = (
    "journal_mode=WAL",
    "journal_size_limit=16384",
    "foreign_keys=ON",
    "synchronous=FULL",
    "cache_size=-65536",
)


def _by_hand(data: bytes, world: worlds.World, *, sqlite: bool) -> tuple[list[tuple[Any, ...]], ...]:
    """The CPU part of the baseline: parse, validate, tokens and hashes, and the rows to write."""
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    next(reader)
    emails, seen = [], set()
    for row in reader:
        email = addresses.normalise(row[0]) if row else ""
        if email and (key := addresses.canonical(email)) not in seen:
            seen.add(key)
            emails.append(email)
    at = datetime.now(UTC)
    expires = at + timedelta(hours=72)
    when: Any = (lambda moment: moment.isoformat(" ")) if sqlite else (lambda moment: moment)
    secret = settings.current().secret
    invitation_rows, outbox_rows, audit_rows = [], [], []
    context = json.dumps(
        {"inviter_name": "Olive Owner", "scope_name": "Heart Failure Trial", "expires_at": str(expires)}
    )
    detail = json.dumps({"role": "Clinician", "expires_in_hours": 72})
    scope_key = f"dep:{world.deployment_id}"
    reminding = when(expires - timedelta(hours=24))
    for email in emails:
        seed = secrets.token_urlsafe(32)  # as the service: the outbox keeps the seed, the invitation the link's hash
        hashed = tokens.hash_token(tokens.link_token(seed, secret=secret))
        invitation_rows.append(
            (
                0, email, world.role_id, "deployment", world.organisation_id, world.deployment_id, scope_key,
                world.owner_id, hashed, "pending", "queued", "", 72, 1, 1, when(at), when(at), when(expires),
                seed, reminding, "",  # as the service: a 72-hour link keeps its seed until its reminder is queued
            )
        )  # fmt: skip
        outbox_rows.append(
            (
                "invitation",
                email,
                context,
                seed,
                0,
                world.organisation_id,
                "queued",
                0,
                when(at),
                "",
                when(at),
            )
        )
        audit_rows.append(
            (
                when(at),
                world.owner_id,
                world.owner_email,
                "invite",
                "ok",
                world.organisation_id,
                world.deployment_id,
                email,
                detail,
            )
        )
    return invitation_rows, outbox_rows, audit_rows


def _with_ids(ids: list[int], invitation_rows: list[tuple[Any, ...]], outbox_rows: list[tuple[Any, ...]]) -> None:
    for index, invitation_id in enumerate(ids):
        invitation_rows[index] = (invitation_id, *invitation_rows[index][1:])
        row = outbox_rows[index]
        outbox_rows[index] = (*row[:4], invitation_id, *row[5:])


def _insert(table: str, columns: tuple[str, ...]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


async def baseline_sqlite(path: Path, data: bytes, world: worlds.World) -> tuple[float, float]:
    """By hand on SQLite: the CPU work, then one transaction of three executemany through aiosqlite."""
    async with aiosqlite.connect(path, isolation_level=None) as connection:
        for pragma in SQLITE_PRAGMAS:
            await connection.execute(f"PRAGMA {pragma}")
        with stopwatch() as taken:
            invitation_rows, outbox_rows, audit_rows = _by_hand(data, world, sqlite=True)
            await connection.execute("BEGIN")
            async with connection.execute("SELECT coalesce(max(id), 0) FROM invitation") as cursor:
                first = int((await cursor.fetchone() or (0,))[0]) + 1
            _with_ids(list(range(first, first + len(invitation_rows))), invitation_rows, outbox_rows)
            # The search index in one statement, as the service writes it (its row trigger flushes FTS5 per row).
            await connection.execute("INSERT INTO invitation_search_deferred (deferred) VALUES (1)")
            await connection.executemany(_insert("invitation", INVITATION_COLUMNS), invitation_rows)
            await connection.execute(derived.INDEX_NEWER_SQLITE, (first - 1,))
            await connection.execute("DELETE FROM invitation_search_deferred")
            await connection.executemany(_insert("outbox_message", OUTBOX_COLUMNS), outbox_rows)
            await connection.executemany(_insert("audit_event", AUDIT_COLUMNS), audit_rows)
            await connection.commit()
    return taken[0], taken[1]


async def baseline_postgres(url: str, data: bytes, world: worlds.World) -> tuple[float, float]:
    """By hand on PostgreSQL: the CPU work, then ids from the sequence and three COPYs in one transaction."""
    connection = await asyncpg.connect(url)
    try:
        with stopwatch() as taken:
            invitation_rows, outbox_rows, audit_rows = _by_hand(data, world, sqlite=False)
            async with connection.transaction():
                ids = await connection.fetch(
                    "SELECT nextval(pg_get_serial_sequence('invitation', 'id')) FROM generate_series(1, $1)",
                    len(invitation_rows),
                )
                _with_ids([row[0] for row in ids], invitation_rows, outbox_rows)
                await connection.copy_records_to_table(
                    "invitation", records=invitation_rows, columns=INVITATION_COLUMNS
                )
                await connection.copy_records_to_table("outbox_message", records=outbox_rows, columns=OUTBOX_COLUMNS)
                await connection.copy_records_to_table("audit_event", records=audit_rows, columns=AUDIT_COLUMNS)
    finally:
        await connection.close()
    return taken[0], taken[1]


async def service(database_url: str, data: bytes, world: worlds.World, expected: int) -> dict[str, float]:
    """The real path: parse in a thread, then invitations.send; timed, with the loop's lag measured."""
    async with connected(database_url):
        actor = await world.actor()
        pages = QueryProbe(lambda: Organisation.filter(id=world.organisation_id).exists())
        async with LagProbe() as probe, pages:
            with stopwatch() as total:
                with stopwatch() as parsing:
                    imported = await asyncio.to_thread(csv_import.parse, data=data)
                result = await invitations.send(
                    actor=actor,
                    addresses=imported.addresses,
                    role_id=world.role_id,
                    lifetime_hours=72,
                    deployment_id=world.deployment_id,
                )
        if len(result.invited) != expected or result.invalid or imported.problems:
            raise RuntimeError(f"expected {expected} invited, got {len(result.invited)}: {result.invalid[:3]}")
        pending = await Invitation.filter(state=InvitationState.PENDING).count()
        if pending != expected + world.background_pending:
            raise RuntimeError(f"expected {expected + world.background_pending} pending invitations, found {pending}")
    return {
        "service": total[0],
        "service_cpu": total[1],
        "parse": parsing[0],
        "lag_max_ms": probe.max_ms,
        "lag_p99_ms": probe.p99_ms,
        "query_wait_max_ms": pages.max_ms,
    }


async def _baseline(
    database: str, template: Path | None, world: worlds.World | None, data: bytes, attempt: int
) -> tuple[float, float]:
    if template is not None and world is not None:
        return await baseline_sqlite(worlds.sqlite_copy(template, f"baseline{attempt}.sqlite3"), data, world)
    return await baseline_postgres(database, data, await worlds.fresh_postgres(database))


async def _service(
    database: str, template: Path | None, world: worlds.World | None, data: bytes, attempt: int, size: int
) -> dict[str, float]:
    if template is not None and world is not None:
        target = worlds.sqlite_copy(template, f"service{attempt}.sqlite3")
        return await service(f"sqlite://{target}", data, world, size)
    return await service(database, data, await worlds.fresh_postgres(database), size)


async def run(database: str, size: int, repeat: int) -> dict[str, Any]:
    """Alternate baseline and service `repeat` times on fresh copies of one populated database."""
    data = csv_bytes(varied_addresses(size, punycode=False))
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="gatehouse-bench-") as folder:
        template, world = (None, None) if database != "sqlite" else await worlds.sqlite_template(Path(folder))
        for attempt in range(repeat):
            idle = await idle_lag_ms()
            if attempt % 2 == 0:
                baseline = await _baseline(database, template, world, data, attempt)
                figures = await _service(database, template, world, data, attempt, size)
            else:  # every other run the service goes first: neither always meets the warmer machine
                figures = await _service(database, template, world, data, attempt, size)
                baseline = await _baseline(database, template, world, data, attempt)
            runs.append({"baseline": baseline[0], "baseline_cpu": baseline[1], **figures, "idle_lag_max_ms": idle})
            print(
                f"  {size:,} run {attempt + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in runs[-1].items()),
                file=sys.stderr,
            )
    return {
        "benchmark": "import",
        "database": "sqlite" if database == "sqlite" else "postgres",
        "size": size,
        "runs": runs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a postgres:// URL of a database to wipe")
    parser.add_argument("--size", type=int, action="append", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    options = parser.parse_args()
    for size in options.size:
        print(json.dumps(asyncio.run(run(options.database, size, options.repeat))), flush=True)


if __name__ == "__main__":
    main()
