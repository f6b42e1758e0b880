"""Benchmark: wholesale batch orders of 1,000 and 10,000 lines on PostgreSQL, timed from the client.

Fresh PostgreSQL database -> ``shop migrate`` -> ``shop serve --workers 2`` -> a merchant, a warehouse and a buyer
through the API -> a set-based seed of 20,000 wholesale variants (moq 10, pack 5, three volume tiers) with stock ->
``POST /v1/wholesale/orders`` with 1,000 and 10,000 lines, ``all_or_nothing`` (all good) and ``partial`` (37 bad
lines scattered through the 10,000, like the acceptance test), each timed from an HTTP client on this machine: the
whole request (send, parse, price, validate, reserve, insert, commit, serialise, receive). A first round per size
warms up and is not counted. Beside it, the same server's ``/healthz`` rate and the server's CPU per order.

    .venv/bin/python bench/wholesale.py                  # 3 rounds per size and mode
    .venv/bin/python bench/wholesale.py --rounds 5

Exit status 1 if any order failed or the stock does not add up afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import time
from typing import Any

import asyncpg
import httpx
from harness import (
    CpuMeter,
    PgDatabase,
    Server,
    ensure_wrk,
    install_sigterm_handler,
    log,
    migrate,
    print_table,
    run_wrk,
    seed_merchant,
)

from app.core.clock import utcnow
from app.core.ids import new_id

TARGET = "≤ 1.0 s (10,000 lines)"
SIZES = (1_000, 10_000)
TIERS = ((1, 1_000), (50, 900), (100, 800))
BAD_EVERY = 270  # 37 bad lines in 10,000
VARIANTS = 20_000


async def _seed(dsn: str, merchant_id: str, location_id: str) -> list[str]:
    """The variants, their tiers and stock, written straight to the database (set-based): the API's one product at
    a time would take longer than the benchmark."""
    now = utcnow()
    skus = [f"B{i:06d}" for i in range(VARIANTS)]
    ids = [new_id("var") for _ in skus]
    product_id = new_id("prd")
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO product (id, merchant_id, title, description, category, status, "
                "created_at, updated_at) VALUES ($1, $2, '散装大米 Bulk rice', '', 'agri', 'active', "
                "$3, $3)", product_id, merchant_id, now)
            await conn.executemany(
                "INSERT INTO variant (id, product_id, merchant_id, sku, price, currency, attributes, wholesale, moq, "
                "pack_size, created_at) VALUES ($1, $2, $3, $4, 1200, 'CNY', '{}', true, 10, 5, $5)",
                [(i, product_id, merchant_id, s, now) for i, s in zip(ids, skus, strict=True)])
            await conn.executemany(
                "INSERT INTO price_tier (id, variant_id, min_qty, unit_price) VALUES ($1, $2, $3, $4)",
                [(new_id("tier"), i, q, p) for i in ids for q, p in TIERS])
            await conn.executemany(
                "INSERT INTO stock_level (id, merchant_id, location_id, variant_id, on_hand, reserved, safety_stock, "
                "updated_at) VALUES ($1, $2, $3, $4, 100000000, 0, 0, $5)",
                [(new_id("stk"), merchant_id, location_id, i, now) for i in ids])
            await conn.executemany(
                "INSERT INTO stock_movement (merchant_id, location_id, variant_id, kind, on_hand_delta, "
                "reserved_delta, source, idempotency_key, occurred_at, recorded_at) "
                "VALUES ($1, $2, $3, 'count', 100000000, 0, 'bench', $4, $5, $5)",
                [(merchant_id, location_id, i, f"bench:{i}", now) for i in ids])
    finally:
        await conn.close()
    return skus


async def _consistent(dsn: str) -> bool:
    """Levels equal what the ledger says, and units reserved equal units ordered."""
    conn = await asyncpg.connect(dsn)
    try:
        off = await conn.fetchval("""
            SELECT count(*) FROM stock_level l LEFT JOIN (
              SELECT location_id, variant_id, sum(on_hand_delta) oh, sum(reserved_delta) rs
              FROM stock_movement GROUP BY 1, 2) m USING (location_id, variant_id)
            WHERE l.on_hand <> coalesce(m.oh, 0) OR l.reserved <> coalesce(m.rs, 0)""")
        reserved = await conn.fetchval("SELECT coalesce(sum(reserved), 0) FROM stock_level")
        ordered = await conn.fetchval("SELECT coalesce(sum(quantity), 0) FROM order_line")
    finally:
        await conn.close()
    log("consistency", ledger_mismatches=off, reserved=reserved, ordered=ordered)
    return bool(off == 0 and reserved == ordered)


def _lines(skus: list[str], n: int, offset: int, bad: bool) -> list[dict[str, Any]]:
    lines = []
    for i in range(n):
        sku = skus[(offset + i) % len(skus)]
        qty = 10 + 5 * (i % 30)
        if bad and i % BAD_EVERY == 13:
            qty = 12  # not a pack multiple
        lines.append({"sku": sku, "quantity": qty})
    return lines


async def run(db: PgDatabase, base_url: str, admin: str, rounds: int, server: Server
              ) -> tuple[list[tuple[str, str, str, str]], bool]:
    ok = True
    rows: list[tuple[str, str, str, str]] = []
    cmd = f".venv/bin/python bench/wholesale.py --rounds {rounds}"
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as client:
        merchant_id, mh, warehouse_id = await seed_merchant(client, admin, name="批发商", email="bench@example.com")
        buyer = (await client.post("/v1/wholesale/buyers", headers=mh, json={
            "name": "采购公司", "credit_limit": 10**12, "payment_terms_days": 30})).json()
        bh = {"Authorization": f"Bearer {buyer['token']}"}
        started = time.perf_counter()
        skus = await _seed(db.dsn, merchant_id, warehouse_id)
        log("seeded", variants=len(skus), seconds=round(time.perf_counter() - started, 2))
        offset = 0
        for n in SIZES:
            for mode in ("all_or_nothing", "partial"):
                times: list[float] = []
                cpu_s: list[float] = []
                for _ in range(rounds + 1):  # the first round warms up caches and is not counted
                    body = {"merchant_id": merchant_id, "mode": mode, "payment": "terms",
                            "lines": _lines(skus, n, offset, bad=mode == "partial")}
                    offset += n
                    with CpuMeter(server.pid) as cpu:
                        t0 = time.perf_counter()
                        resp = await client.post("/v1/wholesale/orders", json=body,
                                                 headers={**bh, "Idempotency-Key": secrets.token_hex(8)})
                        elapsed = time.perf_counter() - t0
                    if resp.status_code != 201:
                        ok = False
                        log("order.failed", status=resp.status_code, body=resp.text[:300])
                        continue
                    out = resp.json()
                    times.append(elapsed)
                    cpu_s.append(cpu.server_s)
                    log("order", lines=n, mode=mode, accepted=out["accepted"], rejected=out["rejected"],
                        seconds=round(elapsed, 3), server_cpu_s=round(cpu.server_s, 3),
                        postgres_cpu_s=round(cpu.postgres_s, 3))
                measured, cpu_measured = times[1:] or times, cpu_s[1:] or cpu_s
                label = f"POST /v1/wholesale/orders {n:,} lines, {mode}"
                extra = ", 37 bad" if mode == "partial" and n == 10_000 else ""
                rows.append((f"{label}{extra}, client-measured (median of {len(measured)})",
                             f"{statistics.median(measured):.3f} s (min {min(measured):.3f})",
                             TARGET if n == 10_000 else "-", cmd))
                rows.append((f"  server CPU per order ({n:,} lines, {mode})",
                             f"{statistics.median(cpu_measured):.3f} s", "-", cmd))
    ok = ok and await _consistent(db.dsn)
    return rows, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    install_sigterm_handler()
    ensure_wrk()
    admin = secrets.token_urlsafe(24)
    with PgDatabase() as db:
        migrate(db.url)
        env = {"DATABASE_URL": db.url, "SHOP_ADMIN_TOKEN": admin, "SHOP_BACKGROUND_JOBS": "false",
               "SHOP_MAX_BODY_BYTES": str(20 * 1024 * 1024)}
        with Server(env, workers=args.workers) as server:
            rows, ok = asyncio.run(run(db, server.base_url, admin, args.rounds, server))
            health = run_wrk(server.base_url + "/healthz", lua_script="", connections=32, duration_s=5)
    rows.append(("same server GET /healthz", f"{health.rps:,.0f} req/s", "-",
                 f".venv/bin/python bench/wholesale.py --rounds {args.rounds}"))
    print_table(f"Wholesale batch orders: PostgreSQL, {args.workers} workers, timed from the client", rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
