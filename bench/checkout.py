"""Benchmark: single-line cash-on-delivery checkouts on PostgreSQL.

Fresh PostgreSQL database -> ``shop migrate`` -> ``shop serve --workers 2`` -> seed one merchant with
1,000 variants (stock 1,000 each, through the public API) -> wrk POSTs ``/v1/checkout`` with a unique
``Idempotency-Key`` per request across the 1,000 variants (32 connections, 20 s) -> orders/s and
latency percentiles, the same server's ``/healthz`` req/s for comparison, and a consistency check
(orders in the database = 201 responses; reserved units = ordered units; no oversell).

    .venv/bin/python bench/checkout.py --duration 20

Targets on a 2-core machine: >= 500 orders/s, p99 <= 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shlex
import sys

import asyncpg
import httpx
from harness import (
    ADDRESS,
    CpuMeter,
    PgDatabase,
    Server,
    default_pg_transport,
    ensure_wrk,
    install_sigterm_handler,
    log,
    lua_json_post_script,
    migrate,
    print_table,
    result_rows,
    run_wrk,
    seed_merchant,
    server_db_url,
)


async def seed(base_url: str, admin: str, variants: int, stock: int) -> list[str]:
    """One verified merchant, a warehouse, `variants` single-variant products with stock; via the API."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        _, h, warehouse_id = await seed_merchant(c, admin, name="压测商户", email="bench@example.com")
        sem = asyncio.Semaphore(16)
        ids: list[str] = [""] * variants

        async def one(i: int) -> None:
            async with sem:
                p = (await c.post("/v1/products", headers=h, json={
                    "title": f"压测商品 Bench item {i}", "category": "daily-goods", "status": "active",
                    "variants": [{"sku": f"B-{i:05d}", "price": 990 + i}]})).json()
                ids[i] = p["variants"][0]["id"]
                r = await c.put(f"/v1/locations/{warehouse_id}/stock/B-{i:05d}", headers=h, json={"on_hand": stock})
                r.raise_for_status()
                if i % 200 == 0:
                    log("seed.progress", done=i, of=variants)

        await asyncio.gather(*(one(i) for i in range(variants)))
        return ids


async def check(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        # One snapshot: requests wrk gave up on may still commit between separate statements.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            orders = await conn.fetchval("SELECT count(*) FROM sales_order")
            ordered = await conn.fetchval("SELECT coalesce(sum(quantity), 0) FROM order_line")
            reserved = await conn.fetchval("SELECT coalesce(sum(reserved), 0) FROM stock_level")
            oversold = await conn.fetchval("SELECT count(*) FROM stock_level WHERE reserved > on_hand")
            ledger_off = await conn.fetchval("""
                SELECT count(*) FROM stock_level l LEFT JOIN (
                  SELECT location_id, variant_id, sum(on_hand_delta) oh, sum(reserved_delta) rs
                  FROM stock_movement GROUP BY 1, 2) m USING (location_id, variant_id)
                WHERE l.on_hand <> coalesce(m.oh, 0) OR l.reserved <> coalesce(m.rs, 0)""")
    finally:
        await conn.close()
    return {"orders": orders, "ordered": ordered, "reserved": reserved, "oversold": oversold,
            "ledger_mismatch": ledger_off}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wrk benchmark of POST /v1/checkout (cod)")
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--variants", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--pg-transport", choices=("socket", "tcp"), default=default_pg_transport(),
                        help="how the server reaches PostgreSQL on this host (default: TCP to 127.0.0.1)")
    args = parser.parse_args(argv)
    install_sigterm_handler()
    command = shlex.join([".venv/bin/python", "bench/checkout.py", "--duration", str(args.duration),
                           "--pg-transport", args.pg_transport])
    ensure_wrk()
    admin = secrets.token_urlsafe(24)
    with PgDatabase() as db:
        migrate(db.url)
        env = {"DATABASE_URL": server_db_url(db, args.pg_transport), "SHOP_ADMIN_TOKEN": admin,
               "SHOP_BACKGROUND_JOBS": "false"}
        with Server(env, workers=args.workers) as server:
            variant_ids = asyncio.run(seed(server.base_url, admin, args.variants, stock=1_000))
            log("seeded", variants=len(variant_ids))
            bodies = [{"lines": [{"variant_id": v, "quantity": 1}], "email": "buyer@example.com",
                       "fulfilment": {"type": "delivery", "address": ADDRESS}, "payment_method": "cod"}
                      for v in variant_ids]
            # A fresh script per run: each gets its own random Idempotency-Key prefix.
            run_wrk(server.base_url + "/v1/checkout", lua_script=lua_json_post_script("/v1/checkout", bodies),
                    connections=args.connections, duration_s=3)  # warm-up
            warm = asyncio.run(check(db.dsn))
            with CpuMeter(server.pid) as cpu:
                result = run_wrk(server.base_url + "/v1/checkout",
                                 lua_script=lua_json_post_script("/v1/checkout", bodies),
                                 connections=args.connections, duration_s=args.duration)
            health = run_wrk(server.base_url + "/healthz", lua_script="", connections=args.connections,
                             duration_s=5)
            rss = server.rss_mb()
        after = asyncio.run(check(db.dsn))
    created = after["orders"] - warm["orders"]
    rows = result_rows("POST /v1/checkout (cod)", result, command=command,
                       targets={"rps": ">= 500 orders/s", "p99": "<= 150 ms"})
    rows += [
        ("orders created in the measured run", f"{created:,} ({created / result.duration_s:,.0f}/s)",
         ">= 500/s", command),
        ("oversold stock levels / ledger mismatches", f"{after['oversold']} / {after['ledger_mismatch']}", "0 / 0",
         command),
        ("units reserved = units ordered", f"{after['reserved']:,} = {after['ordered']:,}", "equal", command),
        ("CPU per order: server (Python) / PostgreSQL",
         f"{cpu.server_s * 1000 / max(created, 1):.2f} / {cpu.postgres_s * 1000 / max(created, 1):.2f} ms", "-",
         command),
        ("same server GET /healthz", f"{health.rps:,.0f} req/s", "-", command),
        ("server memory after run (RSS)", f"{rss:.0f} MiB", "-", command),
    ]
    print_table(f"Checkout: {args.workers} workers, {args.connections} connections, {args.duration}s, "
                f"{args.variants} variants, PostgreSQL over {args.pg_transport}", rows)
    print(f"reproduce: {command}")
    ok = (result.socket_errors == 0 and after["oversold"] == 0 and after["ledger_mismatch"] == 0
          and after["reserved"] == after["ordered"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
