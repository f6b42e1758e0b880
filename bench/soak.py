"""Benchmark: a sale-day soak on PostgreSQL: mixed traffic for minutes, with memory growth.

Fresh PostgreSQL database -> ``shop migrate`` -> ``shop serve --workers 2`` -> seed one merchant with a
warehouse, a store with a POS till, and 200 products (stock for the whole run) through the public API ->
wrk with one Lua script that picks each request by ratio: 80 % browsing (catalogue list, search, product
page), 15 % cash-on-delivery checkouts (unique Idempotency-Key each), 5 % POS uploads (one sale, unique
event id). wrk has no constant-rate mode here, so load is a fixed number of connections and the figure
is the achieved throughput. Reported: throughput, p99, errors (target 0), server RSS at the start and the
end of the soak (growth), and a consistency check (orders = checkouts answered 201, ledger = levels).

    .venv/bin/python bench/soak.py --duration 300

`make bench` runs it with ``--duration 60`` to keep the whole run short; the 5-minute figure is the
command above.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import shlex
import sys
from datetime import UTC, datetime

import asyncpg
import httpx
from harness import (
    ADDRESS,
    LUA_THREAD_IDS,
    PgDatabase,
    Server,
    _lua_list,
    encode_path,
    ensure_wrk,
    install_sigterm_handler,
    log,
    lua_string,
    migrate,
    print_table,
    result_rows,
    run_wrk,
    seed_merchant,
)

UNIQUE = "@@KEY@@"

# One request in 20: 16 browse, 3 checkout, 1 POS upload (80 / 15 / 5 %), interleaved.
LUA_MIX = r"""
local n = 0
local plan = {1,1,1,1,2,1,1,1,1,2,1,1,1,1,2,1,1,1,1,3}
local function keyed(body, key)
  local s, e = string.find(body, unique_token, 1, true)
  while s ~= nil do
    body = string.sub(body, 1, s - 1) .. key .. string.sub(body, e + 1)
    s, e = string.find(body, unique_token, s + #key, true)
  end
  return body
end
function request()
  n = n + 1
  local kind = plan[((n - 1) % #plan) + 1]
  local key = key_prefix .. "-" .. tostring(bench_thread_id or 0) .. "-" .. tostring(n)
  if kind == 1 then
    return wrk.format("GET", browse[((n * 7 + (bench_thread_id or 0)) % #browse) + 1])
  end
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = key
  if kind == 2 then
    return wrk.format("POST", "/v1/checkout", headers, keyed(checkouts[(n % #checkouts) + 1], key))
  end
  headers["Authorization"] = till
  return wrk.format("POST", "/v1/pos/events", headers, keyed(pos_bodies[(n % #pos_bodies) + 1], key))
end
"""


async def seed(base_url: str, admin: str, products: int, stock: int) -> dict[str, object]:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        merchant_id, h, warehouse_id = await seed_merchant(c, admin, name="大促商户", email="soak@example.com")
        st = (await c.post("/v1/locations", headers=h, json={"code": "ST", "name": "门店", "kind": "store",
                                                             "address": ADDRESS})).json()
        till = (await c.post(f"/v1/locations/{st['id']}/devices", headers=h, json={"name": "till"})).json()
        sem = asyncio.Semaphore(16)
        items: list[tuple[str, str, str]] = [("", "", "")] * products

        async def one(i: int) -> None:
            async with sem:
                sku = f"SALE-{i:04d}"
                p = (await c.post("/v1/products", headers=h, json={
                    "title": f"双十一 爆款 Sale item {i}", "category": "daily-goods", "status": "active",
                    "variants": [{"sku": sku, "price": 990 + i}]})).json()
                items[i] = (p["id"], p["variants"][0]["id"], sku)
                for loc in (warehouse_id, st["id"]):
                    r = await c.put(f"/v1/locations/{loc}/stock/{sku}", headers=h, json={"on_hand": stock})
                    r.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(products)))
        return {"merchant": merchant_id, "items": items, "till": f"Bearer {till['token']}"}


async def check(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        # One snapshot: requests wrk gave up on may still commit between separate statements.
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            orders = await conn.fetchval("SELECT count(*) FROM sales_order")
            pos_events = await conn.fetchval("SELECT count(*) FROM stock_movement WHERE event_id IS NOT NULL")
            ledger_off = await conn.fetchval("""
                SELECT count(*) FROM stock_level l LEFT JOIN (
                  SELECT location_id, variant_id, sum(on_hand_delta) oh, sum(reserved_delta) rs
                  FROM stock_movement GROUP BY 1, 2) m USING (location_id, variant_id)
                WHERE l.on_hand <> coalesce(m.oh, 0) OR l.reserved <> coalesce(m.rs, 0)""")
            oversold = await conn.fetchval("SELECT count(*) FROM stock_level WHERE reserved > on_hand")
    finally:
        await conn.close()
    return {"orders": orders, "pos_events": pos_events, "ledger_mismatch": ledger_off, "oversold": oversold}


def lua_script(items: list[tuple[str, str, str]], till: str) -> str:
    browse = ["/v1/products?limit=20", "/v1/products?q=%E7%88%86%E6%AC%BE&limit=20", "/v1/categories"]
    browse += [f"/v1/products/{pid}" for pid, _, _ in items]
    now = datetime.now(UTC).isoformat()
    checkouts = [json.dumps({"lines": [{"variant_id": vid, "quantity": 1}], "email": "buyer@example.com",
                             "fulfilment": {"type": "delivery", "address": ADDRESS}, "payment_method": "cod"},
                            ensure_ascii=False, separators=(",", ":")) for _, vid, _ in items]
    pos = [json.dumps({"events": [{"event_id": UNIQUE, "type": "sale", "sku": sku, "quantity": 1,
                                   "occurred_at": now, "unit_price": 990}]}, separators=(",", ":"))
           for _, _, sku in items]
    lines = [f"browse = {_lua_list(encode_path(p) for p in browse)}", f"checkouts = {_lua_list(checkouts)}",
             f"pos_bodies = {_lua_list(pos)}", f"till = {lua_string(till)}",
             f"key_prefix = {lua_string('soak-' + secrets.token_hex(4))}", f"unique_token = {lua_string(UNIQUE)}"]
    return "\n".join(lines) + "\n" + LUA_THREAD_IDS + LUA_MIX


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sale-day soak: mixed traffic, throughput, p99, errors, memory")
    parser.add_argument("--duration", type=int, default=300)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    install_sigterm_handler()
    command = shlex.join([".venv/bin/python", "bench/soak.py", "--duration", str(args.duration)])
    ensure_wrk()
    admin = secrets.token_urlsafe(24)
    with PgDatabase() as db:
        migrate(db.url)
        env = {"DATABASE_URL": db.url, "SHOP_ADMIN_TOKEN": admin, "SHOP_BACKGROUND_JOBS": "false"}
        with Server(env, workers=args.workers) as server:
            seeded = asyncio.run(seed(server.base_url, admin, args.products, stock=1_000_000))
            log("seeded", products=args.products)
            # A fresh script per run: each has its own Idempotency-Key / event id prefix, so nothing is a replay.
            def script() -> str:
                return lua_script(seeded["items"], str(seeded["till"]))  # type: ignore[arg-type]

            run_wrk(server.base_url, lua_script=script(), connections=args.connections, duration_s=5)  # warm-up
            rss_start = server.rss_mb()
            before = asyncio.run(check(db.dsn))
            result = run_wrk(server.base_url, lua_script=script(), connections=args.connections,
                             duration_s=args.duration)
            rss_end = server.rss_mb()
        after = asyncio.run(check(db.dsn))
    orders = after["orders"] - before["orders"]
    pos_events = after["pos_events"] - before["pos_events"]
    rows = result_rows("mixed 80/15/5", result, command=command, targets={"p99": "<= 200 ms"})
    growth = rss_end - rss_start
    rows += [
        ("orders / POS sales applied in the soak", f"{orders:,} / {pos_events:,}", "-", command),
        ("server RSS start -> end (growth)", f"{rss_start:.0f} -> {rss_end:.0f} MiB ({growth:+.0f} MiB)",
         "< 10 % growth", command),
        ("oversold stock levels / ledger mismatches", f"{after['oversold']} / {after['ledger_mismatch']}", "0 / 0",
         command),
    ]
    print_table(f"Sale-day soak: {args.workers} workers, {args.connections} connections, {args.duration}s, "
                f"browse 80 % / checkout 15 % / POS 5 %", rows)
    print(f"reproduce: {command}")
    ok = result.socket_errors == 0 and result.non_2xx == 0 and after["ledger_mismatch"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
