"""How fast the sealing job extends the hash chain over orders, and how fast the chain verifies.

A throw-away SQLite file gets N synthetic orders (one line each) and their `order.created` outbox rows, as a
checkout writes them; then `records.seal_job` and `records.verify` are timed in this process.

    .venv/bin/python bench/seal_records.py --orders 5000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from app.config import Settings
from app.db import make_engine, make_sessionmaker
from app.migrate import upgrade
from app.trust import records

_ORDER = text("INSERT INTO sales_order (id, number, merchant_id, channel, status, payment_method, payment_status, "
              "checkout_id, currency, subtotal, discount, shipping, total, refunded, fulfilment, created_at, "
              "updated_at) VALUES (:id, :no, 'mer_bench', 'retail', 'confirmed', 'cod', 'unpaid', 'chk', 'CNY', "
              "100, 0, 0, 100, 0, '{}', :now, :now)")
_LINE = text("INSERT INTO order_line (id, order_id, merchant_id, variant_id, product_id, sku, title, category, "
             "returnable, quantity, unit_price, discount, total, returned_quantity, return_class) VALUES (:id, :o, "
             "'mer_bench', 'v', 'p', 'SKU', '羽绒服', 'apparel', true, 1, 100, 0, 100, 0, 'standard')")
_EVENT = text("INSERT INTO event (kind, merchant_id, payload, created_at) VALUES ('order.created', 'mer_bench', "
              ":p, :now)")
_MERCHANT = text("INSERT INTO merchant (id, name, kind, licence_no, contact_email, status, listed, created_at, "
                 "updated_at) VALUES ('mer_bench', 'bench', 'enterprise', 'x', 'a@example.com', 'active', true, "
                 ":now, :now)")


async def run(url: str, orders: int) -> tuple[int, float, int, float]:
    engine = make_engine(url, pool_size=2)
    factory = make_sessionmaker(engine)
    now = datetime.now(UTC)
    try:
        async with factory() as session:
            await session.execute(_MERCHANT, {"now": now})
            await session.execute(_ORDER, [{"id": f"ord_{i:08d}", "no": f"N{i:08d}", "now": now}
                                           for i in range(orders)])
            await session.execute(_LINE, [{"id": f"oln_{i:08d}", "o": f"ord_{i:08d}"} for i in range(orders)])
            await session.execute(_EVENT, [{"p": json.dumps({"order_id": f"ord_{i:08d}"}), "now": now}
                                           for i in range(orders)])
            await session.commit()
        started = time.perf_counter()
        sealed = await records.seal_job(factory, Settings(database_url=url))
        seal_s = time.perf_counter() - started
        started = time.perf_counter()
        async with factory() as session:
            checked = (await records.verify(session=session))["checked"]
        return sealed, seal_s, checked, time.perf_counter() - started
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="sealing and verifying the record chain")
    parser.add_argument("--orders", type=int, default=5000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'seal.db'}"
        upgrade(url)
        sealed, seal_s, checked, verify_s = asyncio.run(run(url, args.orders))
    print(f"sealed {sealed:,} orders in {seal_s:.2f} s ({sealed / seal_s:,.0f}/s); "
          f"verified {checked:,} links in {verify_s:.2f} s ({checked / verify_s:,.0f}/s)")
    print(f"reproduce: .venv/bin/python bench/seal_records.py --orders {args.orders}")
    return 0 if sealed == checked == args.orders else 1


if __name__ == "__main__":
    sys.exit(main())
