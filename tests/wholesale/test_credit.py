"""Payment on terms: open credit = limit − unpaid terms orders, under concurrency; due dates; mark-paid."""

import asyncio
from datetime import datetime, timedelta

import httpx

from tests import factories as f


async def _setup(client: httpx.AsyncClient, *, credit_limit: int, days: int = 30):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    await f.wholesale_product(client, m, wh, sku="STEEL-BAR", price=3_000, moq=1, pack_size=1, tiers=(),
                              on_hand=10_000, category="production-materials")
    return m, await f.buyer(client, m, credit_limit=credit_limit, payment_terms_days=days)


def _order(b: f.BuyerCtx, qty: int, **kw):
    return {"merchant_id": b.merchant_id, "lines": [{"sku": "STEEL-BAR", "quantity": qty}], **kw}


async def test_credit_limit_holds_under_ten_concurrent_orders(client: httpx.AsyncClient, app):
    m, b = await _setup(client, credit_limit=100_000)
    results = await asyncio.gather(*(
        client.post("/v1/wholesale/orders", headers={**b.headers, "Idempotency-Key": f"c-{i}"}, json=_order(b, 10))
        for i in range(10)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 3 and codes.count(409) == 7, codes
    refused = next(r.json() for r in results if r.status_code == 409)
    assert refused["type"].endswith("/credit-limit-exceeded")
    assert (refused["order_total"], refused["credit_limit"], refused["credit_used"], refused["open_credit"]) == (
        30_000, 100_000, 90_000, 10_000)
    buyer = (await client.get(f"/v1/wholesale/buyers/{b.id}", headers=m.headers)).json()
    assert (buyer["credit_used"], buyer["open_credit"]) == (90_000, 10_000)
    assert (await client.get("/v1/wholesale/account", headers=b.headers)).json() == buyer
    levels = await f.levels(app)
    assert sorted(levels.values()) == [(10_000, 30)]  # the refused orders reserved nothing


async def test_mark_paid_and_cancel_give_credit_back(client: httpx.AsyncClient):
    m, b = await _setup(client, credit_limit=60_000, days=30)
    first = (await client.post("/v1/wholesale/orders", headers=b.headers, json=_order(b, 10))).json()
    second = (await client.post("/v1/wholesale/orders", headers=b.headers, json=_order(b, 10))).json()
    order_id = first["order"]["id"]
    created = datetime.fromisoformat(first["order"]["created_at"])
    assert datetime.fromisoformat(first["due_at"]) - created == timedelta(days=30)
    assert (await client.post("/v1/wholesale/orders", headers=b.headers, json=_order(b, 1))).status_code == 409

    assert (await client.post(f"/v1/orders/{order_id}/mark-paid", headers=b.headers)).status_code == 403
    other = await f.merchant(client)
    assert (await client.post(f"/v1/orders/{order_id}/mark-paid", headers=other.headers)).status_code == 404
    paid = await client.post(f"/v1/orders/{order_id}/mark-paid", headers=m.headers)
    assert paid.status_code == 200, paid.text
    assert paid.json()["payment_status"] == "paid" and paid.json()["paid_at"]
    assert (await client.post(f"/v1/orders/{order_id}/mark-paid", headers=m.headers)).status_code == 409
    buyer = (await client.get(f"/v1/wholesale/buyers/{b.id}", headers=m.headers)).json()
    assert (buyer["credit_used"], buyer["open_credit"]) == (30_000, 30_000)

    cancelled = await client.post(f"/v1/orders/{second['order']['id']}/cancel", headers=m.headers)
    assert cancelled.status_code == 200
    assert (await client.get(f"/v1/wholesale/buyers/{b.id}", headers=m.headers)).json()["open_credit"] == 60_000
    assert (await client.post("/v1/wholesale/orders", headers=b.headers, json=_order(b, 20))).status_code == 201


async def test_only_terms_orders_are_marked_paid_by_hand(client: httpx.AsyncClient):
    m, b = await _setup(client, credit_limit=0)
    r = await client.post("/v1/wholesale/orders", headers=b.headers, json=_order(b, 1, payment="stripe"))
    assert r.status_code == 201, r.text
    refused = await client.post(f"/v1/orders/{r.json()['order']['id']}/mark-paid", headers=m.headers)
    assert refused.status_code == 409 and "terms" in refused.json()["detail"]
    over = await client.post("/v1/wholesale/orders", headers=b.headers, json=_order(b, 1))
    assert over.status_code == 409 and over.json()["open_credit"] == 0
