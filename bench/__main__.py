"""Run the benchmarks of issue 6 and print each figure as a ratio against a baseline measured in the same run.

    .venv/bin/python -m bench                                   # everything on SQLite (about 5 minutes)
    .venv/bin/python -m bench --postgres postgres://postgres@127.0.0.1:5432/gatehouse_bench
    .venv/bin/python -m bench --only import --sizes 10000 --repeat 5
    .venv/bin/python -m bench --only revoke --postgres postgres://...   # time-to-revoke, two processes (issue 18)

The PostgreSQL database given is wiped and rebuilt for every run: never point it at data you keep. Each
benchmark and database runs in its own process (Tortoise binds the models to one SQL dialect per process).
Time-to-revoke needs PostgreSQL (two app processes on one database): it runs only when one is given.
"""

import argparse
import json
import os
import subprocess
import sys
from typing import Any

from bench.common import machine, median

GOALS = {"import": "<= 2.5x", "delivery": ">= 0.66x"}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only", choices=("import", "delivery", "revoke"), action="append", help="one benchmark (repeatable)"
    )
    parser.add_argument("--sizes", default="10000,100000", help="CSV sizes for the import (default 10000,100000)")
    parser.add_argument("--delivery-size", type=int, default=10_000, help="queued emails to deliver (default 10000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each figure; medians are reported (default 3)")
    parser.add_argument("--revoke-members", type=int, default=50, help="members per path of time-to-revoke (50)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("GATEHOUSE_BENCH_POSTGRES_URL", ""),
        help="a PostgreSQL database to WIPE and use (default $GATEHOUSE_BENCH_POSTGRES_URL; none: SQLite only)",
    )
    parser.add_argument("--json", help="also write every run's figures to this file")
    options = parser.parse_args()
    databases = ([] if options.no_sqlite else ["sqlite"]) + ([options.postgres] if options.postgres else [])
    benchmarks = options.only or ["import", "delivery", *(["revoke"] if options.postgres else [])]
    sizes = [str(int(size)) for size in options.sizes.split(",")]
    print("Machine: " + "; ".join(f"{k}: {v}" for k, v in machine().items()), flush=True)
    results: list[dict[str, Any]] = []
    for benchmark in benchmarks:
        if benchmark == "revoke":
            results += _revoke(options.postgres, options.revoke_members)
            continue
        for database in databases:
            module = "bench.bulk_import" if benchmark == "import" else "bench.delivery"
            size_args = [arg for size in sizes for arg in ("--size", size)] if benchmark == "import" else []
            if benchmark == "delivery":
                size_args = ["--size", str(options.delivery_size)]
            command = [
                sys.executable,
                "-m",
                module,
                "--database",
                database,
                "--repeat",
                str(options.repeat),
                *size_args,
            ]
            print(f"\n{benchmark} on {'sqlite' if database == 'sqlite' else 'postgres'}:", flush=True)
            finished = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
            results += [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]
    print("\n" + summary(results))
    if options.json:
        with open(options.json, "w") as out:
            json.dump({"machine": machine(), "results": results}, out, indent=1)


def _revoke(postgres: str, members: int) -> list[dict[str, Any]]:
    if not postgres:
        print("\nrevoke: needs --postgres (two app processes on one PostgreSQL database); not run", flush=True)
        return []
    print("\nrevoke on postgres (two processes):", flush=True)
    command = [sys.executable, "-m", "bench.time_to_revoke", "--postgres", postgres, "--members", str(members)]
    finished = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
    return [json.loads(line) for line in finished.stdout.splitlines() if line.startswith("{")]


def summary(results: list[dict[str, Any]]) -> str:
    """Medians of the runs, each ratio against its own run's baseline, and the event loop's lag."""
    imports = [r for r in results if r["benchmark"] == "import"]
    deliveries = [r for r in results if r["benchmark"] == "delivery"]
    revokes = [r["table"] for r in results if r["benchmark"] == "time_to_revoke"]
    lines: list[str] = [line for table in revokes for line in ("time-to-revoke, PostgreSQL, two processes:", table, "")]
    if imports:
        lines += [
            "| import | rows | baseline s | service s | service / baseline (each run) | goal "
            "| loop lag max / p99 ms (idle) | other queries waited, max ms | CPU s baseline / service |",
            "| --- | ---: | ---: | ---: | --- | --- | --- | ---: | --- |",
        ]
        for result in imports:
            runs = result["runs"]
            ratios = [run["service"] / run["baseline"] for run in runs]
            lines.append(
                f"| {result['database']} | {result['size']:,} | {_median(runs, 'baseline'):.2f} "
                f"| {_median(runs, 'service'):.2f} | **{median(ratios):.2f}x** ({_each(ratios)}) | {GOALS['import']} "
                f"| {_lag(runs)} | {max(r['query_wait_max_ms'] for r in runs):,.0f} "
                f"| {_median(runs, 'baseline_cpu'):.1f} / {_median(runs, 'service_cpu'):.1f} |"
            )
    if deliveries:
        lines += [
            "",
            "| delivery | emails | baseline msg/s | service msg/s | service / baseline rate (each run) | goal "
            "| loop lag max / p99 ms (idle) | CPU s, sending process: baseline / service "
            "| CPU s, sink: baseline / service |",
            "| --- | ---: | ---: | ---: | --- | --- | --- | --- | --- |",
        ]
        for result in deliveries:
            runs, size = result["runs"], result["size"]
            ratios = [run["baseline"] / run["service"] for run in runs]
            lines.append(
                f"| {result['database']} | {size:,} | {size / _median(runs, 'baseline'):,.0f} "
                f"| {size / _median(runs, 'service'):,.0f} | **{median(ratios):.2f}x** ({_each(ratios)}) "
                f"| {GOALS['delivery']} | {_lag(runs)} "
                f"| {_median(runs, 'baseline_cpu'):.1f} / {_median(runs, 'service_cpu'):.1f} "
                f"| {_median(runs, 'baseline_sink_cpu'):.1f} / {_median(runs, 'service_sink_cpu'):.1f} |"
            )
    return "\n".join(lines)


def _median(runs: list[dict[str, float]], name: str) -> float:
    return median([run[name] for run in runs])


def _each(ratios: list[float]) -> str:
    return ", ".join(f"{ratio:.2f}" for ratio in ratios)


def _lag(runs: list[dict[str, float]]) -> str:
    control = max(run.get("idle_lag_max_ms", float("nan")) for run in runs)
    return f"{max(run['lag_max_ms'] for run in runs):.0f} / {_median(runs, 'lag_p99_ms'):.0f} ({control:.0f})"


if __name__ == "__main__":
    main()
