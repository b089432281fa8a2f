"""Shared fixtures: the app's environment, a fresh database per test (SQLite, and PostgreSQL when set)."""

import contextlib
import fcntl
import gc
import os
import re
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from argon2 import PasswordHasher, profiles
from nicegui import core
from nicegui.testing import User
from tortoise import Tortoise, connections
from tortoise.contrib.fastapi import RegisterTortoise

from components import live, viewer_zone
from services.access import auth, late_requests, roles, sessions
from services.platform import clock, events, settings
from services.platform.database import connected, tortoise_config
from tests import waiting


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker empties and fills a database of its own: the URL's, named with the worker
    (test_gw0, test_gw1, ...), made on first use (fresh_postgres); one process alone uses the URL's own."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"{parts.path}_{worker}"))


POSTGRES_URL = _worker_database(os.environ.get("GATEHOUSE_TEST_POSTGRES_URL", ""))
# Tortoise binds models to one SQL dialect per process, so the PostgreSQL pass is a second pytest run
# (`-m data` with GATEHOUSE_TEST_DATABASE=postgres, see test.sh) over every test that uses `db`.
DATABASE_KIND = os.environ.get("GATEHOUSE_TEST_DATABASE", "sqlite")
TEST_SECRET = "test-secret-that-is-long-enough-for-the-settings-check"
_ORIGINAL_LIFESPAN = core.app.router.lifespan_context
_postgres_migrated = False
ROOT = Path(__file__).resolve().parents[1]
# Applies every migration to a new SQLite file (argv[1]), as the app's first start does.
MIGRATE = (
    "import asyncio, sys\n"
    "from services.platform import database\n"
    "async def migrate() -> None:\n"
    "    async with database.connected('sqlite://' + sys.argv[1]):\n"
    "        pass\n"
    "asyncio.run(migrate())\n"
)


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashing() -> Iterator[None]:
    """argon2's cheapest parameters: production's cost about half a second a hash (test_auth proves those)."""
    previous = auth.use_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))
    yield
    auth.use_hasher(previous)


@pytest.fixture(autouse=True)
def app_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app under the `user` fixture reads these instead of writing a real database file."""
    for name in list(os.environ):
        if name.startswith("GATEHOUSE_") and name != "GATEHOUSE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("GATEHOUSE_DATABASE_URL", "sqlite://:memory:")
    monkeypatch.setenv("GATEHOUSE_SECRET", TEST_SECRET)
    monkeypatch.setenv("GATEHOUSE_MAIL_WORKER", "off")
    monkeypatch.setenv("GATEHOUSE_SMTP_SINK", "off")
    monkeypatch.setenv("GATEHOUSE_WEBHOOK_WORKER", "off")
    monkeypatch.setenv("GATEHOUSE_GC_FREEZE_SECONDS", "0")  # frozen objects would outlive their tests
    live.forget_unstarted()  # a change scheduled on the last test's loop would never start on this one
    core.app.router.lifespan_context = _ORIGINAL_LIFESPAN
    clock.reset()
    events.install_remote(None)
    events.reset()
    sessions.reset()
    late_requests.reset()
    settings.configure(settings.load())  # no test inherits another's base URL or mail settings


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A SQLite file with every migration applied, made once per run and shared by the workers (under a lock):
    apps and tests that need a migrated file start from a copy rather than migrating an empty one (4 s each).
    tests/test_migrations.py and tests/browser/test_first_start.py still migrate from empty."""
    shared = tmp_path_factory.getbasetemp()
    shared = shared.parent if worker_id != "master" else shared  # the run's folder, above each worker's
    database = shared / "migrated.sqlite3"
    with (shared / "migrated.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not database.exists():
            building = shared / "migrating.sqlite3"
            subprocess.run([sys.executable, "-c", MIGRATE, str(building)], cwd=ROOT, check=True, timeout=120)
            building.rename(database)  # whole or absent: a worker never copies a file half made
    return database


async def create_database(url: str) -> None:
    """Create the database the URL names when it is missing (a worker's own: _worker_database)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    connection = await asyncpg.connect(urlunsplit(parts._replace(path="/postgres")))
    try:
        exists = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        with contextlib.suppress(asyncpg.DuplicateDatabaseError):  # another run may make it meanwhile
            if not exists:
                await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


def copy_of(migrated: Path, folder: Path, name: str = "gatehouse.sqlite3") -> Path:
    """A new database file in folder, migrated: a copy of tests/conftest.py's migrated_sqlite."""
    database = folder / name
    shutil.copyfile(migrated, database)
    return database


def pytest_collection_finish(session: pytest.Session) -> None:
    """What importing and collecting made lives for the whole run: keep it out of every later garbage collection.
    NiceGUI's `user` fixture collects twice per test, and scanning the whole imported app took 0.2 s each time."""
    freeze_what_lives()


def freeze_what_lives() -> None:
    """Collect, then freeze what survives out of the sight of later collections (only cycles made after stay theirs)."""
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True, scope="module")
def frozen_between_files() -> None:
    """Freeze again as each test file starts: modules imported and objects built by the tests so far (Tortoise's
    model state, lazily imported libraries) would otherwise be walked by NiceGUI's two collections per `user` test,
    30-100 ms each. The price: a cycle alive as a file starts and dropped later is never freed (a worker stayed under
    350 MB); cycles made within a file are collected as before."""
    freeze_what_lives()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test that uses the database is a data-layer test, run again on PostgreSQL. The browser tests go first:
    they are the longest and mostly wait on a browser, so the workers fill those waits with the quick tests."""
    for item in items:
        if "db" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.data)
    items.sort(key=lambda item: item.get_closest_marker("browser") is None)  # stable: files keep their order


@pytest.fixture
async def db() -> AsyncIterator[str]:
    """A migrated, empty database with the default roles; yields which kind it is."""
    kind = DATABASE_KIND
    if kind == "postgres" and not POSTGRES_URL:
        pytest.fail("GATEHOUSE_TEST_DATABASE=postgres needs GATEHOUSE_TEST_POSTGRES_URL")
    if kind == "sqlite":
        async with connected("sqlite://:memory:", generate=True):
            await roles.seed_defaults()
            yield kind
        return
    await fresh_postgres()
    async with connected(POSTGRES_URL):
        await roles.seed_defaults()
        yield kind


async def fresh_postgres() -> None:
    """Migrate once per run (proving the migrations), then empty every table before each test."""
    global _postgres_migrated
    if not _postgres_migrated:
        await create_database(POSTGRES_URL)
    async with RegisterTortoise(config=tortoise_config(POSTGRES_URL)):
        connection = connections.get("default")
        if not _postgres_migrated:
            await connection.execute_script("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
            _postgres_migrated = True
        else:
            tables = [model._meta.db_table for model in Tortoise.apps["models"].values()]
            await connection.execute_script(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE;")


@pytest.fixture
def user(user: User, monkeypatch: pytest.MonkeyPatch) -> User:
    """The simulated browser answers the page's question for its time zone (components/viewer_zone.py) with UTC;
    a test that wants another zone sets its own answer for the same question. Its checks look often
    (tests/waiting.py)."""
    waiting.look_often(user, monkeypatch)
    user.javascript_rules[re.compile(re.escape(viewer_zone.ASK))] = lambda _: "UTC"
    return user


@pytest.fixture
def create_user(create_user: Callable[[], User], monkeypatch: pytest.MonkeyPatch) -> Callable[[], User]:
    """NiceGUI's maker of further simulated browsers; their checks look often too (tests/waiting.py)."""

    def create() -> User:
        made = create_user()
        waiting.look_often(made, monkeypatch)
        return made

    return create
