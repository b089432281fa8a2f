"""The independent SCIM compliance checker scim2-tester, run against a running Gatehouse over real HTTP (issue 20
item 2): it finds no error at all. The app runs as `main.py` does, on the test's database (a SQLite file, or the
PostgreSQL test database in the PostgreSQL pass); the organisation, its owner and the API token are made with the
services before it starts."""

import asyncio
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from scim2_client import BaseSyncSCIMClient
from scim2_tester import check_server

from services.access import roles
from services.integrations import tokens
from services.platform.database import connected
from tests import factories
from tests.browser.conftest import PYTHON, ROOT, _free_port
from tests.conftest import DATABASE_KIND, POSTGRES_URL, TEST_SECRET, copy_of, fresh_postgres

pytestmark = [pytest.mark.data]  # run again on PostgreSQL
PERMISSIONS = ["invite_staff", "view_staff_list", "view_patient_data", "edit_roles", "export_patient_data"]
START_TIMEOUT = 60.0  # a bound for a loaded machine; a start takes 2-4 s on a quiet one
DROPPED = ("PYTEST_", "NICEGUI_", "GATEHOUSE_")
LEAST_SUCCESSES = 45  # the checker's discovery, CRUD, attribute and PATCH checks of Users and Groups (51 today)


@pytest.fixture
async def database_url(tmp_path: Path, migrated_sqlite: Path) -> AsyncIterator[str]:
    """A migrated database a separate process can open too, with the default roles."""
    if DATABASE_KIND == "postgres":
        await fresh_postgres()
        url = POSTGRES_URL
    else:
        url = f"sqlite://{copy_of(migrated_sqlite, tmp_path)}"
    async with connected(url):
        await roles.seed_defaults()
        yield url


@pytest.fixture
def running_app(tmp_path: Path) -> Iterator[Any]:
    """Start Gatehouse on a database URL (mail and webhook workers off: nothing here needs them); stopped after."""
    started: list[subprocess.Popen[bytes]] = []

    def start(url: str) -> str:
        port = _free_port()
        env = {name: value for name, value in os.environ.items() if not name.startswith(DROPPED)}
        env.update(
            GATEHOUSE_DATABASE_URL=url,
            GATEHOUSE_PORT=str(port),
            GATEHOUSE_BASE_URL=f"http://127.0.0.1:{port}",
            GATEHOUSE_SECRET=TEST_SECRET,
            GATEHOUSE_MAIL_WORKER="off",
            GATEHOUSE_SMTP_SINK="off",
            GATEHOUSE_WEBHOOK_WORKER="off",
        )
        log = (tmp_path / "app.log").open("wb")
        process = subprocess.Popen([str(PYTHON), "main.py"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        started.append(process)
        _wait_healthy(f"http://127.0.0.1:{port}", process, tmp_path / "app.log")
        return f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        process.terminate()
        process.wait(timeout=10)


def _wait_healthy(base: str, process: "subprocess.Popen[bytes]", log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"Gatehouse exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as answer:  # noqa: S310  (our own http URL)
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # readiness polling, bounded by the deadline
    pytest.fail(f"Gatehouse was not healthy within {START_TIMEOUT:.0f} s:\n{log.read_text(errors='replace')}")


class _CheckerClient(BaseSyncSCIMClient):
    """scim2-client's sync engine over httpx (its own engine imports httpx2, which Gatehouse does not install)."""

    def __init__(self, client: httpx.Client) -> None:
        super().__init__()
        self.client = client

    def _stays_under_base_url(self, endpoint: str) -> bool:
        url = self.client.build_request("GET", endpoint).url
        base = self.client.base_url
        return url.scheme == base.scheme and url.host == base.host and url.raw_path.startswith(base.raw_path)

    def _parse_json(self, response: Any) -> Any:
        return response.json()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.request(method, url, **kwargs)


async def test_scim2_tester_finds_no_error_in_a_running_gatehouse(database_url: str, running_app: Any) -> None:
    world = await factories.world()
    owner = await factories.member("owner@trust.org", "organisation_owner", org=world.org)
    await factories.grant(owner.member_id, "clinician", org=world.org)  # so it holds what Supervisor holds
    owner = await factories.actor_of("owner@trust.org")
    supervisor = await factories.role("supervisor")
    raw, _ = await tokens.create(
        actor=owner,
        organisation_id=world.org.id,
        name="Compliance checker",
        permissions=PERMISSIONS,
        days=1,
        default_role_id=supervisor.id,
    )
    await factories.member("m@trust.org", "clinician", org=world.org)
    base = await asyncio.to_thread(running_app, database_url)
    headers = {"Authorization": f"Bearer {raw}"}
    with httpx.Client(base_url=f"{base}/scim/v2", headers=headers, timeout=30) as http:
        results = await asyncio.to_thread(check_server, _CheckerClient(http))
    failed = [(r.resource_type, r.title, r.reason) for r in results if r.status.name in ("ERROR", "CRITICAL")]
    assert not failed, failed
    assert sum(r.status.name == "SUCCESS" for r in results) >= LEAST_SUCCESSES, results
    assert {r.resource_type for r in results if r.status.name == "SUCCESS"} == {None, "User", "Group"}
