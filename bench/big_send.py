"""Issue 17, goal 3: other pages keep working while a big send commits.

One organisation sends N addresses through the product's real path (`steps.send_in_steps`, what the
pop-out and its CSV import call) while a probe does what another organisation's open pending list does every
~20 ms: the count and first page through `pending.list_pending`. Reported: the probe's wait p50/p95/p99/max, the
event loop's longest hold (a 5 ms timer's lateness) and the send's time. Three modes, alternated in every round
on fresh copies of one database:

- idle: the probe alone (the baseline: what a list query costs with nothing else going on),
- one transaction: `invitations.send` of all N at once (the path the import took before the pop-out sent in steps),
- steps of 1000: `send_in_steps` as it was before issue 17 goal 3 (fixed steps of 1,000, no pause between steps),
- in steps: the product (steps paced to about `pacing.STEP_SECONDS` each, a pause between steps).

    .venv/bin/python -m bench.big_send                      # SQLite, 100,000 addresses, 2 rounds
    .venv/bin/python -m bench.big_send --postgres postgres://postgres@127.0.0.1:5432/test_h1   # WIPED
    .venv/bin/python -m bench.big_send --burners 2          # with two CPU-burning processes beside it
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import world as worlds
from bench.common import LagProbe, QueryProbe, addresses, idle_lag_ms, machine, stopwatch
from models import Invitation, InvitationState, Organisation, Role, RoleAssignment, StaffMember
from services.access import service as access
from services.access.service import Actor
from services.invitations import pacing, pending, steps
from services.invitations import service as invitations
from services.platform.database import connected

MODES = ("idle", "one transaction", "steps of 1000", "in steps")
PROBE_EVERY = 0.02
OTHER_PENDING = 1_000
IDLE_SECONDS = 3.0
IDLE_LOOP_SECONDS = 1.0  # how long the idle loop is watched before each mode, for its own stalls
FIXED_STEP: list[int | None] = [None]  # --step: a fixed size instead of the product's pacing


def wait_figures(waits: list[float]) -> dict[str, float]:
    """The probe's waits: how many, p50, p95, p99 and the longest, in ms."""
    waits = sorted(waits)
    cuts = statistics.quantiles(waits, n=100, method="inclusive") if len(waits) > 1 else waits * 99
    return {
        "probes": len(waits),
        "wait_p50_ms": statistics.median(waits) * 1000,
        "wait_p95_ms": cuts[94] * 1000,
        "wait_p99_ms": cuts[98] * 1000,
        "wait_max_ms": waits[-1] * 1000,
    }


async def other_organisation() -> tuple[int, Actor]:
    """A second organisation with its owner and OTHER_PENDING pending invitations: the probe reads its list."""
    organisation = await Organisation.create(name="Northwind Health")
    owner = await StaffMember.create(email="nia.north@northwind.example", full_name="Nia North", password_hash="-")
    owner_role = await Role.get(key="organisation_owner")
    scope_key = f"org:{organisation.id}"
    await RoleAssignment.create(
        member=owner, role=owner_role, level="organisation", organisation=organisation, scope_key=scope_key
    )
    actor = await access.load_actor(member_id=owner.id, email=owner.email, full_name=owner.full_name)
    clinician = await Role.get(key="clinician")
    await invitations.send(
        actor=actor,
        addresses=addresses(OTHER_PENDING, prefix="north."),
        role_id=clinician.id,
        lifetime_hours=72,
        organisation_id=organisation.id,
    )
    return organisation.id, actor


async def one_round(url: str, world: worlds.World, mode: str, size: int) -> dict[str, Any]:
    """One mode on its own fresh database: the probe and the loop monitor around the send (or around idling)."""
    async with connected(url):
        other_id, other_actor = await _other(world)
        actor = await world.actor()

        async def read_list() -> object:
            return await pending.list_pending(actor=other_actor, organisation_id=other_id, page_size=25)

        emails = addresses(size, prefix="big.")
        async with LagProbe() as loop, QueryProbe(read_list, interval=PROBE_EVERY) as probe:
            with stopwatch() as taken:
                result = await _send(mode, actor, world, emails)
        if mode != "idle":
            invited = await Invitation.filter(organisation_id=world.organisation_id, email__startswith="big.").count()
            if len(result.invited) != size or invited != size:
                raise RuntimeError(f"{mode}: expected {size} invited, got {len(result.invited)} ({invited} stored)")
        left = await Invitation.filter(organisation_id=other_id, state=InvitationState.PENDING).count()
        if left != OTHER_PENDING:
            raise RuntimeError(f"the other organisation's list changed: {left}")
    return {"mode": mode, "seconds": taken[0], "cpu": taken[1], **wait_figures(probe.waits), "loop_max_ms": loop.max_ms}


async def _other(world: worlds.World) -> tuple[int, Actor]:
    organisation = await Organisation.get(name="Northwind Health")
    owner = await StaffMember.get(email="nia.north@northwind.example")
    return organisation.id, await access.load_actor(member_id=owner.id, email=owner.email, full_name=owner.full_name)


async def _send(mode: str, actor: Actor, world: worlds.World, emails: list[str]) -> invitations.SendResult:
    if mode == "idle":
        await asyncio.sleep(IDLE_SECONDS)
        return invitations.SendResult()
    if mode == "one transaction":
        return await invitations.send(
            actor=actor, addresses=emails, role_id=world.role_id, lifetime_hours=72, deployment_id=world.deployment_id
        )
    before = mode == "steps of 1000"
    pause, pacing.PAUSE_SECONDS = pacing.PAUSE_SECONDS, 0.0 if before else pacing.PAUSE_SECONDS
    try:
        return await steps.send_in_steps(
            actor=actor,
            addresses=emails,
            role_id=world.role_id,
            lifetime_hours=72,
            deployment_id=world.deployment_id,
            step=1_000 if before else FIXED_STEP[0],
        )
    finally:
        pacing.PAUSE_SECONDS = pause


async def sqlite_rounds(size: int, rounds: int, modes: tuple[str, ...], scale: float = 1.0) -> list[dict[str, Any]]:
    """Every mode once per round, the order turned each round, each on a fresh copy of one populated file."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="gatehouse-big-send-") as folder:
        template, world = await worlds.sqlite_template(Path(folder), scale=scale)
        async with connected(f"sqlite://{template}"):
            await other_organisation()
        for number in range(rounds):
            for mode in _turned(modes, number):
                copy = worlds.sqlite_copy(template, "round.sqlite3")
                results.append(await _measured(one_round(f"sqlite://{copy}", world, mode, size), number))
    return results


async def postgres_rounds(url: str, size: int, rounds: int, modes: tuple[str, ...]) -> list[dict[str, Any]]:
    """As sqlite_rounds, the PostgreSQL database wiped and populated again for every mode."""
    results: list[dict[str, Any]] = []
    for number in range(rounds):
        for mode in _turned(modes, number):
            world = await worlds.fresh_postgres(url)
            async with connected(url):
                await other_organisation()
            results.append(await _measured(one_round(url, world, mode, size), number))
    return results


async def _measured(measuring: Awaitable[dict[str, Any]], number: int) -> dict[str, Any]:
    idle = await idle_lag_ms(IDLE_LOOP_SECONDS)
    figures = await measuring
    figures.update({"round": number + 1, "idle_loop_max_ms": idle, "load": os.getloadavg()[0]})
    print("  " + ", ".join(f"{k} {_shown(v)}" for k, v in figures.items()), file=sys.stderr, flush=True)
    return figures


def _turned(modes: tuple[str, ...], number: int) -> tuple[str, ...]:
    return modes if number % 2 == 0 else tuple(reversed(modes))


def _shown(value: object) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def summary(results: list[dict[str, Any]]) -> str:
    """One row per mode: medians over the rounds, the worst max, and the p99 as a ratio of the idle p99."""
    idle_p99 = statistics.median([r["wait_p99_ms"] for r in results if r["mode"] == "idle"] or [float("nan")])
    lines = [
        "| mode | send s | list wait p50 / p95 / p99 / max ms | p99 / idle p99 | loop held max ms (idle loop) | load |",
        "| --- | ---: | --- | ---: | --- | --- |",
    ]
    for mode in MODES:
        runs = [r for r in results if r["mode"] == mode]
        if not runs:
            continue
        med = {key: statistics.median(r[key] for r in runs) for key in runs[0] if isinstance(runs[0][key], float)}
        worst = max(r["wait_max_ms"] for r in runs)
        lines.append(
            f"| {mode} | {med['seconds']:.1f} | {med['wait_p50_ms']:.0f} / {med['wait_p95_ms']:.0f} / "
            f"{med['wait_p99_ms']:.0f} / {worst:.0f} | {med['wait_p99_ms'] / idle_p99:.1f}x | "
            f"{_each(runs, 'loop_max_ms', '.0f')} ({max(r['idle_loop_max_ms'] for r in runs):.0f}) | "
            f"{_each(runs, 'load', '.1f')} |"
        )
    return "\n".join(lines)


def _each(runs: list[dict[str, Any]], key: str, spec: str) -> str:
    return ", ".join(format(run[key], spec) for run in runs)


@contextmanager
def burners(count: int) -> Iterator[None]:
    """count processes spinning a core each, for a machine under load; stopped by their own ids."""
    spinning = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for process in spinning:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="addresses in the big send (default 100000)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every mode, order turned each round")
    parser.add_argument("--postgres", default="", help="a PostgreSQL database to WIPE and use instead of SQLite")
    parser.add_argument("--burners", type=int, default=0, help="CPU-burning processes beside the benchmark")
    parser.add_argument("--step", type=int, default=0, help="a fixed step size (default: the product's pacing)")
    parser.add_argument("--step-seconds", type=float, default=pacing.STEP_SECONDS, help="the pacing's aim per step")
    parser.add_argument("--pause", type=float, default=pacing.PAUSE_SECONDS, help="seconds between two steps")
    parser.add_argument("--modes", default=",".join(MODES), help="which modes, comma-separated")
    options = parser.parse_args()
    modes = tuple(m for m in MODES if m in options.modes.split(","))
    FIXED_STEP[0] = options.step or None
    pacing.STEP_SECONDS, pacing.PAUSE_SECONDS = options.step_seconds, options.pause
    worlds.configure(options.postgres or "sqlite://:memory:")
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in machine().items()), flush=True)
    with burners(options.burners):
        if options.postgres:
            results = asyncio.run(postgres_rounds(options.postgres, options.size, options.rounds, modes))
        else:
            results = asyncio.run(sqlite_rounds(options.size, options.rounds, modes))
    database = "PostgreSQL" if options.postgres else "SQLite"
    print(f"\n{database}, {options.size:,} addresses, {options.burners} burners, {options.rounds} rounds:")
    print(summary(results))
    print(json.dumps({"benchmark": "big_send", "database": database, "burners": options.burners, "runs": results}))


if __name__ == "__main__":
    main()
