"""The benchmarks of bench/ run end to end on a few rows, so the scripts cannot rot. Nothing here is timed."""

import asyncio
import json
import sqlite3
import tempfile
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from bench import big_send, bulk_import, deflate_clients, delivery, lists_common, live_updates, pending_list
from bench import world as worlds
from bench.common import csv_bytes
from bench.delivery import Sink
from bench.varied import varied_addresses
from tests.waiting import until

ROWS = 200
CHROMIUM = deflate_clients.CHROMIUM_OFFER


@pytest.fixture(autouse=True)
def migrated_start(migrated_sqlite: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The benchmarks' SQLite files start from a migrated copy: what is smoked here is the benchmark, not migrating."""
    monkeypatch.setattr(worlds, "MIGRATED_START", migrated_sqlite)


def _pending(database: Path) -> int:
    with closing(sqlite3.connect(database)) as connection:
        return int(connection.execute("SELECT count(*) FROM invitation WHERE state = 'pending'").fetchone()[0])


async def test_the_import_benchmark_runs_baseline_and_service_on_the_same_rows() -> None:
    emails = varied_addresses(ROWS, domains=40, punycode=False)  # few domains: the Unicode ones get drawn too
    assert any(not email.isascii() for email in emails) and len({e.split("@")[1] for e in emails}) > 20
    data = csv_bytes(emails)
    with tempfile.TemporaryDirectory() as folder:
        template, world = await worlds.sqlite_template(Path(folder), scale=0.02)
        by_hand = worlds.sqlite_copy(template, "baseline.sqlite3")
        through_service = worlds.sqlite_copy(template, "service.sqlite3")
        baseline, _ = await bulk_import.baseline_sqlite(by_hand, data, world)
        figures = await bulk_import.service(f"sqlite://{through_service}", data, world, ROWS)
        assert _pending(by_hand) == _pending(through_service) == world.background_pending + ROWS
    assert baseline > 0 and figures["service"] > 0
    assert 0 < figures["parse"] < figures["service"]  # the figures are the stages' own, not placeholders


async def test_the_delivery_benchmark_sends_every_message_to_the_counting_sink() -> None:
    sink = Sink()
    try:
        with tempfile.TemporaryDirectory() as folder:
            template, world = await worlds.sqlite_template(Path(folder), scale=0.02)
            async with worlds.connected(f"sqlite://{template}"):
                await delivery.queue(world, ROWS)
            await delivery.baseline(sink.port, delivery.prebuilt(ROWS))
            await delivery.service(f"sqlite://{template}", sink.port, ROWS, {})
        assert sink.count() == 2 * ROWS
    finally:
        sink.stop()


async def test_the_list_benchmarks_page_clients_offer_deflate_as_chromium_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENCH_UI_RUN", json.dumps({"ws_per_message_deflate": True}))  # a server that accepts it
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite://{Path(folder) / 'lists.sqlite3'}"
        seeded = await lists_common.seed(url, total=ROWS, organisations=3)
        async with lists_common.app_server(url) as base, aiohttp.ClientSession() as http:
            answer = await deflate_clients.negotiated_extensions(base, "/_bench/minimal", {}, offer=CHROMIUM)
            org = seeded.typical
            path = f"/care?org={org.id}&view=pending"
            offering, plain = [
                (await live_updates.open_pages(http, base, path, org.owner_id, 1, compress=compress))[0]
                for compress in (True, False)
            ]
            try:
                assert answer.startswith("permessage-deflate")
                assert isinstance(offering, deflate_clients.BrowserLikePageClient)
                assert isinstance(plain, deflate_clients.BrowserLikePageClient)
                assert offering.deflating and not plain.deflating
                await until(lambda: bool(offering.heard and plain.heard), bound=20)  # both sockets carry the page
            finally:
                await asyncio.gather(offering.close(), plain.close())


async def test_the_pending_list_benchmark_checks_every_case_against_its_baseline_and_reads_each_plan() -> None:
    results = await pending_list.run("sqlite", total=10_000, samples=1)  # --quick
    cases = {r["case"] for r in results}
    assert {"large org: search one address", "large org: deployment admin", "typical org: last page, expires"} <= cases
    assert all(r["plan"] and r["service_max"] >= r["service_p95"] > 0 for r in results)


async def test_the_big_send_benchmark_probes_another_list_in_every_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(big_send, "IDLE_SECONDS", 0.05)
    monkeypatch.setattr(big_send, "IDLE_LOOP_SECONDS", 0.05)
    monkeypatch.setattr(big_send, "OTHER_PENDING", 30)
    results = await big_send.sqlite_rounds(ROWS, 1, big_send.MODES, scale=0.02)  # checks each send's invitations
    assert [r["mode"] for r in results] == list(big_send.MODES)
    assert all(r["probes"] >= 1 and r["wait_max_ms"] >= r["wait_p50_ms"] > 0 for r in results)
    assert "| in steps |" in big_send.summary(results)
