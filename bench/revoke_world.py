"""bench.time_to_revoke's world: members of one organisation on a wiped PostgreSQL database, and two app processes.

Every member holds a Clinician grant over the whole of St Mary's Trust (it shows them its staff list); every other
member also holds Supervisor in a deployment of another organisation, so that losing the first grant leaves them
signed in (their sessions end only when nothing remains). Process A starts first and leads housekeeping; B is
started once A leads, with housekeeping on too (as in production: it would take over if A died).
"""

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from argon2 import PasswordHasher, profiles
from tortoise import Tortoise, connections

from bench.lists_common import app_environment, free_port
from models import Deployment, Organisation, Role, RoleAssignment, StaffMember
from services.access import roles
from services.platform.database import connected

PASSWORD = "a long enough bench password"
START_SECONDS = 120.0


@dataclass(frozen=True)
class Member:
    id: int
    email: str
    assignment_id: int  # the Clinician grant over the organisation: what ends, is removed, or stops with the account
    keeps_other: bool  # also holds a grant elsewhere: stays signed in when the first one goes (unless suspended)


@dataclass(frozen=True)
class World:
    organisation_id: int
    owner_id: int  # Organisation Owner: sponsors the grants, sets their ends, removes members
    admin_id: int  # Super Admin: suspends accounts
    members: dict[str, list[Member]]  # by path


async def seed(url: str, paths: tuple[str, ...], per_path: int) -> World:
    """WIPE the database's public schema, migrate it, and add the organisation, its owner and the members."""
    await Tortoise.init(config={"connections": {"default": url}, "apps": {"models": {"models": ["models"]}}})
    try:
        await connections.get("default").execute_script("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await Tortoise.close_connections()
    secret = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(PASSWORD)  # the app verifies any strength
    async with connected(url):
        await roles.seed_defaults()
        role = {key: (await Role.get(key=key)).id for key in ("organisation_owner", "super_admin", "clinician")}
        organisation = await Organisation.create(name="St Mary's Trust")
        other = await Organisation.create(name="Northwind Health")
        ward = await Deployment.create(organisation=other, name="Ward Seven Study")
        owner = await StaffMember.create(email="olive.owner@stmarys.example", full_name="Olive Owner",
                                         password_hash=secret)  # fmt: skip
        admin = await StaffMember.create(email="sam.super@platform.example", full_name="Sam Super",
                                         password_hash=secret)  # fmt: skip
        await RoleAssignment.create(member=owner, role_id=role["organisation_owner"], level="organisation",
                                    organisation=organisation, scope_key=f"org:{organisation.id}")  # fmt: skip
        await RoleAssignment.create(member=admin, role_id=role["super_admin"], level="platform", scope_key="platform")
        supervisor = (await Role.get(key="supervisor")).id
        members: dict[str, list[Member]] = {}
        for path in paths:
            members[path] = []
            for n in range(per_path):
                person = await StaffMember.create(
                    email=f"{path}.{n}@stmarys.example", full_name=f"{path.title()} Member {n}", password_hash=secret
                )
                grant = await RoleAssignment.create(
                    member=person, role_id=role["clinician"], level="organisation", organisation=organisation,
                    scope_key=f"org:{organisation.id}", sponsor=owner, granted_by=owner,
                )  # fmt: skip
                if n % 2:
                    await RoleAssignment.create(
                        member=person, role_id=supervisor, level="deployment", organisation=other, deployment=ward,
                        scope_key=f"dep:{ward.id}",
                    )  # fmt: skip
                members[path].append(Member(person.id, person.email, grant.id, keeps_other=bool(n % 2)))
        await connections.get("default").execute_script("VACUUM ANALYZE")
    return World(organisation.id, owner.id, admin.id, members)


@dataclass
class Process:
    name: str
    base: str
    process: "subprocess.Popen[bytes]"


@contextlib.asynccontextmanager
async def cluster(url: str, *, housekeeping_seconds: int) -> AsyncIterator[tuple[Process, Process]]:
    """A (started first, leads housekeeping) and B, both bench.revoke_server on the same database."""
    started: list[Process] = []
    try:
        async with aiohttp.ClientSession() as http:
            for name in ("A", "B"):
                started.append(_start(name, url, housekeeping_seconds))
                await _healthy(http, started[-1], leader=name == "A")
        yield started[0], started[1]
    finally:
        for process in started:  # ours, by their own handles
            process.process.terminate()
        for process in started:
            try:
                process.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.process.kill()
                process.process.wait()


def _start(name: str, url: str, housekeeping_seconds: int) -> Process:
    port = free_port()
    env = app_environment(url, port, GATEHOUSE_HOUSEKEEPING_SECONDS=str(housekeeping_seconds))
    command = [sys.executable, "-m", "bench.revoke_server"]
    process = subprocess.Popen(command, env=env, cwd=Path(__file__).resolve().parent.parent)
    return Process(name, f"http://127.0.0.1:{port}", process)


async def _healthy(http: aiohttp.ClientSession, process: Process, *, leader: bool) -> None:
    """Wait until the process answers /healthz with 200 (and, for A, leads housekeeping)."""
    for _ in range(int(START_SECONDS * 10)):
        if process.process.poll() is not None:
            raise RuntimeError(f"process {process.name} stopped during start-up")
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(process.base + "/healthz") as response:
                checks = json.loads(await response.text()).get("checks", {})
                if response.status == 200 and checks.get("housekeeping", {}).get("leader") is leader:
                    return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"process {process.name} was not ready (leader={leader}) within {START_SECONDS:.0f} s")


async def leaders(http: aiohttp.ClientSession, processes: tuple[Process, Process]) -> list[bool]:
    """Which processes lead housekeeping now (exactly one should)."""
    found = []
    for process in processes:
        async with http.get(process.base + "/healthz") as response:
            found.append(bool(json.loads(await response.text())["checks"]["housekeeping"]["leader"]))
    return found
