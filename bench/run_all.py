"""Run every benchmark in bench/ on PostgreSQL and print one combined table (`make bench`).

Each script runs as its own process with BENCH_RESULTS set, so it appends its rows (figure, measured,
target, command to reproduce) to one JSON-lines file; the combined table is printed from that file at the
end. Durations are moderate by default (the whole run stays well under 15 minutes on 2 cores); `--quick`
makes every script as short as it can be, to check the scripts work.

    BENCH_RESULTS=var/bench-results.jsonl python bench/run_all.py [--quick] [--only checkout,pos_sync]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from harness import print_results_file  # noqa: E402

# script -> (moderate arguments, quick arguments)
BENCHMARKS: dict[str, tuple[list[str], list[str]]] = {
    "healthz": (["--duration", "10"], ["--duration", "2", "--warmup", "0"]),
    "catalog": (["--products", "100000", "--duration", "10"],
                ["--products", "2000", "--duration", "2", "--warmup", "0", "--probe", "5"]),
    "checkout": (["--duration", "15"], ["--duration", "3", "--variants", "100"]),
    "pos_sync": (["--batches", "5"], ["--batches", "1", "--batch-size", "500"]),
    "wholesale": (["--rounds", "3"], ["--rounds", "1"]),
    "community": (["--duration", "15"], ["--duration", "3"]),
    "export": (["--orders", "200000", "--small", "50000"], ["--orders", "5000", "--small", "1000"]),
    "catalog_import": ([], ["--db", "sqlite"]),
    "web_pages": (["--duration", "10"], ["--duration", "2", "--warmup", "0", "--products", "50"]),
    # The sale-day soak is 5 minutes by itself (`bench/soak.py`); here it runs 60 s to keep `make bench` short.
    "soak": (["--duration", "60"], ["--duration", "5", "--products", "20"]),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shortest runs, to check the scripts work")
    parser.add_argument("--only", default="", help="comma-separated benchmark names (default: all)")
    args = parser.parse_args(argv)
    results = os.environ.setdefault("BENCH_RESULTS", str(HERE.parent / "var" / "bench-results.jsonl"))
    Path(results).parent.mkdir(parents=True, exist_ok=True)
    Path(results).write_text("", encoding="utf-8")  # this run's rows only
    names = [n for n in args.only.split(",") if n] or list(BENCHMARKS)
    failed: list[str] = []
    for name in names:
        moderate, quick = BENCHMARKS[name]
        cmd = [sys.executable, str(HERE / f"{name}.py"), *(quick if args.quick else moderate)]
        print(f"\n>>> {' '.join(cmd[1:])}", flush=True)
        started = time.monotonic()
        rc = subprocess.call(cmd, cwd=HERE.parent)
        print(f"<<< {name}: exit {rc} in {time.monotonic() - started:.0f} s", flush=True)
        if rc != 0:
            failed.append(name)
    if Path(results).stat().st_size:
        print_results_file(results, title="Liutong benchmarks (make bench)")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
