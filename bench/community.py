"""Benchmark: residents joining one hot group-buy, then the merchant closing it (failed: all cancelled).

Fresh PostgreSQL database -> ``shop migrate`` -> ``shop serve --workers 2`` -> seed one merchant (a warehouse
with plenty of stock, one product, one pickup point), one customer and one group-buy with a large maximum,
through the public API -> wrk POSTs ``/v1/community/group-buys/{id}/join`` (cash at pickup, a unique
``Idempotency-Key`` per request, 16 connections; every join counts on the same group-buy row and
holds units of the same stock row, so this is the hot-row figure) -> joins/s and latency percentiles
-> consistency check (joined_quantity = orders = units held, never above the maximum) -> the merchant
closes the group-buy, which fails its minimum and cancels every order in one transaction (timed
in-process) -> check that all stock came back.

    .venv/bin/python bench/community.py --duration 15
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shlex
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
from harness import (
    ADDRESS,
    PgDatabase,
    Server,
    ensure_wrk,
    install_sigterm_handler,
    log,
    lua_json_post_script,
    migrate,
    print_table,
    result_rows,
    run_wrk,
    seed_merchant,
)

MAX_QUANTITY = 1_000_000


async def seed(base_url: str, admin: str) -> dict[str, Any]:
    """Merchant, warehouse with stock, product, pickup point, customer token, open group-buy; via the API."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        _, h, warehouse_id = await seed_merchant(c, admin, name="社区团购压测", email="bench@example.com")
        p = (await c.post("/v1/products", headers=h, json={
            "title": "赣南脐橙 5 斤 Navel oranges", "category": "fresh", "status": "active",
            "variants": [{"sku": "ORANGE-5", "price": 3_990}]})).json()
        (await c.put(f"/v1/locations/{warehouse_id}/stock/ORANGE-5", headers=h,
                     json={"on_hand": MAX_QUANTITY})).raise_for_status()
        point = (await c.post("/v1/community/pickup-points", headers=h, json={
            "name": "幸福小区自提点", "address": ADDRESS, "leader_name": "王团长", "leader_phone": "13900139000",
            "commission_rate": 500})).json()
        closes_at = datetime.now(UTC) + timedelta(hours=1)
        gb = (await c.post("/v1/community/group-buys", headers=h, json={
            "variant_id": p["variants"][0]["id"], "price": 2_990, "min_quantity": MAX_QUANTITY,
            "max_quantity": MAX_QUANTITY, "closes_at": closes_at.isoformat(),
            "pickup_date": (closes_at + timedelta(days=1)).date().isoformat()})).json()
        (await c.post("/v1/customers", json={"email": "resident@example.com", "password": "bench-pass-1",
                                             "name": "居民"})).raise_for_status()
        token = (await c.post("/v1/auth/token", data={"username": "resident@example.com",
                                                      "password": "bench-pass-1"})).json()["access_token"]
        merchant_key = h["Authorization"].removeprefix("Bearer ")
        return {"merchant_key": merchant_key, "group_buy_id": gb["id"], "point_id": point["id"], "token": token}


async def check(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        # One snapshot: a join wrk gave up on may still commit on the server between separate statements.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            joined = await conn.fetchval("SELECT coalesce(sum(joined_quantity), 0) FROM group_buy")
            orders = await conn.fetchval("SELECT count(*) FROM sales_order WHERE status <> 'cancelled'")
            held = await conn.fetchval("SELECT coalesce(sum(reserved), 0) FROM stock_level")
            over = await conn.fetchval("SELECT count(*) FROM group_buy WHERE joined_quantity > max_quantity")
    finally:
        await conn.close()
    return {"joined": joined, "orders": orders, "held": held, "over_max": over}


async def close(base_url: str, merchant_key: str, group_buy_id: str) -> tuple[float, dict[str, Any]]:
    async with httpx.AsyncClient(base_url=base_url, timeout=600) as c:
        started = time.perf_counter()
        r = await c.post(f"/v1/community/group-buys/{group_buy_id}/close",
                         headers={"Authorization": f"Bearer {merchant_key}"})
        elapsed = time.perf_counter() - started
        r.raise_for_status()
        return elapsed, r.json()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wrk benchmark of group-buy joins on one hot group-buy")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    install_sigterm_handler()
    command = shlex.join([".venv/bin/python", "bench/community.py", "--duration", str(args.duration)])
    ensure_wrk()
    admin = secrets.token_urlsafe(24)
    with PgDatabase() as db:
        migrate(db.url)
        env = {"DATABASE_URL": db.url, "SHOP_ADMIN_TOKEN": admin, "SHOP_BACKGROUND_JOBS": "false",
               "SHOP_SECRET_KEY": secrets.token_urlsafe(32)}
        with Server(env, workers=args.workers) as server:
            s = asyncio.run(seed(server.base_url, admin))
            path = f"/v1/community/group-buys/{s['group_buy_id']}/join"
            body = {"quantity": 1, "pickup_point_id": s["point_id"], "payment_method": "cod"}
            script = lua_json_post_script(path, [body], authorization=f"Bearer {s['token']}")
            run_wrk(server.base_url + path, lua_script=script, connections=args.connections, duration_s=3,
                    timeout_s=10)  # warm-up
            result = run_wrk(server.base_url + path, lua_script=lua_json_post_script(
                path, [body], authorization=f"Bearer {s['token']}"), connections=args.connections,
                duration_s=args.duration, timeout_s=10)
            joined = asyncio.run(check(db.dsn))
            log("joined", **joined)
            close_s, closed = asyncio.run(close(server.base_url, s["merchant_key"], s["group_buy_id"]))
            after = asyncio.run(check(db.dsn))
    rows = result_rows("POST .../join (cod, one group-buy)", result, command=command)
    rows += [
        ("joined = orders = units held", f"{joined['joined']:,} = {joined['orders']:,} = {joined['held']:,}",
         "equal", command),
        ("group-buys above their maximum", str(joined["over_max"]), "0", command),
        (f"close (failed) cancelling {joined['orders']:,} orders", f"{close_s:.2f} s "
         f"({joined['orders'] / close_s:,.0f} orders/s)", "-", command),
        ("after close: status / open orders / units held",
         f"{closed['status']} / {after['orders']} / {after['held']}", "failed / 0 / 0", command),
    ]
    print_table(f"Community group-buy: {args.workers} workers, {args.connections} connections, "
                f"{args.duration}s", rows)
    print(f"reproduce: {command}")
    ok = (result.socket_errors == 0 and result.non_2xx == 0 and joined["joined"] == joined["orders"] == joined["held"]
          and joined["over_max"] == 0 and closed["status"] == "failed" and after["orders"] == 0
          and after["held"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
