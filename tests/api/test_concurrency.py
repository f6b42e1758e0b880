"""Many buyers racing for the last units: exactly the stock is sold, never more, with no errors."""

import asyncio
import itertools

import httpx
from sqlalchemy import func, select

from app.orders.models import Order
from tests import factories as f

_keys = itertools.count()


async def _buy(client: httpx.AsyncClient, lines: list[tuple[str, int]]) -> httpx.Response:
    return await client.post("/v1/checkout", json=f.checkout_body(lines),
                             headers={"Idempotency-Key": f"race-{next(_keys)}"})


async def test_300_buyers_race_for_100_units(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=100)
    results = await asyncio.gather(*(_buy(client, [(s.variant_id, 1)]) for _ in range(300)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 100 and codes.count(409) == 200, {c: codes.count(c) for c in set(codes)}
    level = (await f.levels(app))[(s.warehouse["id"], s.variant_id)]
    assert level == (100, 100)  # on_hand - reserved == 0
    assert await f.levels(app) == await f.ledger(app)
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 100


async def test_multi_line_orders_on_two_hot_variants_never_deadlock(client: httpx.AsyncClient, app):
    a = await f.shop(client, on_hand=60)
    m = a.m
    b_product = await f.product(client, m, skus=("HOT-B",))
    b_variant = b_product["variants"][0]["id"]
    await f.stock(client, m, a.warehouse, "HOT-B", 60)
    # Half the buyers list the lines one way round, half the other: locks must still be taken in one order.
    orders = [[(a.variant_id, 1), (b_variant, 1)] if i % 2 else [(b_variant, 1), (a.variant_id, 1)]
              for i in range(150)]
    results = await asyncio.gather(*(_buy(client, lines) for lines in orders))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 60 and codes.count(409) == 90, {c: codes.count(c) for c in set(codes)}
    lv = await f.levels(app)
    assert lv[(a.warehouse["id"], a.variant_id)] == (60, 60) and lv[(a.warehouse["id"], b_variant)] == (60, 60)
    assert await f.levels(app) == await f.ledger(app)


async def test_coupon_usage_limit_holds_under_concurrency(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=100, price=10_000)
    await client.post("/v1/promotions", headers=s.m.headers, json={
        "code": "FIRST10", "kind": "amount", "value": 1_000, "channels": ["online"],
        "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z", "usage_limit": 10})
    results = await asyncio.gather(*(client.post("/v1/checkout", json=f.checkout_body(
        [(s.variant_id, 1)], coupon_code="FIRST10")) for _ in range(40)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 10 and codes.count(409) == 30
    promos = await client.get("/v1/promotions", headers=s.m.headers)
    assert promos.json()["items"][0]["used_count"] == 10


async def test_concurrent_replays_of_one_key_create_one_order(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=50)
    body = f.checkout_body([(s.variant_id, 1)])
    results = await asyncio.gather(*(client.post("/v1/checkout", json=body, headers={"Idempotency-Key": "dup"})
                                     for _ in range(20)))
    ok = [r for r in results if r.status_code == 201]
    assert ok and all(r.json() == ok[0].json() for r in ok)
    assert all(r.status_code in (201, 409) for r in results)
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (50, 1)
