"""Issue 6, item 2: the mail worker draining N queued invitation emails into a counting SMTP sink on loopback.

Service: `MailWorker(settings).run_until_empty()` as the app runs it (claims, rendering, sending, retries and
state updates included), with the event loop's lag measured. Baseline, same run: the same number of prebuilt
message bytes over 8 reused aiosmtplib connections. The sink runs in its own process (bench/sink.py).
"""

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

import aiosmtplib

from bench import world as worlds
from bench.common import LagProbe, addresses, idle_lag_ms, stopwatch
from models import OutboxMessage, OutboxState
from services.invitations import service as invitations
from services.mail import templates as mail_templates
from services.mail.worker import MailWorker
from services.platform import settings
from services.platform.database import connected

BASELINE_CONNECTIONS = 8


class Sink:
    """The counting sink process."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        command = [sys.executable, "-m", "bench.sink", str(self.port)]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self._process.stdout is not None and self._process.stdout.readline().strip() == "ready"

    def count(self) -> int:
        """How many messages the sink has accepted."""
        return int(self.read()[0])

    def cpu(self) -> float:
        """The CPU seconds the sink has used."""
        return self.read()[1]

    def read(self) -> tuple[int, float]:
        assert self._process.stdin is not None and self._process.stdout is not None
        self._process.stdin.write("count\n")
        self._process.stdin.flush()
        count, cpu = self._process.stdout.readline().split()
        return int(count), float(cpu)

    def stop(self) -> None:
        assert self._process.stdin is not None
        self._process.stdin.close()
        self._process.wait(timeout=10)


async def queue(world: worlds.World, count: int) -> None:
    """count queued invitation emails, through the real send path; the background's mail counts as sent."""
    await OutboxMessage.all().update(state=OutboxState.SENT, link_seed=None)
    await invitations.send(
        actor=await world.actor(),
        addresses=addresses(count, prefix="mail."),
        role_id=world.role_id,
        lifetime_hours=72,
        deployment_id=world.deployment_id,
    )


def prebuilt(count: int) -> list[tuple[str, bytes]]:
    """count invitation messages rendered ahead of time, as large as the ones the worker sends."""
    config = settings.current()
    context = {
        "inviter_name": "Olive Owner",
        "inviter_email": "olive.owner@stmarys.nhs.example",
        "scope_name": "Heart Failure Trial at St Mary's Trust",
        "role_name": "Clinician",
        "expires_at": "2026-11-30T12:00:00+00:00",
    }
    link = config.link("/accept/" + "x" * 43)
    return [
        (email, mail_templates.render("invitation", recipient=email, context=context, link=link, settings=config))
        for email in addresses(count, prefix="mail.")
    ]


async def baseline(port: int, messages: list[tuple[str, bytes]]) -> tuple[float, float]:
    """Prebuilt bytes over BASELINE_CONNECTIONS reused connections."""
    sender = mail_templates.sender_address(settings.current())
    pending = deque(messages)

    async def connection() -> None:
        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, use_tls=False, local_hostname="bench")
        await smtp.connect()
        while pending:
            recipient, message = pending.popleft()
            await smtp.sendmail(sender, [recipient], message)
        await smtp.quit()

    with stopwatch() as taken:
        await asyncio.gather(*(connection() for _ in range(BASELINE_CONNECTIONS)))
    return taken[0], taken[1]


async def service(database_url: str, port: int, count: int, options: dict[str, Any]) -> dict[str, float]:
    """The app's worker, as configured by default (or with options), until nothing is due."""
    config = settings.current().model_copy(update={"smtp_port": port})
    async with connected(database_url):
        worker = MailWorker(config, **options)
        try:
            async with LagProbe() as probe:
                with stopwatch() as taken:
                    handled = await worker.run_until_empty()
        finally:
            await worker.stop()
        sent = await OutboxMessage.filter(state=OutboxState.SENT, link_seed__isnull=True, sent_at__isnull=False).count()
    if handled != count or sent < count:
        raise RuntimeError(f"expected {count} handled and sent, got {handled} handled and {sent} sent")
    return {"service": taken[0], "service_cpu": taken[1], "lag_max_ms": probe.max_ms, "lag_p99_ms": probe.p99_ms}


async def run(database: str, count: int, repeat: int, options: dict[str, Any]) -> dict[str, Any]:
    """Alternate baseline and service `repeat` times against one sink process."""
    sink = Sink()
    runs: list[dict[str, float]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="gatehouse-bench-") as folder:
            template: Path | None = None
            if database == "sqlite":
                template, world = await worlds.sqlite_template(Path(folder))
                async with connected(f"sqlite://{template}"):
                    await queue(world, count)
            messages = prebuilt(count)
            for attempt in range(repeat):
                before, sink_before = sink.read()
                base, base_cpu = await baseline(sink.port, messages)
                after, sink_after = sink.read()
                if after - before != count:
                    raise RuntimeError("the sink did not count every baseline message")
                base_sink = sink_after - sink_before
                if template is not None:
                    url = f"sqlite://{worlds.sqlite_copy(template, f'delivery{attempt}.sqlite3')}"
                else:
                    url = database
                    world = await worlds.fresh_postgres(database)
                    async with connected(database):
                        await queue(world, count)
                idle = await idle_lag_ms()
                before, sink_before = sink.read()
                figures = await service(url, sink.port, count, options)
                after, sink_after = sink.read()
                if after - before != count:
                    raise RuntimeError(f"the sink counted {after - before} of {count} messages")
                figures.update(service_sink_cpu=sink_after - sink_before, idle_lag_max_ms=idle)
                runs.append({"baseline": base, "baseline_cpu": base_cpu, "baseline_sink_cpu": base_sink, **figures})
                print(
                    f"  {count:,} run {attempt + 1}: " + ", ".join(f"{k} {v:.3f}" for k, v in runs[-1].items()),
                    file=sys.stderr,
                )
    finally:
        sink.stop()
    kind = "sqlite" if database == "sqlite" else "postgres"
    return {"benchmark": "delivery", "database": kind, "size": count, "options": options, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="sqlite", help="'sqlite' or a postgres:// URL of a database to wipe")
    parser.add_argument("--size", type=int, action="append", required=True)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", type=int, help="the worker's SMTP connections (default: the app's)")
    parser.add_argument("--batch", type=int, help="the worker's batch size (default: the app's)")
    options = parser.parse_args()
    worker_options = {
        name: value
        for name, value in (("connections", options.connections), ("batch_size", options.batch))
        if value is not None
    }
    for size in options.size:
        print(json.dumps(asyncio.run(run(options.database, size, options.repeat, worker_options))), flush=True)


if __name__ == "__main__":
    main()
