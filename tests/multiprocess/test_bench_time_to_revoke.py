"""bench.time_to_revoke runs end to end on two members a path, two app processes on PostgreSQL, so it cannot rot.

Nothing here is timed: the report has its fields, and every member was refused, with their page left, in the end.
"""

import pytest

from bench import time_to_revoke

pytestmark = pytest.mark.multiprocess

TINY = time_to_revoke.Options(poll=0.1, stagger=0.1, lead=2.0, warm=0.3, tail=0.2, watch=20.0)
FIELDS = {"ttr_p50", "ttr_p95", "ttr_max", "refused_p95", "page_p95", "gap", "request_ms", "goal_met", "load"}
CPU = {"cpu_A_s", "cpu_B_s", "cpu_bench_s"}  # A, B and the bench's own client process


async def test_the_time_to_revoke_benchmark_measures_every_path_across_two_processes(postgres_url: str) -> None:
    results = await time_to_revoke.run(postgres_url, time_to_revoke.PATHS, 2, 60, TINY)

    assert [result["path"] for result in results] == list(time_to_revoke.PATHS)
    for result in results:
        figures = result["summary"]
        assert result["leaders"] == [True, False]  # A leads housekeeping; the members ask B
        assert figures.keys() >= FIELDS | CPU and figures["members"] == 2
        assert figures["unused"] == figures["never_refused"] == figures["pages_kept"] == 0, figures
        assert figures["allowed_after_refusal"] == figures["refused_before"] == 0, figures
        assert all(member["time_to_revoke"] is not None for member in result["members"])
    table = time_to_revoke.summary([result["summary"] for result in results])
    assert all(f"| {path} | 2 |" in table for path in time_to_revoke.PATHS)
