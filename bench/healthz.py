"""Benchmark: GET /healthz on a freshly migrated database.

Fresh PostgreSQL database -> ``shop migrate`` -> ``shop serve --workers 2`` -> wrk on ``/healthz``
(32 connections, 2 threads) -> table of throughput, latency percentiles, errors and server RSS.

    .venv/bin/python bench/healthz.py --duration 10

Exit status is 1 if any request failed (non-2xx/3xx or socket error), else 0.
"""

from __future__ import annotations

import argparse
import secrets
import shlex
import sys

from harness import (
    PgDatabase,
    Server,
    ensure_wrk,
    install_sigterm_handler,
    log,
    migrate,
    print_table,
    result_rows,
    run_wrk,
)

DEFAULTS = {"duration": 10, "connections": 32, "threads": 2, "workers": 2, "warmup": 2}


def reproduce_command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "bench/healthz.py", "--duration", str(args.duration)]
    for name in ("connections", "threads", "workers", "warmup"):
        value = getattr(args, name)
        if value != DEFAULTS[name]:
            parts += [f"--{name}", str(value)]
    return shlex.join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wrk benchmark of GET /healthz")
    parser.add_argument(
        "--duration", type=int, default=DEFAULTS["duration"], help="seconds of load (default 10)"
    )
    parser.add_argument("--connections", type=int, default=DEFAULTS["connections"], help="wrk connections")
    parser.add_argument("--threads", type=int, default=DEFAULTS["threads"], help="wrk threads")
    parser.add_argument("--workers", type=int, default=DEFAULTS["workers"], help="uvicorn workers")
    parser.add_argument(
        "--warmup", type=int, default=DEFAULTS["warmup"], help="seconds of unmeasured warm-up (0 = none)"
    )
    args = parser.parse_args(argv)
    install_sigterm_handler()
    command = reproduce_command(args)
    ensure_wrk()

    with PgDatabase() as db:
        migrate(db.url)
        env = {"DATABASE_URL": db.url, "SHOP_ADMIN_TOKEN": secrets.token_urlsafe(24)}
        with Server(env, workers=args.workers) as server:
            url = server.base_url + "/healthz"
            if args.warmup > 0:
                log("warmup", seconds=args.warmup)
                run_wrk(
                    url,
                    lua_script="",
                    connections=args.connections,
                    threads=args.threads,
                    duration_s=args.warmup,
                )
            result = run_wrk(
                url,
                lua_script="",
                connections=args.connections,
                threads=args.threads,
                duration_s=args.duration,
            )
            rss = server.rss_mb()
            pss = server.rss_mb(proportional=True)

    rows = result_rows("GET /healthz", result, command=command)
    rows.append(("server memory after run (RSS sum / PSS)", f"{rss:.0f} MiB / {pss:.0f} MiB", "-", command))
    print_table(
        f"GET /healthz: {args.workers} workers, {args.connections} connections, {args.threads} wrk threads, "
        f"{args.duration}s",
        rows,
    )
    print(f"reproduce: {command}")
    return 0 if result.non_2xx == 0 and result.socket_errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
