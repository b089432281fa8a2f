"""Browser-test fixtures: the real app as a subprocess on a free port, and Debian's Chromium through Playwright.

The app runs exactly as `./run.sh` runs it (its own SQLite file, embedded mail sink and mail worker), so the
tests read invitations from a real SMTP sink through the product's mailbox page, /dev/mailbox.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest
from playwright.sync_api import Browser, BrowserContext, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
# Debian's build of Chromium's headless shell (package chromium-headless-shell): the same engine, without the
# desktop browser's UI layers, as Playwright itself uses for headless runs; a fifth less CPU than `chromium
# --headless` on the browser tests. Never a downloaded browser.
CHROMIUM = "/usr/bin/chromium-headless-shell"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ADMIN_EMAIL = "admin@example.org"
START_TIMEOUT = 60.0  # a bound for a loaded machine; a start takes 2-4 s on a quiet one
STOP_TIMEOUT = 10.0
# Variables the child must not inherit: pytest's and NiceGUI's (an inherited PYTEST_CURRENT_TEST makes ui.run
# look for a screen-test port) and the switches tests/conftest.py uses to turn the sink and worker off.
_DROPPED_PREFIXES = ("PYTEST_", "NICEGUI_", "GATEHOUSE_")


NewContext = Callable[..., BrowserContext]  # new_context's maker: keyword arguments go to Playwright's new_context


@dataclass
class AppServer:
    """The app under test: where it listens, its process, and what it printed so far."""

    base_url: str
    process: "subprocess.Popen[bytes]"
    log_path: Path
    database: Path
    admin_email: str = ADMIN_EMAIL

    def output(self) -> str:
        """Everything the app wrote to stdout and stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def url(self, path: str) -> str:
        return self.base_url + path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _child_environment(database: Path, port: int, host: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith(_DROPPED_PREFIXES)}
    env.update(
        GATEHOUSE_DATABASE_URL=f"sqlite://{database}",
        GATEHOUSE_PORT=str(port),
        GATEHOUSE_BASE_URL=f"http://{host}:{port}",
        GATEHOUSE_ADMIN_EMAIL=ADMIN_EMAIL,
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_until_ready(server: AppServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"Gatehouse exited with code {server.process.returncode} at start:\n{server.output()}")
        try:
            with urllib.request.urlopen(server.url("/login"), timeout=2) as response:  # noqa: S310  (our own http URL)
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)  # polling for readiness, bounded by the deadline
    pytest.fail(f"Gatehouse did not answer on {server.url('/login')} within {START_TIMEOUT:.0f} s:\n{server.output()}")


def _stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # uvicorn shuts down cleanly: lifespan exit stops the worker and sink
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def _running_app(folder: Path, host: str = "127.0.0.1", migrated: Path | None = None) -> Iterator[AppServer]:
    """host: the base URL's host name (the app listens on loopback either way). migrated: a migrated database to
    start from a copy of (None: an empty file, migrated by the app's start)."""
    port = _free_port()
    log_path = folder / "gatehouse.log"
    database = folder / "gh.sqlite3"
    if migrated is not None:
        shutil.copyfile(migrated, database)
    log_file: IO[bytes] = log_path.open("wb")
    process = subprocess.Popen(
        [str(PYTHON), "main.py"],
        cwd=ROOT,
        env=_child_environment(database, port, host),
        stdout=log_file,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    server = AppServer(base_url=f"http://{host}:{port}", process=process, log_path=log_path, database=database)
    try:
        _wait_until_ready(server)
        yield server
    finally:
        _stop(process)
        log_file.close()


@pytest.fixture
def first_start_server(tmp_path: Path) -> Iterator[AppServer]:
    """Gatehouse started on an empty SQLite file: its first start migrates it and invites the first admin."""
    with _running_app(tmp_path) as server:
        yield server


@pytest.fixture
def app_server(tmp_path: Path, migrated_sqlite: Path) -> Iterator[AppServer]:
    """Gatehouse as `./run.sh` runs it, on a free port, with a new SQLite file and its embedded mail sink."""
    with _running_app(tmp_path, migrated=migrated_sqlite) as server:
        yield server


@pytest.fixture
def localhost_app_server(tmp_path: Path, migrated_sqlite: Path) -> Iterator[AppServer]:
    """The app at http://localhost:<port>: WebAuthn takes a domain, never an IP address, as its relying party id."""
    with _running_app(tmp_path, host="localhost", migrated=migrated_sqlite) as server:
        yield server


@pytest.fixture(scope="module")
def module_app_server(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite: Path) -> Iterator[AppServer]:
    """One app for all the tests of a module: for tests that each work in an organisation of their own, so they
    share the start-up (an app and a first Super Admin) rather than repeat it."""
    with _running_app(tmp_path_factory.mktemp("app"), migrated=migrated_sqlite) as server:
        yield server


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """Debian's Chromium (never a downloaded one), shared by the browser tests a worker runs one after the other
    (Playwright's driver and Chromium take 0.8 s of CPU to start); each test's pages are in contexts of their own."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("GATEHOUSE_SKIP_BROWSER") == "1":
            pytest.skip(f"{CHROMIUM} is missing and GATEHOUSE_SKIP_BROWSER=1")
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's (`apt-get install -y chromium-headless-shell`; ./test.sh does it "
            "when run as root) or set GATEHOUSE_SKIP_BROWSER=1 to skip the browser tests"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator[NewContext]:
    """Make browser contexts (each its own cookie jar, like a separate browser); all closed at the end.
    Keyword arguments go to Playwright's new_context (timezone_id="Asia/Tokyo", say)."""
    contexts: list[BrowserContext] = []

    def make(**options: Any) -> BrowserContext:
        context = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "en-GB", **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def shots_dir(tmp_path: Path) -> Path:
    """Where screenshots and axe reports go: pytest keeps the last three runs' (pytest --basetemp to choose)."""
    folder = tmp_path / "shots"
    folder.mkdir()
    return folder
