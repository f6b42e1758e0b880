"""Benchmark: catalogue search and listing over a large seeded catalogue.

Fresh PostgreSQL database -> ``shop migrate`` -> set-based seed of N products (default 100,000) built
from the demo catalogue (``app.demo.data``) with varied suffixes and numbers -> ``VACUUM (ANALYZE)`` ->
``shop serve --workers 2`` -> a sanity check of ``?q=羽绒`` -> a short sequential probe per query ->
wrk on ``/v1/products?q=...`` (mixed queries) and on three listing URLs -> one table.

    .venv/bin/python bench/catalog.py                      # 100k products, 15 s per wrk run
    .venv/bin/python bench/catalog.py --products 20000 --duration 5

Exit status is 1 if any request failed (non-2xx or socket error) or the sanity check found a wrong
result, else 0. Missed targets do not change the exit status.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import secrets
import shlex
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from harness import (
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

from app.catalog.models import CATEGORIES
from app.catalog.search import text as search_text
from app.core.ids import new_id
from app.demo import data

DEFAULTS: dict[str, int] = {
    "products": 100_000,
    "duration": 15,
    "connections": 32,
    "threads": 2,
    "workers": 2,
    "warmup": 2,
    "probe": 10,
    "seed": 20261127,
}
BATCH = 5_000
DRAFT_SHARE = 0.05
SEARCH_TARGET = "≤ 50 ms"
LISTING_TARGET = "≥ 1,500 req/s"

# Realistic shopper queries: Chinese substrings, English words, a mixed one and a few that match nothing.
SEARCH_QUERIES: tuple[str, ...] = (
    "羽绒",
    "羽绒服",
    "男士",
    "大米",
    "有机",
    "保暖",
    "连衣裙",
    "jacket",
    "down",
    "rice",
    "organic",
    "羽绒 jacket",
    "火星土豆",
    "quantum flux",
    "zzqx",
)
LISTING_PATHS: tuple[tuple[str, str], ...] = (
    ("listing /v1/products (limit 50)", "/v1/products"),
    ("listing /v1/products?limit=20", "/v1/products?limit=20"),
    ("listing /v1/products?category=apparel", "/v1/products?category=apparel"),
)
SANITY_TERM = "羽绒"

# Neutral suffixes and sentences: none contains a benchmark query term, so match counts stay those of the
# demo texts (e.g. no "price", which would match "rice", and no "down"-containing word).
_TITLE_SUFFIXES: tuple[str, ...] = (
    "{year}新款",
    "{year}春夏款",
    "{year}秋冬款",
    "款号{code}",
    "第{n}批",
    "No.{n}",
    "Ref {code}",
    "工厂店{n}号",
    "限时特惠{n}",
    "Batch {n}",
)
_DESC_EXTRAS: tuple[str, ...] = (
    "现货速发，48小时内发货。",
    "Ships within 48 hours.",
    "支持开具电子发票。",
    "官方正品，假一赔十。",
    "Genuine goods, item {code}.",
    "仓库编号{n}，库存充足。",
    "新老包装随机发货。",
    "Bulk orders welcome.",
)


@dataclass(frozen=True)
class SeedStats:
    merchants: int
    products: int
    active: int
    variants: int
    tiers: int
    sanity_expected: int  # active products whose normalised text contains SANITY_TERM
    seconds: float


@dataclass(frozen=True)
class ProbeResult:
    query: str
    median_ms: float
    max_ms: float
    items: int


# --------------------------------------------------------------------------------------------------
# seeding
# --------------------------------------------------------------------------------------------------

PRODUCT_COLUMNS = (
    "id",
    "merchant_id",
    "title",
    "description",
    "category",
    "status",
    "created_at",
    "updated_at",
)
VARIANT_COLUMNS = (
    "id",
    "product_id",
    "merchant_id",
    "sku",
    "price",
    "currency",
    "attributes",
    "wholesale",
    "moq",
    "pack_size",
    "created_at",
)
TIER_COLUMNS = ("id", "variant_id", "min_qty", "unit_price")
SEARCH_COLUMNS = ("product_id", "merchant_id", "title", "extra", "pinyin", "body", "grams", "min_price", "in_stock",
                  "sales_30d")
_CATEGORY_NAMES = {slug: (zh, en) for slug, zh, en, _ in CATEGORIES}
IN_STOCK_SHARE = 0.8  # ranking signals as the search_signals job would leave them
VOCABULARY: dict[str, int] = {}  # title word -> products it came from
MERCHANT_COLUMNS = (
    "id",
    "name",
    "kind",
    "licence_no",
    "icp_no",
    "contact_email",
    "status",
    "status_reason",
    "verified_at",
    "created_at",
    "updated_at",
)


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        year=rng.choice((2024, 2025, 2026)),
        code=f"{rng.choice('ABCDEFGHKMNPRSTUVWXY')}{rng.randrange(1000, 99999)}",
        n=rng.randrange(1, 100_000),
    )


def _merchant_rows(specs: Sequence[data.MerchantSpec], now: datetime) -> list[tuple[Any, ...]]:
    return [
        (
            new_id("mer"),
            s.name,
            s.kind,
            s.licence_no,
            s.icp_no,
            s.contact_email,
            "active",
            "bench seed",
            now,
            now,
            now,
        )
        for s in specs
    ]


Rows = list[tuple[Any, ...]]
Batch = tuple[Rows, Rows, Rows, Rows, int, int]


def _product_batch(
    start: int,
    stop: int,
    pool: Sequence[tuple[str, data.ProductSpec]],
    rng: random.Random,
    now: datetime,
) -> Batch:
    """Rows for products ``start..stop-1``: (products, variants, tiers, search rows, active count, sanity matches)."""
    products: Rows = []
    variants: Rows = []
    tiers: Rows = []
    search: Rows = []
    active = matches = 0
    for i in range(start, stop):
        merchant_id, spec = pool[rng.randrange(len(pool))]
        title = f"{spec.title} {_fill(rng.choice(_TITLE_SUFFIXES), rng)}"
        description = f"{spec.description}{_fill(rng.choice(_DESC_EXTRAS), rng)}批次{rng.randrange(10**5):05d}。"
        status = "draft" if rng.random() < DRAFT_SHARE else "active"
        product_id = new_id("prd")
        products.append(
            (
                product_id,
                merchant_id,
                title,
                description,
                spec.category,
                status,
                now,
                now,
            )
        )
        if status == "active":
            active += 1
            matches += SANITY_TERM in search_text.normalise(f"{title}\n{description}")
        count = rng.randint(1, min(3, len(spec.variants)))
        first = rng.randrange(len(spec.variants) - count + 1)
        chosen = spec.variants[first : first + count]
        # exactly what app.catalog.search.service.reindex stores (category names and option values as `extra`)
        extra = [*_CATEGORY_NAMES.get(spec.category, ()), *(str(x) for v in chosen for x in v.attributes.values())]
        doc = search_text.document(title=title, description=description, extra=dict.fromkeys(extra))
        for word in search_text.words(title):  # the suggestion vocabulary, as reindex(new=True) counts it
            if 2 <= len(word) <= 40 and (search_text.is_cjk(word) or (word.isalpha() and len(word) >= 3)):
                VOCABULARY[word] = VOCABULARY.get(word, 0) + 1
        search.append((product_id, merchant_id, doc.title, doc.extra, doc.pinyin, doc.body, doc.grams,
                       min(v.price for v in chosen), rng.random() < IN_STOCK_SHARE, rng.choice((0, 0, 0, 1, 3, 20))))
        for v in chosen:
            variant_id = new_id("var")
            w = v.wholesale
            variants.append(
                (
                    variant_id,
                    product_id,
                    merchant_id,
                    f"{v.sku}-{i:07d}",
                    v.price,
                    "CNY",
                    json.dumps(v.attributes, ensure_ascii=False),
                    w is not None,
                    w.moq if w else 1,
                    w.pack_size if w else 1,
                    now,
                )
            )
            if w is not None:
                tiers.extend((new_id("tier"), variant_id, t.min_qty, t.unit_price) for t in w.tiers)
    return products, variants, tiers, search, active, matches


async def seed(dsn: str, n_products: int, rng_seed: int) -> SeedStats:
    """Insert merchants, products, variants and price tiers with COPY, then VACUUM (ANALYZE).

    The migration's indexes (the GIN index on ``product_search.document`` included) stay in place during the
    load, so they are built the way production builds them, row by row.
    """
    started = time.monotonic()
    rng = random.Random(rng_seed)
    specs = data.merchants()
    now = datetime.now(UTC)
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        merchant_rows = _merchant_rows(specs, now)
        await conn.copy_records_to_table("merchant", records=merchant_rows, columns=MERCHANT_COLUMNS)
        pool = [(row[0], p) for row, s in zip(merchant_rows, specs, strict=True) for p in s.products]
        totals = {"active": 0, "variants": 0, "tiers": 0, "matches": 0}
        for start in range(0, n_products, BATCH):
            stop = min(n_products, start + BATCH)
            products, variants, tiers, search, active, matches = _product_batch(start, stop, pool, rng, now)
            async with conn.transaction():
                await conn.copy_records_to_table("product", records=products, columns=PRODUCT_COLUMNS)
                await conn.copy_records_to_table("variant", records=variants, columns=VARIANT_COLUMNS)
                if tiers:
                    await conn.copy_records_to_table("price_tier", records=tiers, columns=TIER_COLUMNS)
                await conn.copy_records_to_table("product_search", records=search, columns=SEARCH_COLUMNS)
            totals["active"] += active
            totals["variants"] += len(variants)
            totals["tiers"] += len(tiers)
            totals["matches"] += matches
            log(
                "seed.progress",
                products=stop,
                of=n_products,
                variants=totals["variants"],
                seconds=round(time.monotonic() - started, 1),
            )
        await conn.copy_records_to_table(
            "search_term", columns=("term", "pinyin", "initials", "products"),
            records=[(w, *search_text.pinyin(w), n) for w, n in sorted(VOCABULARY.items())])
        log("seed.vacuum_analyze", seconds=round(time.monotonic() - started, 1))
        # VACUUM flushes the GIN pending list and sets the visibility map, as autovacuum would in production.
        await conn.execute("VACUUM (ANALYZE) merchant, product, variant, price_tier, product_search, search_term")
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    stats = SeedStats(
        merchants=len(specs),
        products=n_products,
        active=totals["active"],
        variants=totals["variants"],
        tiers=totals["tiers"],
        sanity_expected=totals["matches"],
        seconds=time.monotonic() - started,
    )
    log(
        "seed.done",
        products=stats.products,
        active=stats.active,
        variants=stats.variants,
        tiers=stats.tiers,
        seconds=round(stats.seconds, 1),
    )
    return stats


# --------------------------------------------------------------------------------------------------
# checks against the running server
# --------------------------------------------------------------------------------------------------


def search_path(query: str, limit: int | None = None) -> str:
    suffix = f"&limit={limit}" if limit is not None else ""
    return encode_path(f"/v1/products?q={query}{suffix}")


def sanity_check(client: httpx.Client, expected: int) -> tuple[str, bool]:
    """``?q=羽绒``: every item of the first pages contains the term, and the facet counts (over every match)
    add up to the seeded active products that contain it; return (summary, ok)."""
    first = client.get(search_path(SANITY_TERM) + "&facets=category")
    first.raise_for_status()
    body = first.json()
    first_page = len(body["items"])
    total = sum(v["count"] for v in body["facets"]["category"])
    bad: list[str] = []
    ids: set[str] = set()
    cursor: str | None = None
    for _ in range(4):  # the first 2,000 results, page by page
        path = search_path(SANITY_TERM, limit=500) + (f"&cursor={cursor}" if cursor else "")
        response = client.get(path)
        response.raise_for_status()
        page = response.json()
        for item in page["items"]:
            ids.add(item["id"])
            if SANITY_TERM not in item["title"] and SANITY_TERM not in item["description"]:
                bad.append(item["id"])
        cursor = page["next_cursor"]
        if not cursor:
            break
    ok = not bad and total == expected and first_page == min(50, expected)
    summary = f"{total:,} matches (expected {expected:,}); {len(ids):,} read, {len(bad)} without {SANITY_TERM}"
    print(f"sanity: GET /v1/products?q={SANITY_TERM}: {summary} -> {'OK' if ok else 'FAILED'}", flush=True)
    log("sanity", ok=ok, first_page=first_page, total=total, expected=expected, without_term=len(bad))
    return summary, ok


def probe_queries(client: httpx.Client, queries: Sequence[str], repeat: int) -> list[ProbeResult]:
    """Sequential (unloaded) latency of each query: one warm-up request, then ``repeat`` timed ones."""
    results: list[ProbeResult] = []
    for query in queries:
        path = search_path(query)
        items = len(client.get(path).raise_for_status().json()["items"])
        timings: list[float] = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            client.get(path).raise_for_status()
            timings.append((time.perf_counter() - t0) * 1000.0)
        result = ProbeResult(query, statistics.median(timings), max(timings), items)
        log(
            "probe",
            q=query,
            median_ms=round(result.median_ms, 2),
            max_ms=round(result.max_ms, 2),
            items=items,
        )
        results.append(result)
    return results


# --------------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------------


def reproduce_command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "bench/catalog.py"]
    for name, default in DEFAULTS.items():
        value = getattr(args, name)
        if value != default:
            parts += [f"--{name}", str(value)]
    return shlex.join(parts)


def load(server: Server, paths: Sequence[str], args: argparse.Namespace) -> WrkResult:
    script = lua_paths_script(paths)
    if args.warmup > 0:
        run_wrk(
            server.base_url,
            lua_script=script,
            connections=args.connections,
            threads=args.threads,
            duration_s=args.warmup,
        )
    return run_wrk(
        server.base_url,
        lua_script=script,
        connections=args.connections,
        threads=args.threads,
        duration_s=args.duration,
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="wrk benchmark of catalogue search and listing")
    add = parser.add_argument
    add("--products", type=int, default=DEFAULTS["products"], help="products to seed (default 100000)")
    add("--duration", type=int, default=DEFAULTS["duration"], help="seconds of load per wrk run (default 15)")
    add("--connections", type=int, default=DEFAULTS["connections"], help="wrk connections (default 32)")
    add("--threads", type=int, default=DEFAULTS["threads"], help="wrk threads (default 2)")
    add("--workers", type=int, default=DEFAULTS["workers"], help="uvicorn workers (default 2)")
    add("--warmup", type=int, default=DEFAULTS["warmup"], help="warm-up seconds per run (0 = none)")
    add("--probe", type=int, default=DEFAULTS["probe"], help="sequential requests per query (0 = skip)")
    add("--seed", type=int, default=DEFAULTS["seed"], help="random seed of the generated catalogue")
    args = parser.parse_args(argv)
    if args.products < 1:
        parser.error("--products must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    install_sigterm_handler()
    command = reproduce_command(args)
    ensure_wrk()
    rows: list[tuple[str, str, str, str]] = []
    ok = True
    failed = 0

    with PgDatabase() as db:
        migrate(db.url)
        stats = asyncio.run(seed(db.dsn, args.products, args.seed))
        seeded = f"{stats.products:,} ({stats.active:,}) / {stats.variants:,} / {stats.tiers:,}"
        rows.append(("seeded products (active) / variants / tiers", seeded, "-", command))
        rows.append(("seed time (COPY + VACUUM ANALYZE)", f"{stats.seconds:.1f} s", "< 60 s", command))
        env = {
            "DATABASE_URL": db.url,
            "SHOP_ADMIN_TOKEN": secrets.token_urlsafe(24),
            "SHOP_LOG_LEVEL": "warning",
        }
        with Server(env, workers=args.workers) as server:
            with httpx.Client(base_url=server.base_url, timeout=30.0, trust_env=False) as client:
                summary, sane = sanity_check(client, stats.sanity_expected)
                ok = ok and sane
                rows.append((f"sanity: ?q={SANITY_TERM}", summary, "all match, none missing", command))
                probes = probe_queries(client, SEARCH_QUERIES, args.probe) if args.probe > 0 else []
            for p in probes:
                rows.append(
                    (
                        f"search q={p.query!r} unloaded median / max",
                        f"{p.median_ms:.1f} / {p.max_ms:.1f} ms ({p.items} items)",
                        "-",
                        command,
                    )
                )

            search = load(server, [f"/v1/products?q={q}" for q in SEARCH_QUERIES], args)
            label = f"search ({len(SEARCH_QUERIES)} queries mixed)"
            rows += result_rows(label, search, command=command, targets={"p95": SEARCH_TARGET})
            failed += search.non_2xx + search.socket_errors
            for label, path in LISTING_PATHS:
                listing = load(server, [path], args)
                rows += result_rows(label, listing, command=command, targets={"rps": LISTING_TARGET})
                failed += listing.non_2xx + listing.socket_errors
            rss = server.rss_mb()
            pss = server.rss_mb(proportional=True)
        memory = f"{rss:.0f} MiB / {pss:.0f} MiB"
        rows.append(("server memory after run (RSS sum / PSS)", memory, "-", command))

    ok = ok and failed == 0
    print_table(
        f"Catalogue search and listing: {args.products:,} products, {args.workers} workers, "
        f"{args.connections} connections, {args.threads} wrk threads, {args.duration}s per run",
        rows,
    )
    print(f"reproduce: {command}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
