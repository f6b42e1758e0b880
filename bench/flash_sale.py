"""Benchmark: a flash sale opening at one second, 10,000 signed-in buyers rushing 500 units.

Fresh PostgreSQL database -> ``shop migrate`` -> ``shop serve --workers 2`` with Redis (the admission gate) ->
a merchant, a product with 1,000 units and a flash sale of 500 units, limit 1 per buyer, opening 3 seconds after
the seed -> 10,000 customers with their access tokens, made beforehand (in the database, tokens signed with the
server's key, as a login would) -> wrk at 64 connections, each request a buyer's order with its own
Idempotency-Key, buyers taken in turn, running from before the opening second -> attempts answered per second and
latency percentiles (every attempt: early, winning, turned away), beside the same server's ``/healthz`` rate ->
checks: exactly 500 orders, no buyer with two, no 5xx, stock levels equal to the ledger.

All load comes from one address, so the per-address attempt limit is off for the run
(``SHOP_FLASH_ADDRESS_PER_SECOND=0``); the per-customer limit stays on.

    .venv/bin/python bench/flash_sale.py
    .venv/bin/python bench/flash_sale.py --buyers 10000 --units 500 --duration 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from harness import (
    ADDRESS,
    LUA_THREAD_IDS,
    CpuMeter,
    PgDatabase,
    Server,
    ensure_wrk,
    install_sigterm_handler,
    log,
    lua_paths_script,
    lua_string,
    migrate,
    print_table,
    run_wrk,
    seed_merchant,
)

from app.core.ids import new_id
from app.core.security import hash_password

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

# Each request: the next buyer's token (threads start far apart), a unique key; 5xx answers are appended to a file.
LUA_FLASH = r"""
local n = 0
local offset = 0
function request()
  if n == 0 then offset = ((bench_thread_id or 1) - 1) * 4999 end
  n = n + 1
  local i = ((offset + n) % #tokens) + 1
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Authorization"] = "Bearer " .. tokens[i]
  headers["Idempotency-Key"] = key_prefix .. "-" .. tostring(bench_thread_id or 0) .. "-" .. tostring(n)
  return wrk.format("POST", post_path, headers, body)
end
function response(status, headers, body)
  if status >= 500 then
    local f = io.open(errors_path, "a")
    f:write(tostring(status) .. "\n")
    f:close()
  end
end
"""


def flash_script(path: str, body: str, tokens: list[str], errors_path: str) -> str:
    lines = [f"post_path = {lua_string(path)}", f"body = {lua_string(body)}",
             f"errors_path = {lua_string(errors_path)}", f"key_prefix = {lua_string('flash-' + secrets.token_hex(4))}",
             "tokens = {" + ",".join(lua_string(t) for t in tokens) + "}"]
    return "\n".join(lines) + "\n" + LUA_THREAD_IDS + LUA_FLASH


async def seed(base_url: str, admin: str, units: int, opens_at: datetime) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        merchant_id, h, warehouse_id = await seed_merchant(c, admin, name="秒杀商户", email="flash@example.com")
        p = (await c.post("/v1/products", headers=h, json={
            "title": "秒杀 电饭煲 Rice cooker", "category": "appliances", "status": "active",
            "variants": [{"sku": "FLASH-1", "price": 39_900}]}))
        p.raise_for_status()
        (await c.put(f"/v1/locations/{warehouse_id}/stock/FLASH-1", headers=h,
                     json={"on_hand": 2 * units})).raise_for_status()
        sale = await c.post("/v1/flash-sales", headers=h, json={
            "variant_id": p.json()["variants"][0]["id"], "price": 9_900, "quantity": units, "per_buyer_limit": 1,
            "starts_at": opens_at.isoformat(), "ends_at": (opens_at + timedelta(minutes=10)).isoformat()})
        sale.raise_for_status()
        return {"merchant_id": merchant_id, "sale_id": sale.json()["id"]}


async def make_buyers(db_url: str, secret: str, n: int) -> list[str]:
    """`n` customers in the database and their access tokens, issued as a login issues them."""
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from app.core.auth import create_signed_token
    from app.retail.models import Customer

    pw = hash_password("bench-pass-1")
    ids = [new_id("cus") for _ in range(n)]
    engine = create_async_engine(db_url)
    try:
        async with async_sessionmaker(engine)() as session:
            session.add_all([Customer(id=i, email=f"{i}@example.com", password_hash=pw, name="买家",
                                      created_at=datetime.now(UTC)) for i in ids])
            await session.flush()
            tokens = [await create_signed_token(session, kind="customer", subject_id=i, secret=secret, minutes=120)
                      for i in ids]
            await session.commit()
    finally:
        await engine.dispose()
    return tokens


async def check(dsn: str, sale_id: str, opens_at: datetime) -> dict[str, Any]:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            orders = await conn.fetchval("SELECT count(*) FROM flash_order WHERE sale_id = $1", sale_id)
            units = await conn.fetchval("SELECT coalesce(sum(quantity), 0) FROM flash_order WHERE sale_id = $1",
                                        sale_id)
            doubles = await conn.fetchval("SELECT count(*) FROM (SELECT customer_id FROM flash_order "
                                          "WHERE sale_id = $1 GROUP BY 1 HAVING sum(quantity) > 1) d", sale_id)
            remaining = await conn.fetchval("SELECT remaining FROM flash_sale WHERE id = $1", sale_id)
            # When the first and the last unit were sold, after the opening second (each order's time is taken
            # as its transaction is built).
            first, last = await conn.fetchrow(
                "SELECT extract(epoch FROM min(created_at) - $2), extract(epoch FROM max(created_at) - $2) "
                "FROM flash_order WHERE sale_id = $1", sale_id, opens_at)
            ledger_off = await conn.fetchval("""
                SELECT count(*) FROM stock_level l LEFT JOIN (
                  SELECT location_id, variant_id, sum(on_hand_delta) oh, sum(reserved_delta) rs
                  FROM stock_movement GROUP BY 1, 2) m USING (location_id, variant_id)
                WHERE l.on_hand <> coalesce(m.oh, 0) OR l.reserved <> coalesce(m.rs, 0)""")
    finally:
        await conn.close()
    return {"orders": orders, "units": units, "doubles": doubles, "remaining": remaining, "ledger_off": ledger_off,
            "first_sold_s": float(first or 0), "last_sold_s": float(last or 0)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--buyers", type=int, default=10_000)
    parser.add_argument("--units", type=int, default=500)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    install_sigterm_handler()
    command = shlex.join([".venv/bin/python", "bench/flash_sale.py", "--buyers", str(args.buyers), "--units",
                          str(args.units), "--duration", str(args.duration)])
    ensure_wrk()
    admin, secret = secrets.token_urlsafe(24), secrets.token_urlsafe(32)
    errors_path = Path(tempfile.mkdtemp(prefix="liutong-flash-")) / "5xx.txt"
    errors_path.touch()
    with PgDatabase() as db:
        migrate(db.url)
        env = {"DATABASE_URL": db.url, "SHOP_ADMIN_TOKEN": admin, "SHOP_BACKGROUND_JOBS": "false",
               "SHOP_SECRET_KEY": secret, "REDIS_URL": REDIS_URL, "SHOP_FLASH_ADDRESS_PER_SECOND": "0"}
        with Server(env, workers=args.workers) as server:
            started = time.perf_counter()
            tokens = asyncio.run(make_buyers(db.url, secret, args.buyers))
            log("buyers", count=len(tokens), seconds=round(time.perf_counter() - started, 1))
            opens_at = (datetime.now(UTC) + timedelta(seconds=4)).replace(microsecond=0)
            s = asyncio.run(seed(server.base_url, admin, args.units, opens_at))
            path = f"/v1/flash-sales/{s['sale_id']}/orders"
            body = json.dumps({"quantity": 1, "fulfilment": {"type": "delivery", "address": ADDRESS},
                               "payment_method": "cod"}, ensure_ascii=False, separators=(",", ":"))
            script = flash_script(path, body, tokens, str(errors_path))
            log("rush", opens_at=opens_at.isoformat(), starts_in_s=round((opens_at - datetime.now(UTC))
                                                                          .total_seconds(), 2))
            with CpuMeter(server.pid) as cpu:
                result = run_wrk(server.base_url + path, lua_script=script, connections=args.connections,
                                 duration_s=args.duration, timeout_s=10)
            healthz = run_wrk(server.base_url + "/healthz", lua_script=lua_paths_script(["/healthz"]),
                              connections=args.connections, duration_s=5)
            checked = asyncio.run(check(db.dsn, s["sale_id"], opens_at))
            log("checked", **checked)
    five_xx = len([line for line in errors_path.read_text().splitlines() if line.strip()])
    share = result.rps / healthz.rps if healthz.rps else 0.0
    rows = [
        ("attempts answered", f"{result.requests:,} ({result.rps:,.0f}/s)", "-", command),
        ("attempts/s beside the same server's /healthz", f"{share:.1%} ({healthz.rps:,.0f} req/s)", ">= 30 %",
         command),
        ("attempt latency p50 / p95 / p99", f"{result.p50_ms:.1f} / {result.p95_ms or 0:.1f} / {result.p99_ms:.1f} ms",
         "p99 <= 100 ms", command),
        ("orders placed / units on sale", f"{checked['orders']:,} / {args.units:,}", "equal", command),
        ("first / last unit sold, after the opening second",
         f"{checked['first_sold_s'] * 1000:,.0f} / {checked['last_sold_s'] * 1000:,.0f} ms", "-", command),
        ("buyers with two units", str(checked["doubles"]), "0", command),
        ("5xx answers / socket errors", f"{five_xx} / {result.socket_errors}", "0 / 0", command),
        ("stock levels that differ from the ledger", str(checked["ledger_off"]), "0", command),
        ("CPU per attempt: server (Python) / PostgreSQL",
         f"{cpu.server_s / max(result.requests, 1) * 1000:.2f} / "
         f"{cpu.postgres_s / max(result.requests, 1) * 1000:.2f} ms", "-", command),
    ]
    print_table(f"Flash sale: {args.buyers:,} buyers, {args.units:,} units, {args.workers} workers, "
                f"{args.connections} connections, Redis gate", rows)
    print(f"reproduce: {command}")
    ok = (checked["orders"] == args.units and checked["units"] == args.units and checked["doubles"] == 0
          and five_xx == 0 and result.socket_errors == 0 and checked["ledger_off"] == 0)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
