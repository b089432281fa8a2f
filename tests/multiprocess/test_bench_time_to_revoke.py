"""bench.time_to_revoke runs end to end on two members a path, two app processes on PostgreSQL, so it cannot rot.

Nothing here is timed: the report has its fields, and every member was refused, with their page left, in the end.
The benchmark runs as its own process, as `python -m bench` runs it: Tortoise binds the models to one SQL dialect
per process, and this test process may already have bound them to SQLite.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench import time_to_revoke

pytestmark = pytest.mark.multiprocess

ROOT = Path(__file__).resolve().parents[2]
TINY = ["--members", "2", "--poll", "0.1", "--stagger", "0.1", "--lead", "2", "--warm", "0.3", "--tail", "0.2"]
FIELDS = {"ttr_p50", "ttr_p95", "ttr_max", "refused_p95", "page_p95", "gap", "request_ms", "goal_met", "load"}
CPU = {"cpu_A_s", "cpu_B_s", "cpu_bench_s"}  # A, B and the bench's own client process
# members a path must not have: idle when access stopped, never refused, with a page that stayed, allowed after a
# refusal, refused too early (the diff names which)
NONE_OF = ("unused", "never_refused", "pages_kept", "allowed_after_refusal", "refused_before")


def test_the_time_to_revoke_benchmark_measures_every_path_across_two_processes(postgres_url: str) -> None:
    command = [sys.executable, "-m", "bench.time_to_revoke", "--postgres", postgres_url, *TINY, "--watch", "20"]
    finished = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr[-3000:]
    (report,) = [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]

    assert report["benchmark"] == "time_to_revoke"
    assert [result["path"] for result in report["runs"]] == list(time_to_revoke.PATHS)
    for result in report["runs"]:
        figures = result["summary"]
        assert result["leaders"] == [True, False]  # A leads housekeeping; the members ask B
        assert figures.keys() >= FIELDS | CPU and figures["members"] == 2
        counts = {name: figures[name] for name in NONE_OF}
        assert counts == dict.fromkeys(NONE_OF, 0), (result["path"], figures)
        assert all(member["time_to_revoke"] is not None for member in result["members"])
    assert all(f"| {path} | 2 |" in report["table"] for path in time_to_revoke.PATHS)
