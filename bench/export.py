"""Benchmark: the regulator export `GET /v1/admin/exports/transactions` streams flat in memory.

Fresh PostgreSQL database -> ``shop migrate`` -> one verified merchant (through the API) -> 200,000 orders
bulk-loaded with COPY, one per second of created_at -> ``shop serve --workers 1`` -> export the first
50,000 seconds (50,000 rows), then the whole range (200,000 rows), streaming the CSV and sampling the
server's RSS every 20 ms -> rows, time, rows/s and peak RSS for each, and the growth between them.

    .venv/bin/python bench/export.py --orders 200000

Target: peak RSS at 200k within a few MiB of the peak at 50k (memory does not grow with rows).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import shlex
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from harness import PgDatabase, Server, install_sigterm_handler, log, migrate, print_table

BASE = datetime(2026, 1, 1, tzinfo=UTC)
COLUMNS = ("id", "number", "merchant_id", "channel", "status", "payment_method", "payment_status", "checkout_id",
           "currency", "subtotal", "discount", "shipping", "total", "refunded", "fulfilment", "created_at",
           "updated_at", "customer_id", "email")


async def signup(base_url: str, admin: str) -> str:
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        m = (await c.post("/v1/merchants", json={"name": "导出压测商户", "kind": "enterprise",
                                                 "licence_no": "91350100M000100Y43",
                                                 "contact_email": "export@example.com"})).json()
        r = await c.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {admin}"})
        r.raise_for_status()
        return str(m["id"])


async def load_orders(dsn: str, merchant_id: str, count: int) -> None:
    """`count` completed orders, created one second apart from BASE, loaded with COPY in chunks."""
    conn = await asyncpg.connect(dsn)
    try:
        chunk = 50_000
        for start in range(0, count, chunk):
            rows = []
            for i in range(start, min(count, start + chunk)):
                at = BASE + timedelta(seconds=i)
                rows.append((f"ord_bench{i:012d}", f"B{i:012d}", merchant_id, "retail", "completed", "cod", "paid",
                             f"chk_bench{i:012d}", "CNY", 9_900 + i % 1000, 0, 0, 9_900 + i % 1000, 0,
                             '{"type": "delivery"}', at, at, f"cus_bench{i % 5000:06d}",
                             f"buyer{i % 5000}@example.com"))
            await conn.copy_records_to_table("sales_order", records=rows, columns=COLUMNS)
            log("seed.progress", done=min(count, start + chunk), of=count)
        await conn.execute("ANALYZE sales_order")  # planner statistics, as a live table has them
    finally:
        await conn.close()


class PeakRss:
    """Samples a server's process-tree RSS in a thread; `.peak` is the highest seen while running."""

    def __init__(self, server: Server, every_s: float = 0.02) -> None:
        self.server, self.every_s = server, every_s
        self.peak = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_mb())
            time.sleep(self.every_s)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.server.rss_mb())


def export(server: Server, admin: str, seconds: int) -> tuple[int, int, float, float]:
    """Stream an export of [BASE, BASE + seconds): (data rows, bytes, elapsed s, peak RSS MiB)."""
    params = {"from": BASE.isoformat(), "to": (BASE + timedelta(seconds=seconds)).isoformat()}
    lines = size = 0
    started = time.monotonic()
    with PeakRss(server) as rss, httpx.Client(base_url=server.base_url, timeout=600) as c, c.stream(
            "GET", "/v1/admin/exports/transactions", params=params,
            headers={"Authorization": f"Bearer {admin}"}) as r:
        r.raise_for_status()
        for chunk in r.iter_bytes():
            size += len(chunk)
            lines += chunk.count(b"\n")
    return lines - 1, size, time.monotonic() - started, rss.peak


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="memory and speed of the streamed regulator CSV export")
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--small", type=int, default=50_000)
    args = parser.parse_args(argv)
    install_sigterm_handler()
    command = shlex.join([".venv/bin/python", "bench/export.py", "--orders", str(args.orders)])
    admin = secrets.token_urlsafe(24)
    with PgDatabase() as db:
        migrate(db.url)
        env = {"DATABASE_URL": db.url, "SHOP_ADMIN_TOKEN": admin, "SHOP_BACKGROUND_JOBS": "false"}
        with Server(env, workers=1) as server:
            merchant_id = asyncio.run(signup(server.base_url, admin))
            asyncio.run(load_orders(db.dsn, merchant_id, args.orders))
            export(server, admin, 1_000)  # warm-up: imports, connection pool, prepared statements
            idle = server.rss_mb()
            small = export(server, admin, args.small)
            log("export.done", rows=small[0], seconds=round(small[2], 2), peak_mb=round(small[3], 1))
            full = export(server, admin, args.orders)
            log("export.done", rows=full[0], seconds=round(full[2], 2), peak_mb=round(full[3], 1))
    rows = [("server RSS before the exports", f"{idle:.1f} MiB", "-", command)]
    for label, (n, size, secs, peak) in ((f"{args.small:,}", small), (f"{args.orders:,}", full)):
        rows += [
            (f"export {label} orders: rows / size", f"{n:,} rows / {size / 2**20:.1f} MiB", label, command),
            (f"export {label} orders: time", f"{secs:.2f} s ({n / secs:,.0f} rows/s)", "-", command),
            (f"export {label} orders: peak server RSS", f"{peak:.1f} MiB", "flat", command),
        ]
    growth = full[3] - small[3]
    rows.append((f"peak RSS growth {args.small:,} -> {args.orders:,} rows", f"{growth:+.1f} MiB", "< 10 MiB",
                 command))
    print_table("Regulator export (CSV, streamed, keyset batches of 2,000), 1 worker, PostgreSQL", rows)
    print(f"reproduce: {command}")
    return 0 if small[0] == args.small and full[0] == args.orders and growth < 10 else 1


if __name__ == "__main__":
    sys.exit(main())
