"""What every benchmark shares: test data, an event-loop lag probe, medians and a description of the machine."""

import asyncio
import os
import platform
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from types import TracebackType

DOMAINS = (
    "stmarys.nhs.example",
    "northwind-health.example",
    "royal-infirmary.example",
    "clinic.example.org",
    "gp-practice.example.net",
    "research.univ.example",
    "hospital.example.co.uk",
    "care.example.com",
)
FIRST = ("ann", "bob", "carla", "dev", "eve", "femi", "gita", "hugo", "ines", "jon", "kai", "lena", "mo", "nia")
LAST = ("smith", "jones", "patel", "okafor", "garcia", "kowalski", "nguyen", "murphy", "schmidt", "ali")


def addresses(count: int, *, prefix: str = "") -> list[str]:
    """count distinct, valid, lower-case staff addresses spread over a few hospital domains."""
    return [
        f"{prefix}{FIRST[n % len(FIRST)]}.{LAST[n // len(FIRST) % len(LAST)]}{n}@{DOMAINS[n % len(DOMAINS)]}"
        for n in range(count)
    ]


def csv_bytes(emails: list[str]) -> bytes:
    """A CSV upload as a spreadsheet exports it: a header row, the address first, a name after it."""
    lines = ["Email,Name"] + [f"{email},{email.split('@')[0].replace('.', ' ').title()}" for email in emails]
    return ("\r\n".join(lines) + "\r\n").encode()


@dataclass
class LagProbe:
    """Measures how late a 5 ms timer fires while the loop is busy: the longest stall and the 99th percentile."""

    interval: float = 0.005
    lags: list[float] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "LagProbe":
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, loop.time() - started - self.interval))

    @property
    def max_ms(self) -> float:
        return max(self.lags, default=0.0) * 1000

    @property
    def p99_ms(self) -> float:
        if len(self.lags) < 2:
            return self.max_ms
        return statistics.quantiles(self.lags, n=100)[98] * 1000


async def idle_lag_ms(seconds: float = 3.0) -> float:
    """The longest stall of an event loop with nothing to do: what the machine's other load alone costs."""
    async with LagProbe() as probe:
        await asyncio.sleep(seconds)
    return probe.max_ms


@dataclass
class QueryProbe:
    """How long a small query waits while something else uses the database (pages keep querying it)."""

    query: Callable[[], Awaitable[object]]
    interval: float = 0.05
    waits: list[float] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _asked_at: float | None = None

    async def __aenter__(self) -> "QueryProbe":
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with suppress(asyncio.CancelledError):
                await self._task
        if self._asked_at is not None:  # still waiting: that wait counts too
            self.waits.append(asyncio.get_running_loop().time() - self._asked_at)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self._asked_at = loop.time()
            await self.query()
            self.waits.append(loop.time() - self._asked_at)
            self._asked_at = None
            await asyncio.sleep(self.interval)

    @property
    def max_ms(self) -> float:
        return max(self.waits, default=0.0) * 1000


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """with stopwatch() as taken: ...; then taken[0] holds the seconds, taken[1] this process's CPU seconds."""
    taken = [0.0, 0.0]
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield taken
    finally:
        taken[0], taken[1] = time.perf_counter() - started, time.process_time() - cpu


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        postgres = subprocess.run(["psql", "--version"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        postgres = "psql not found"
    return {
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "postgres client": postgres,
        "os": platform.platform(),
        "load average (1, 5, 15 min)": ", ".join(f"{x:.2f}" for x in os.getloadavg()),
    }
