"""The benchmarks of bench/ run end to end on a few rows, so the scripts cannot rot. Nothing here is timed."""

import tempfile
from pathlib import Path

from bench import bulk_import, delivery
from bench import world as worlds
from bench.common import addresses, csv_bytes
from bench.delivery import Sink

ROWS = 200


async def test_the_import_benchmark_runs_baseline_and_service_on_the_same_rows() -> None:
    data = csv_bytes(addresses(ROWS))
    with tempfile.TemporaryDirectory() as folder:
        template, world = await worlds.sqlite_template(Path(folder), scale=0.02)
        baseline, _ = await bulk_import.baseline_sqlite(worlds.sqlite_copy(template, "baseline.sqlite3"), data, world)
        figures = await bulk_import.service(
            f"sqlite://{worlds.sqlite_copy(template, 'service.sqlite3')}", data, world, ROWS
        )
    assert baseline > 0 and figures["service"] > 0 and figures["lag_max_ms"] >= 0


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
