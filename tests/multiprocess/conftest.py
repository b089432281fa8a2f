"""Several real app processes on one PostgreSQL database of their own, an SMTP sink, and raw SQL for set-up.

These tests run only when GATEHOUSE_TEST_POSTGRES_URL is set, and fail (never skip) when it is set and the
server does not answer. Each test module gets a database of its own, named after the one in that URL with a
unique suffix, created at the start and dropped at the end: the shared database itself is never touched.
"""

import asyncio
import concurrent.futures
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
from aiosmtpd.controller import Controller

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
POSTGRES_URL = os.environ.get("GATEHOUSE_TEST_POSTGRES_URL", "")
SECRET = "multiprocess-test-secret-0123456789abcdef"
START_TIMEOUT = 60.0  # a bound for a loaded machine; a start takes 2-4 s on a quiet one
STOP_TIMEOUT = 10.0
LEASE_SECONDS = 3  # a killed worker's claims are taken over after this
_DROPPED_PREFIXES = ("PYTEST_", "NICEGUI_", "GATEHOUSE_")
T = TypeVar("T")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "multiprocess: several app processes on PostgreSQL (needs the test server)")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from synchronous test code (in a thread: Playwright may own this one's loop)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def sql(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    """One statement on a short-lived connection; returns the rows."""

    async def go() -> list[asyncpg.Record]:
        connection = await asyncpg.connect(url)
        try:
            return list(await connection.fetch(query, *args))
        finally:
            await connection.close()

    return run_async(go())


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A fresh, empty database of this module's own, dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("GATEHOUSE_TEST_POSTGRES_URL is not set: the multi-process tests need PostgreSQL")
    name = f"gatehouse_mp_{os.getpid()}_{secrets.token_hex(4)}"
    maintenance = _with_database(POSTGRES_URL, "postgres")
    try:
        sql(maintenance, f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(f"GATEHOUSE_TEST_POSTGRES_URL is set but PostgreSQL is not usable: {error}")
    try:
        yield _with_database(POSTGRES_URL, name)
    finally:
        sql(maintenance, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class SmtpSink:
    """A loopback SMTP server that counts what it receives, by recipient."""

    port: int
    received: Counter[str] = field(default_factory=Counter)
    message_ids: dict[str, set[str]] = field(default_factory=dict)  # by recipient
    contents: dict[str, list[bytes]] = field(default_factory=dict)  # by recipient, the raw messages
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or b""
        message_id = next(
            (line.split(b":", 1)[1].strip() for line in content.split(b"\r\n") if line.startswith(b"Message-ID:")), b""
        )
        with self.lock:
            for recipient in envelope.rcpt_tos:
                self.received[recipient.lower()] += 1
                self.message_ids.setdefault(recipient.lower(), set()).add(message_id.decode())
                self.contents.setdefault(recipient.lower(), []).append(content)
        return "250 OK"

    def count(self, suffix: str = "") -> tuple[int, int]:
        """(distinct recipients, deliveries) among recipients ending with the suffix."""
        with self.lock:
            mine = [n for address, n in self.received.items() if address.endswith(suffix)]
        return len(mine), sum(mine)

    def distinct_messages(self, suffix: str = "") -> int:
        """How many different messages (by Message-ID) the recipients ending with the suffix received."""
        with self.lock:
            return sum(len(ids) for address, ids in self.message_ids.items() if address.endswith(suffix))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[SmtpSink]:
    """The relay every app process of the module sends to (plain SMTP on loopback)."""
    sink = SmtpSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass
class AppProcess:
    name: str
    port: int
    process: "subprocess.Popen[bytes]"
    log_path: Path
    log_file: IO[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def health(self) -> tuple[int, str]:
        """(HTTP status, body) of /healthz; (0, reason) when it does not answer."""
        try:
            with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()
        except (urllib.error.URLError, ConnectionError, TimeoutError) as error:
            return 0, str(error)

    def wait_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.process.returncode} at start:\n{self.output()}")
            if self.health()[0] == 200:
                return
            time.sleep(0.1)  # bounded readiness polling
        pytest.fail(f"{self.name} was not healthy within {START_TIMEOUT:.0f} s: {self.health()}\n{self.output()}")

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT)
        self.log_file.close()


@pytest.fixture(scope="module")
def start_app(
    postgres_url: str, smtp_sink: SmtpSink, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., AppProcess]]:
    """Start `.venv/bin/python main.py` processes on the module's database; all stopped at the end."""
    started: list[AppProcess] = []
    folder = tmp_path_factory.mktemp("apps")

    def start(name: str, **extra_env: str) -> AppProcess:
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith(_DROPPED_PREFIXES)}
        env.update(
            GATEHOUSE_DATABASE_URL=postgres_url,
            GATEHOUSE_PORT=str(port),
            GATEHOUSE_BASE_URL=f"http://127.0.0.1:{port}",
            GATEHOUSE_SECRET=SECRET,
            GATEHOUSE_SMTP_HOST="127.0.0.1",
            GATEHOUSE_SMTP_PORT=str(smtp_sink.port),
            GATEHOUSE_SMTP_TLS="none",
            GATEHOUSE_ADMIN_EMAIL="first.admin@example.org",
            GATEHOUSE_MAIL_LEASE_SECONDS=str(LEASE_SECONDS),
            GATEHOUSE_LOG_FORMAT="json",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra_env)
        log_path = folder / f"{name}.log"
        log_file = log_path.open("wb")
        process = subprocess.Popen(
            [str(PYTHON), "main.py"], cwd=ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT
        )
        app = AppProcess(name=name, port=port, process=process, log_path=log_path, log_file=log_file)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()


def wait_for(condition: Callable[[], bool], *, timeout: float, message: Callable[[], str]) -> float:
    """Poll until the condition holds (bounded); returns the seconds it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            pytest.fail(message())
        time.sleep(0.05)
    return time.monotonic() - started
