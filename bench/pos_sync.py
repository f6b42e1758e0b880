"""Benchmark: POS sync throughput on PostgreSQL.

Fresh PostgreSQL database -> ``shop migrate`` -> ``shop serve --workers 2`` -> over HTTP: a verified
merchant, one store, 1,000 SKUs and 21 tills -> (1) one 10,000-event upload, timed end to end;
(2) 20 tills uploading to the same store at once, each several batches -> events/s; then a check that
every event was applied exactly once (one ledger row per distinct event id) and the ledger sums to the
levels. Request bodies are encoded before the clock starts.

    .venv/bin/python bench/pos_sync.py
    .venv/bin/python bench/pos_sync.py --batches 3 --batch-size 2000

Exit status 1 if a request failed or the exactly-once check failed; missed targets do not change it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import shlex
import sys
import time
from datetime import UTC, datetime, timedelta

import asyncpg  # type: ignore[import-untyped]
import httpx
import orjson
from harness import (
    CpuMeter,
    PgDatabase,
    Server,
    default_pg_transport,
    install_sigterm_handler,
    log,
    migrate,
    print_table,
    server_db_url,
)

SKUS = 1_000
DEVICES = 20
BATCH_TARGET = "≤ 1 s"
CONCURRENT_TARGET = "≥ 20,000 events/s"
ADMIN = "bench-admin-" + secrets.token_hex(8)


def address() -> dict[str, str]:
    return {"name": "店长", "phone": "13800138000", "line1": "南京东路 1 号", "city": "上海",
            "postal_code": "200001", "country": "CN"}


async def setup(base_url: str) -> tuple[list[str], list[dict[str, str]]]:
    """A verified merchant, a store, 1,000 SKUs stocked there, and 21 tills; returns SKUs and till headers."""
    async with httpx.AsyncClient(base_url=base_url, timeout=60, trust_env=False) as c:
        m = (await c.post("/v1/merchants", json={"name": "基准商户", "kind": "enterprise",
                                                 "licence_no": "91350100M000100Y43",
                                                 "contact_email": "bench@example.com"})).json()
        await c.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"})
        h = {"Authorization": f"Bearer {m['api_key']}"}
        store = (await c.post("/v1/locations", headers=h, json={"code": "S1", "name": "南京东路店", "kind": "store",
                                                                "address": address()})).json()
        skus = [f"B-{i:04d}" for i in range(SKUS)]
        for p in range(SKUS // 100):
            r = await c.post("/v1/products", headers=h, json={
                "title": f"基准商品 {p}", "category": "daily-goods", "status": "active",
                "variants": [{"sku": s, "price": 1_000 + i} for i, s in enumerate(skus[p * 100:(p + 1) * 100])]})
            r.raise_for_status()
        tills = []
        for i in range(DEVICES + 1):
            d = (await c.post(f"/v1/locations/{store['id']}/devices", headers=h, json={"name": f"till {i}"})).json()
            tills.append({"Authorization": f"Bearer {d['token']}", "Content-Type": "application/json"})
    return skus, tills


def batch(rnd: random.Random, skus: list[str], prefix: str, n: int) -> tuple[bytes, int]:
    """`n` events over the last three days: mostly sales, some receipts, returns, adjusts and counts."""
    now = datetime.now(UTC)
    events = []
    for i in range(n):
        kind = rnd.choices(["sale", "return", "receive", "adjust", "count"], weights=[80, 4, 8, 4, 4])[0]
        qty = rnd.randint(0, 50) if kind == "count" else rnd.choice([-2, 3]) if kind == "adjust" else rnd.randint(1, 3)
        at = now - timedelta(minutes=rnd.randint(1, 3 * 24 * 60))
        events.append({"event_id": f"{prefix}-{i}", "type": kind, "sku": rnd.choice(skus), "quantity": qty,
                       "occurred_at": at.isoformat()})
    return orjson.dumps({"events": events}), n


async def post(c: httpx.AsyncClient, headers: dict[str, str], body: bytes, key: str) -> None:
    r = await c.post("/v1/pos/events", headers={**headers, "Idempotency-Key": key}, content=body)
    if r.status_code != 200:
        raise RuntimeError(f"upload failed: {r.status_code} {r.text[:300]}")


async def run(base_url: str, dsn: str, args: argparse.Namespace, server_pid: int
              ) -> tuple[list[tuple[str, str, str, str]], bool]:
    command = shlex.join([sys.executable, *sys.argv])
    rnd = random.Random(args.seed)
    skus, tills = await setup(base_url)
    rows: list[tuple[str, str, str, str]] = []
    limits = httpx.Limits(max_connections=DEVICES + 2)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, trust_env=False, limits=limits) as c:
        warm, _ = batch(rnd, skus, "warm", 500)
        await post(c, tills[DEVICES], warm, "warm")
        body, n = batch(rnd, skus, "single", 10_000)
        log("single.start", events=n)
        t0 = time.perf_counter()
        await post(c, tills[DEVICES], body, "single")
        single = time.perf_counter() - t0
        rows.append(("one 10,000-event upload", f"{single:.2f} s ({n / single:,.0f} events/s)", BATCH_TARGET,
                     command))
        plans = [[batch(rnd, skus, f"d{d}-b{b}", args.batch_size) for b in range(args.batches)]
                 for d in range(DEVICES)]
        total = sum(n for plan in plans for _, n in plan)

        async def device(d: int) -> None:
            for b, (payload, _) in enumerate(plans[d]):
                await post(c, tills[d], payload, f"d{d}-b{b}")

        log("concurrent.start", devices=DEVICES, events=total)
        with CpuMeter(server_pid) as cpu:
            t0 = time.perf_counter()
            await asyncio.gather(*(device(d) for d in range(DEVICES)))
            wall = time.perf_counter() - t0
        rows.append((f"{DEVICES} tills, one store, {args.batches} x {args.batch_size:,} events each",
                     f"{total / wall:,.0f} events/s ({total:,} in {wall:.1f} s)", CONCURRENT_TARGET, command))
        rows.append(("CPU per 1,000 events then: server (Python) / PostgreSQL",
                     f"{cpu.server_s * 1000 / (total / 1000):.0f} / {cpu.postgres_s * 1000 / (total / 1000):.0f} ms",
                     "-", command))
    conn = await asyncpg.connect(dsn)
    try:
        events, distinct, counts = await conn.fetchrow(
            "SELECT count(*), count(DISTINCT event_id), count(*) FILTER (WHERE kind = 'pos_count') "
            "FROM stock_movement WHERE event_id IS NOT NULL")
        drift = await conn.fetchval(
            "SELECT count(*) FROM stock_level l LEFT JOIN (SELECT location_id, variant_id, sum(on_hand_delta) s "
            "FROM stock_movement GROUP BY 1, 2) m USING (location_id, variant_id) WHERE l.on_hand <> coalesce(m.s, 0)")
    finally:
        await conn.close()
    expected = 500 + 10_000 + total
    ok = events == distinct == expected and drift == 0
    rows.append(("exactly once: ledger rows of events / distinct event ids / levels off the ledger",
                 f"{events:,} (incl. {counts:,} counts) / {distinct:,} / {drift}", f"{expected:,} / same / 0",
                 command))
    return rows, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=5, help="uploads per till in the concurrent run")
    parser.add_argument("--batch-size", type=int, default=2_000, help="events per upload in the concurrent run")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--pg-transport", choices=("socket", "tcp"), default=default_pg_transport(),
                        help="how the server reaches PostgreSQL on this host (default: TCP to 127.0.0.1)")
    args = parser.parse_args()
    install_sigterm_handler()
    with PgDatabase() as db:
        migrate(db.url)
        env = {"DATABASE_URL": server_db_url(db, args.pg_transport), "SHOP_ADMIN_TOKEN": ADMIN,
               "SHOP_BACKGROUND_JOBS": "false", "SHOP_DB_POOL_SIZE": "20"}
        with Server(env, workers=args.workers) as server:
            rows, ok = asyncio.run(run(server.base_url, db.dsn, args, server.pid))
    print_table(f"POS sync on PostgreSQL over {args.pg_transport}: {args.workers} workers, {SKUS:,} SKUs, one store",
                rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
