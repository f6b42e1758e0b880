"""Benchmark: search by words, pinyin and initials over a large catalogue, with the page cache off.

Fresh PostgreSQL database -> ``shop migrate`` -> the catalogue seed of bench/catalog.py (N products, default
100,000, each with its search row as the service writes it) -> 1,000 distinct queries drawn from the indexed
vocabulary (Chinese words, two-word queries, full pinyin, initials, Latin words), so no two requests in a row
are the same and a page cache could not help even if it were on -> ``shop serve`` with
``SHOP_CATALOG_CACHE_SECONDS=0`` -> wait until each worker has loaded its copy of the search index (/readyz
``search_copy``) -> wrk (32 connections) on the queries at once (the first run: the products' JSON is not in
memory yet), then on ``/healthz``, on the queries, on the queries with ``facets=category,price,merchant`` and on
``/v1/search/suggest`` with prefixes of them -> one table.

    .venv/bin/python bench/search.py                        # 100k products, 15 s per wrk run
    .venv/bin/python bench/search.py --products 5000 --duration 5
    .venv/bin/python bench/search.py --database liutong_bench_search   # seed once, keep, reuse on later runs

Targets (issue 24): search p95 ≤ 20 ms, p99 ≤ 50 ms, searches/s ≥ 15 % of the same run's /healthz rate;
facets add ≤ 10 ms to p95; suggestions p95 ≤ 10 ms. Exit status 1 if any request failed (non-2xx or socket
error) or a sanity check failed; missed targets do not change it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import secrets
import shlex
import sys
import time
from collections.abc import Sequence

import asyncpg  # type: ignore[import-untyped]
import httpx
from catalog import seed
from harness import (
    CpuMeter,
    PgDatabase,
    Server,
    WrkResult,
    encode_path,
    ensure_wrk,
    install_sigterm_handler,
    log,
    lua_paths_script,
    migrate,
    print_table,
    result_rows,
    run_wrk,
)

DEFAULTS: dict[str, int] = {
    "products": 100_000,
    "queries": 1_000,
    "duration": 15,
    "connections": 32,
    "threads": 2,
    "workers": 2,
    "warmup": 2,
    "seed": 20261203,
}
P95_TARGET = "≤ 20 ms"
P99_TARGET = "≤ 50 ms"
RATE_SHARE = 0.15
FACETS_TARGET = "≤ +10 ms"
SUGGEST_TARGET = "≤ 10 ms"
FACETS = "category,price,merchant"


async def vocabulary_queries(dsn: str, n: int, rng_seed: int) -> tuple[list[str], list[str]]:
    """`n` distinct search queries and as many suggestion prefixes, from the tokens the index holds."""
    rng = random.Random(rng_seed)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        rows = await conn.fetch("SELECT title, pinyin FROM product_search ORDER BY id LIMIT 20000")
    finally:
        await conn.close()
    words: set[str] = set()
    latin: set[str] = set()
    full: set[str] = set()
    initials: set[str] = set()
    pairs: set[str] = set()  # two words of one title, so that the pair finds that product at least
    for r in rows:
        title_words = []
        for token in r["title"].split():
            if len(token) >= 2 and not token.isascii():
                words.add(token)
                title_words.append(token)
            elif token.isascii() and token.isalpha() and len(token) >= 3:
                latin.add(token)
        if len(title_words) >= 2:
            pairs.add(" ".join(rng.sample(title_words, 2)))
        for token in r["pinyin"].split():
            (full if len(token) > 4 else initials).add(token)
    pools = {"word": sorted(words), "latin": sorted(latin), "pinyin": sorted(full), "initials": sorted(initials),
             "pair": sorted(pairs)}
    shares = (("word", 0.45), ("pair", 0.15), ("pinyin", 0.15), ("initials", 0.1), ("latin", 0.15))
    queries: set[str] = set()
    attempts = 0
    while len(queries) < n and attempts < n * 50:
        attempts += 1
        kind = rng.choices([k for k, _ in shares], weights=[w for _, w in shares])[0]
        if pools[kind]:
            queries.add(rng.choice(pools[kind]))
    ordered = sorted(queries)
    rng.shuffle(ordered)
    prefixes = sorted({q.split()[0][: max(1, min(len(q.split()[0]) - 1, rng.randint(1, 4)))] for q in ordered})
    rng.shuffle(prefixes)
    log("queries", distinct=len(ordered), prefixes=len(prefixes), words=len(words), latin=len(latin),
        pinyin=len(full), initials=len(initials))
    return ordered, prefixes


def search_paths(queries: Sequence[str], extra: str = "") -> list[str]:
    return [encode_path(f"/v1/products?q={q}{extra}") for q in queries]


def sanity(client: httpx.Client, queries: Sequence[str], prefixes: Sequence[str]) -> tuple[str, bool]:
    """Every query answers 200; most find something (they come from the index); facets and suggestions answer."""
    found = 0
    for q in queries[:50]:
        r = client.get(encode_path(f"/v1/products?q={q}&limit=5"))
        r.raise_for_status()
        found += bool(r.json()["items"])
    facets = client.get(encode_path(f"/v1/products?q={queries[0]}&facets={FACETS}")).raise_for_status().json()
    suggested = sum(bool(client.get(encode_path(f"/v1/search/suggest?q={p}")).raise_for_status()
                         .json()["suggestions"]) for p in prefixes[:50])
    ok = found >= 45 and "facets" in facets and suggested >= 30
    summary = f"{found}/50 queries found products, {suggested}/50 prefixes had suggestions"
    print(f"sanity: {summary} -> {'OK' if ok else 'FAILED'}", flush=True)
    return summary, ok


def copy_loaded(base_url: str, workers: int, timeout_s: float = 600.0) -> float:
    """Waits until every worker's copy of the search index is loaded (`search_copy` in /readyz answered `ready` on
    that many fresh connections in a row); the seconds it took. Until then the database answers searches."""
    started = time.monotonic()
    streak = 0
    while streak < 4 * workers:
        if time.monotonic() - started > timeout_s:
            raise RuntimeError(f"the search copies were not loaded within {timeout_s:.0f} s")
        with httpx.Client(base_url=base_url, timeout=30.0, trust_env=False) as fresh:
            state = fresh.get("/readyz").raise_for_status().json().get("search_copy")
        streak = streak + 1 if state == "ready" else 0
        if state != "ready":
            time.sleep(0.2)
    return time.monotonic() - started


def load(server: Server, paths: Sequence[str], args: argparse.Namespace, dsn: str) -> tuple[WrkResult, CpuMeter]:
    """wrk on `paths` and the CPU the server and the database's PostgreSQL backends spent meanwhile."""
    script = lua_paths_script(paths)
    if args.warmup > 0:
        run_wrk(server.base_url, lua_script=script, connections=args.connections, threads=args.threads,
                duration_s=args.warmup)
    with CpuMeter(server.pid, dsn=dsn) as cpu:
        result = run_wrk(server.base_url, lua_script=script, connections=args.connections, threads=args.threads,
                         duration_s=args.duration)
    return result, cpu


def cpu_row(label: str, result: WrkResult, cpu: CpuMeter, healthz: tuple[WrkResult, CpuMeter] | None,
            command: str) -> tuple[str, str, str, str]:
    """CPU per request of the server and of PostgreSQL, and (beside /healthz's) the total as a multiple of
    /healthz's: steadier than requests per second on a machine that others share."""
    n = max(result.requests, 1)
    server_ms, pg_ms = cpu.server_s * 1e3 / n, cpu.postgres_s * 1e3 / n
    measured = f"{server_ms:.2f} / {pg_ms:.2f} ms"
    if healthz is not None:
        h_result, h_cpu = healthz
        per_healthz = (h_cpu.server_s + h_cpu.postgres_s) * 1e3 / max(h_result.requests, 1)
        if per_healthz > 0:
            measured += f" ({(server_ms + pg_ms) / per_healthz:.1f}× /healthz's)"
    return (f"{label} CPU per request: server / PostgreSQL", measured, "-", command)


def reproduce_command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "bench/search.py"]
    for name, default in DEFAULTS.items():
        value = getattr(args, name)
        if value != default:
            parts += [f"--{name}", str(value)]
    if args.database:
        parts += ["--database", args.database]
    return shlex.join(parts)


async def seeded_products(dsn: str) -> tuple[int, int]:
    """(products, active products) of a database seeded by an earlier run."""
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        row = await conn.fetchrow("SELECT count(*) AS n, count(*) FILTER (WHERE status = 'active') AS active "
                                  "FROM product")
    finally:
        await conn.close()
    return int(row["n"]), int(row["active"])


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="wrk benchmark of search (cache off)")
    add = parser.add_argument
    add("--products", type=int, default=DEFAULTS["products"], help="products to seed (default 100000)")
    add("--queries", type=int, default=DEFAULTS["queries"], help="distinct queries (default 1000)")
    add("--duration", type=int, default=DEFAULTS["duration"], help="seconds of load per wrk run (default 15)")
    add("--connections", type=int, default=DEFAULTS["connections"], help="wrk connections (default 32)")
    add("--threads", type=int, default=DEFAULTS["threads"], help="wrk threads (default 2)")
    add("--workers", type=int, default=DEFAULTS["workers"], help="uvicorn workers (default 2)")
    add("--warmup", type=int, default=DEFAULTS["warmup"], help="warm-up seconds per run (0 = none)")
    add("--seed", type=int, default=DEFAULTS["seed"], help="random seed of the catalogue and the queries")
    add("--database", default=None,
        help="keep the seeded database under this name and, when it exists already, reuse it instead of seeding "
             "again (seeding 100,000 products takes minutes); --products and --seed must match its first run")
    args = parser.parse_args(argv)
    if args.products < 100 or args.queries < 10:
        parser.error("--products must be at least 100 and --queries at least 10")
    return args


def _ms(value: float | None) -> float:
    return value if value is not None else float("nan")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_sigterm_handler()
    command = reproduce_command(args)
    ensure_wrk()
    rows: list[tuple[str, str, str, str]] = []
    failed = 0
    db = PgDatabase(name=args.database, keep=True if args.database else None)
    reuse = bool(args.database) and db.exists()
    with contextlib.nullcontext(db) if reuse else db:
        migrate(db.url)  # on a kept database: applies any migration added since it was seeded
        if reuse:
            products, active = asyncio.run(seeded_products(db.dsn))
            rows.append(("seeded products (active), reused", f"{products:,} ({active:,})", "-", command))
        else:
            stats = asyncio.run(seed(db.dsn, args.products, args.seed))
            rows.append(("seeded products (active)", f"{stats.products:,} ({stats.active:,})", "-", command))
            rows.append(("seed time (analysis + COPY + VACUUM ANALYZE)", f"{stats.seconds:.1f} s", "-", command))
        queries, prefixes = asyncio.run(vocabulary_queries(db.dsn, args.queries, args.seed))
        rows.append(("distinct queries / suggestion prefixes", f"{len(queries):,} / {len(prefixes):,}", "-",
                     command))
        # Jobs off: the seeded ranking signals stand for a shop with stock and sales, which the signals job would
        # recompute from this catalogue's empty stock and order tables, rewriting every row during the runs.
        env = {"DATABASE_URL": db.url, "SHOP_ADMIN_TOKEN": secrets.token_urlsafe(24), "SHOP_LOG_LEVEL": "warning",
               "SHOP_CATALOG_CACHE_SECONDS": "0", "SHOP_BACKGROUND_JOBS": "false"}
        with Server(env, workers=args.workers) as server:
            loaded = copy_loaded(server.base_url, args.workers)
            log("search_copy.loaded", seconds=round(loaded, 1))
            rows.append(("search index copies loaded (each worker, at start)", f"{loaded:.1f} s", "-", command))
            with httpx.Client(base_url=server.base_url, timeout=30.0, trust_env=False) as client:
                summary, ok = sanity(client, queries, prefixes)
            rows.append(("sanity", summary, "OK", command))
            # The first seconds after a start: each worker's copy of the index is loaded, its products' JSON not
            # yet (a page's products missing from memory are read from the database, then kept).
            cold, cold_cpu = load(server, search_paths(queries), argparse.Namespace(**{**vars(args), "warmup": 0}),
                                  db.dsn)
            rows += result_rows("search, first run after start", cold, command=command)
            healthz, healthz_cpu = load(server, ["/healthz"], args, db.dsn)
            rows += result_rows("GET /healthz", healthz, command=command)
            rows.append(cpu_row("GET /healthz", healthz, healthz_cpu, None, command))
            plain, plain_cpu = load(server, search_paths(queries), args, db.dsn)
            rows += result_rows("search (cache off)", plain, command=command,
                                targets={"p95": P95_TARGET, "p99": P99_TARGET})
            rows.append(cpu_row("search", plain, plain_cpu, (healthz, healthz_cpu), command))
            share = plain.rps / healthz.rps if healthz.rps else 0.0
            rows.append(("searches/s as a share of /healthz's", f"{share:.1%}", f"≥ {RATE_SHARE:.0%}", command))
            faceted, faceted_cpu = load(server, search_paths(queries, f"&facets={FACETS}"), args, db.dsn)
            rows += result_rows(f"search + facets={FACETS}", faceted, command=command)
            rows.append(cpu_row("search + facets", faceted, faceted_cpu, (healthz, healthz_cpu), command))
            rows.append(("facets' cost at p95", f"{_ms(faceted.p95_ms) - _ms(plain.p95_ms):+.2f} ms", FACETS_TARGET,
                         command))
            suggest, suggest_cpu = load(server, [encode_path(f"/v1/search/suggest?q={p}") for p in prefixes], args,
                                        db.dsn)
            rows += result_rows("GET /v1/search/suggest", suggest, command=command, targets={"p95": SUGGEST_TARGET})
            rows.append(cpu_row("suggest", suggest, suggest_cpu, (healthz, healthz_cpu), command))
            rows.append(cpu_row("search, first run", cold, cold_cpu, (healthz, healthz_cpu), command))
            for run in (cold, healthz, plain, faceted, suggest):
                failed += run.non_2xx + run.socket_errors
            rows.append(("server memory after run (RSS sum)", f"{server.rss_mb():.0f} MiB", "-", command))
    print_table(f"Search: {args.products:,} products, {len(queries):,} distinct queries, cache off, "
                f"{args.workers} workers, {args.connections} connections, {args.duration}s per run", rows)
    print(f"reproduce: {command}")
    return 0 if ok and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
