"""Benchmark: the merchant console's lists for a big shop (2,000 products, 20,000 orders by default).

Fresh PostgreSQL database -> ``shop migrate`` -> one merchant with a warehouse and two stores, the products
with stock, and the orders (delivery and pick-up, over 90 days) written in bulk -> the app in this process,
called through its ASGI interface (so the figures are server time, without a network or a client) -> the first
page of every console list, a phone search, and a walk of the order list to its last page -> one table.

    .venv/bin/python bench/console_lists.py
    .venv/bin/python bench/console_lists.py --products 500 --orders 5000 --repeat 3

The issue's target is a first page in 150 ms or less. Exit status is 1 if a page is not 200, the phone search
misses its order, or the walk does not reach every order; the timings are reported, not enforced.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shlex
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import httpx
from harness import PgDatabase, install_sigterm_handler, log, migrate, print_table

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text

from app.catalog.models import Product, Variant
from app.core.auth import create_token
from app.core.ids import new_id
from app.db import make_engine, make_sessionmaker
from app.inventory.models import StockLevel
from app.main import create_app
from app.merchants.models import Location, Merchant
from app.orders import rules
from app.orders.models import Order, OrderLine

DEFAULTS = {"products": 2000, "orders": 20000, "repeat": 5}
TARGET = "≤ 150 ms"
LISTS = ("orders", "products", "stock", "customers", "devices", "wholesale", "group-buys", "conflicts", "returns",
         "complaints", "campaigns", "promotions")
ADDRESS = {"name": "张三", "phone": "13800138000", "line1": "淮海中路 999 号", "district": "徐汇区", "city": "上海",
           "province": "上海", "postal_code": "200031", "country": "CN"}


def reproduce_command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "bench/console_lists.py"]
    for name, default in DEFAULTS.items():
        if getattr(args, name) != default:
            parts += [f"--{name}", str(getattr(args, name))]
    return shlex.join(parts)


async def seed(url: str, products: int, orders: int) -> tuple[str, str]:
    """The shop, written in bulk; its API key and the phone number of one order in the middle."""
    engine = make_engine(url, pool_size=2)
    rng = random.Random(22)
    now = datetime.now(UTC)
    try:
        async with make_sessionmaker(engine)() as session:
            merchant_id = new_id("mer")
            session.add(Merchant(id=merchant_id, name="大店", kind="enterprise", licence_no="91350100M000100Y43",
                                 contact_email="big@example.com", status="active", verified_at=now, created_at=now,
                                 updated_at=now))
            await session.flush()  # the merchant before its locations (no relationship orders the inserts)
            locations = [Location(id=new_id("loc"), merchant_id=merchant_id, code=code, name=name, kind=kind,
                                  address=ADDRESS, created_at=now)
                         for code, name, kind in (("WH", "嘉定仓", "warehouse"), ("XH", "徐汇店", "store"),
                                                  ("JA", "静安店", "store"))]
            session.add_all(locations)
            await session.flush()
            key = await create_token(session, kind="merchant", merchant_id=merchant_id, label="bench")
            variants = []
            product_rows, variant_rows, level_rows = [], [], []
            for n in range(products):
                pid, vid = new_id("prd"), new_id("var")
                product_rows.append({"id": pid, "merchant_id": merchant_id, "title": f"商品 {n:05d} 羽绒服",
                                     "description": "", "category": "apparel", "status": "active",
                                     "created_at": now, "updated_at": now})
                variant_rows.append({"id": vid, "product_id": pid, "merchant_id": merchant_id, "sku": f"BIG-{n:05d}",
                                     "price": rng.randrange(1000, 200000), "currency": "CNY", "attributes": {},
                                     "created_at": now})
                for loc in locations:
                    level_rows.append({"id": new_id("stl"), "merchant_id": merchant_id, "location_id": loc.id,
                                       "variant_id": vid, "on_hand": rng.randrange(0, 500), "reserved": 0,
                                       "safety_stock": 0})
                variants.append((vid, pid, f"BIG-{n:05d}"))
            await session.execute(insert(Product), product_rows)
            await session.execute(insert(Variant), variant_rows)
            for i in range(0, len(level_rows), 2000):
                await session.execute(insert(StockLevel), level_rows[i:i + 2000])
            order_rows, line_rows = [], []
            phone = ""
            for n in range(orders):
                created = now - timedelta(minutes=rng.randrange(90 * 24 * 60))
                vid, pid, sku = rng.choice(variants)
                oid = new_id("ord")
                pickup = n % 5 == 0
                number_phone = f"139{n:08d}"
                if n >= orders // 2 and not pickup and not phone:
                    phone = number_phone
                order_rows.append({
                    "id": oid, "number": rules.order_number(created), "merchant_id": merchant_id,
                    "channel": "retail", "status": rng.choice(("paid", "shipped", "completed", "cancelled")),
                    "payment_method": "alipay", "payment_status": "paid", "checkout_id": "bench",
                    "email": f"b{n}@example.com", "currency": "CNY", "subtotal": 19900, "discount": 0, "shipping": 0,
                    "total": 19900, "refunded": 0,
                    "fulfilment": {"type": "pickup", "location_id": locations[1].id} if pickup else
                    {"type": "delivery", "address": {**ADDRESS, "phone": number_phone}},
                    "pickup_location_id": locations[1].id if pickup else None,
                    "created_at": created, "updated_at": created})
                line_rows.append({"id": new_id("oln"), "order_id": oid, "merchant_id": merchant_id,
                                  "variant_id": vid, "product_id": pid, "sku": sku, "title": "羽绒服",
                                  "category": "apparel", "returnable": True, "quantity": 1, "unit_price": 19900,
                                  "discount": 0, "total": 19900, "returned_quantity": 0,
                                  "return_class": "standard"})
            for i in range(0, orders, 2000):
                await session.execute(insert(Order), order_rows[i:i + 2000])
                await session.execute(insert(OrderLine), line_rows[i:i + 2000])
            await session.commit()
        async with engine.connect() as conn:  # fresh statistics, as autovacuum would have them after a bulk load
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    finally:
        await engine.dispose()
    return key, phone


async def measure(url: str, key: str, phone: str, orders: int, repeat: int) -> list[tuple[str, float]]:
    """(figure, milliseconds): the median server time of each first page, the search, and the whole walk."""
    from tests.conftest import make_settings  # the test settings: no background jobs, no rate limits

    app = create_app(make_settings(url))
    figures: list[tuple[str, float]] = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
        login = (await c.get("/console/login")).text
        token = re.search(r'name="csrf" value="([^"]+)"', login)
        assert token
        r = await c.post("/console/login", data={"csrf": token.group(1), "api_key": key})
        assert r.status_code == 303, r.text[:500]

        async def timed(path: str, **params: str | int) -> tuple[float, httpx.Response]:
            start = time.perf_counter()
            resp = await c.get(path, params=params)
            return (time.perf_counter() - start) * 1000, resp

        for name in LISTS:
            samples = []
            for _ in range(repeat):
                ms, resp = await timed(f"/console/{name}")
                if resp.status_code != 200:
                    raise SystemExit(f"/console/{name}: {resp.status_code}")
                samples.append(ms)
            figures.append((f"GET /console/{name} first page", statistics.median(samples)))
        samples = []
        for _ in range(repeat):
            ms, resp = await timed("/console/orders", q=phone)
            if phone not in resp.text or resp.text.count('href="/console/orders/ord_') != 1:
                raise SystemExit(f"the phone search for {phone} did not find exactly its order")
            samples.append(ms)
        figures.append(("order search by phone", statistics.median(samples)))
        seen, pages, total_ms = 0, 0, 0.0
        url_next = "/console/orders?limit=200"
        worst = 0.0
        while url_next:
            start = time.perf_counter()
            resp = await c.get(url_next)
            ms = (time.perf_counter() - start) * 1000
            total_ms += ms
            worst = max(worst, ms)
            pages += 1
            seen += resp.text.split("<tbody>")[1].count('href="/console/orders/ord_')
            found = re.search(r'rel="next" href="([^"]+)"', resp.text)
            url_next = unescape(found.group(1)) if found else ""
        if seen != orders:
            raise SystemExit(f"the order list walk saw {seen} of {orders} orders")
        figures.append((f"order list walk: slowest of {pages} pages of 200", worst))
    await app.state.engine.dispose()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in DEFAULTS.items():
        parser.add_argument(f"--{name}", type=int, default=default)
    args = parser.parse_args()
    install_sigterm_handler()
    with PgDatabase() as db:
        migrate(db.url)
        log("seed.start", products=args.products, orders=args.orders)
        key, phone = asyncio.run(seed(db.url, args.products, args.orders))
        log("seed.done")
        figures = asyncio.run(measure(db.url, key, phone, args.orders, args.repeat))
    command = reproduce_command(args)
    print_table(f"Console lists: {args.products:,} products, {args.orders:,} orders (server time, median)",
                [(figure, f"{ms:.1f} ms", TARGET, command) for figure, ms in figures])
    return 0


if __name__ == "__main__":
    sys.exit(main())
