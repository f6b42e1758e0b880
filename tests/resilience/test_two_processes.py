"""Two `shop serve` processes on different ports against one PostgreSQL database, as behind a load balancer:
a hot SKU raced from both still sells exactly its stock, and hold expiry run from both cancels each order once."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core import clock
from app.core.models import OutboxEvent
from app.db import make_engine, make_sessionmaker
from app.inventory import service as inventory_service
from app.orders.cancellation import expire_holds
from app.orders.models import Order
from tests import factories as f
from tests.conftest import _empty_tables
from tests.servers import Server, free_port

STOCK = 50
BUYERS = 200
ORDERS = 40


@pytest.fixture
def servers(pg_url: str) -> Iterator[tuple[Server, Server]]:
    asyncio.run(_empty_tables(pg_url))
    one, two = Server(pg_url, free_port()), Server(pg_url, free_port())
    try:
        one.start()
        two.start()
        yield one, two
    finally:
        one.stop()
        two.stop()


def _seed(base: str) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=30) as api:
        def ok(r: httpx.Response) -> dict[str, Any]:
            assert r.status_code < 300, r.text
            return dict(r.json())

        m = ok(api.post("/v1/merchants", json={"name": "秒杀商户", "kind": "enterprise",
                                                "licence_no": "91350100M000100Y43", "contact_email": "h@example.com"}))
        ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers=f.ADMIN))
        h = f.bearer(m["api_key"])
        wh = ok(api.post("/v1/locations", headers=h, json={"code": "WH", "name": "仓", "kind": "warehouse",
                                                           "address": f.address()}))
        p = ok(api.post("/v1/products", headers=h, json=f.product_body(skus=("HOT-1",))))
        ok(api.put(f"/v1/locations/{wh['id']}/stock/HOT-1", headers=h, json={"on_hand": STOCK}))
        return {"merchant_id": m["id"], "variant_id": p["variants"][0]["id"]}


async def test_hot_sku_split_across_two_processes_sells_exactly_the_stock(servers: tuple[Server, Server],
                                                                          pg_url: str):
    one, two = servers
    seed = _seed(one.base)
    limits = httpx.Limits(max_connections=20)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        async def buy(i: int) -> int:
            base = (one if i % 2 else two).base
            r = await client.post(f"{base}/v1/checkout", json=f.checkout_body(
                [(seed["variant_id"], 1)], email=f"hot{i}@example.com"), headers={"Idempotency-Key": f"hot-{i}"})
            return r.status_code

        statuses = await asyncio.gather(*(buy(i) for i in range(BUYERS)))
    assert statuses.count(201) == STOCK
    assert statuses.count(409) == BUYERS - STOCK, sorted(set(statuses))
    engine = make_engine(pg_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as s:
            orders = (await s.execute(select(func.count()).select_from(Order)
                                      .where(Order.merchant_id == seed["merchant_id"]))).scalar_one()
            levels = await inventory_service.level_totals(s)
            ledger = {k: v for k, v in (await inventory_service.ledger_totals(s)).items() if v != (0, 0)}
    finally:
        await engine.dispose()
    assert orders == STOCK
    assert list(levels.values()) == [(STOCK, STOCK)]  # all of it reserved, none oversold
    assert levels == ledger


async def test_hold_expiry_run_from_two_processes_cancels_each_order_once(client: httpx.AsyncClient, app: Any,
                                                                          pg_only: None, pg_url: str):
    """Two job runners (each with its own connection pool, as two processes have) claim with SKIP LOCKED."""
    s = await f.shop(client, on_hand=ORDERS)
    for i in range(ORDERS):
        r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], method="stripe",
                                                                    email=f"late{i}@example.com"))
        assert r.status_code == 201, r.text
    clock.travel(timedelta(minutes=app.state.settings.shop_order_hold_minutes + 1))
    engines = [make_engine(pg_url, pool_size=2) for _ in range(2)]
    try:
        async def runner(engine: Any) -> int:
            done = 0
            while n := await expire_holds(make_sessionmaker(engine), app.state.settings, limit=7):
                done += n
            return done

        counts = await asyncio.gather(*(runner(e) for e in engines))
    finally:
        for e in engines:
            await e.dispose()
    assert sum(counts) == ORDERS
    async with app.state.sessionmaker() as session:
        cancelled = (await session.execute(select(OutboxEvent.payload).where(
            OutboxEvent.kind == "order.cancelled"))).scalars().all()
    order_ids = [p["order_id"] for p in cancelled]
    assert len(order_ids) == len(set(order_ids)) == ORDERS
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (ORDERS, 0)
    assert await f.levels(app) == await f.ledger(app)
