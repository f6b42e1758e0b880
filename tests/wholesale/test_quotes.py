"""Quotes (RFQ): the buyer asks, the merchant prices, the buyer accepts into an order; expired quotes cannot."""

from datetime import timedelta

import httpx

from app.core import clock
from tests import factories as f


async def _setup(client: httpx.AsyncClient):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    await f.wholesale_product(client, m, wh, sku="RICE-5KG")
    await f.wholesale_product(client, m, wh, sku="OIL-20L", price=20_000, moq=1, pack_size=1, tiers=())
    return m, await f.buyer(client, m)


def _later(hours: int) -> str:
    return (clock.utcnow() + timedelta(hours=hours)).isoformat()


async def test_request_answer_accept(client: httpx.AsyncClient, app):
    m, b = await _setup(client)
    q = await client.post("/v1/wholesale/quotes", headers=b.headers, json={
        "merchant_id": m.id, "lines": [{"sku": "RICE-5KG", "quantity": 500}, {"sku": "OIL-20L", "quantity": 3}]})
    assert q.status_code == 201, q.text
    quote = q.json()
    assert quote["status"] == "requested" and [ln["unit_price"] for ln in quote["lines"]] == [None, None]
    early = await client.post(f"/v1/wholesale/quotes/{quote['id']}/accept", headers=b.headers)
    assert early.status_code == 409
    missing = await client.post(f"/v1/wholesale/quotes/{quote['id']}/respond", headers=m.headers, json={
        "lines": [{"sku": "RICE-5KG", "unit_price": 650}], "valid_until": _later(24)})
    assert missing.status_code == 422 and "OIL-20L" in missing.text
    other = await f.merchant(client)
    assert (await client.post(f"/v1/wholesale/quotes/{quote['id']}/respond", headers=other.headers, json={
        "lines": [{"sku": "RICE-5KG", "unit_price": 1}], "valid_until": _later(24)})).status_code == 404
    answered = await client.post(f"/v1/wholesale/quotes/{quote['id']}/respond", headers=m.headers, json={
        "lines": [{"sku": "RICE-5KG", "unit_price": 650}, {"sku": "OIL-20L", "unit_price": 18_000}],
        "valid_until": _later(24)})
    assert answered.status_code == 200 and answered.json()["status"] == "answered"
    accepted = await client.post(f"/v1/wholesale/quotes/{quote['id']}/accept",
                                 headers={**b.headers, "Idempotency-Key": "q-1"})
    assert accepted.status_code == 201, accepted.text
    order = accepted.json()["order"]
    assert [(ln["sku"], ln["unit_price"]) for ln in order["lines"]] == [("RICE-5KG", 650), ("OIL-20L", 18_000)]
    assert order["total"] == 500 * 650 + 3 * 18_000 and order["channel"] == "wholesale"
    replay = await client.post(f"/v1/wholesale/quotes/{quote['id']}/accept",
                               headers={**b.headers, "Idempotency-Key": "q-1"})
    assert replay.json() == accepted.json()
    twice = await client.post(f"/v1/wholesale/quotes/{quote['id']}/accept", headers=b.headers)
    assert twice.status_code == 409
    seen = (await client.get(f"/v1/wholesale/quotes/{quote['id']}", headers=b.headers)).json()
    assert seen["status"] == "accepted" and seen["order_id"] == order["id"]
    assert await f.levels(app) == await f.ledger(app)


async def test_an_expired_quote_cannot_be_accepted(client: httpx.AsyncClient, app):
    m, b = await _setup(client)
    quote = (await client.post("/v1/wholesale/quotes", headers=b.headers, json={
        "merchant_id": m.id, "lines": [{"sku": "OIL-20L", "quantity": 2}]})).json()
    past = await client.post(f"/v1/wholesale/quotes/{quote['id']}/respond", headers=m.headers, json={
        "lines": [{"sku": "OIL-20L", "unit_price": 15_000}], "valid_until": _later(-1)})
    assert past.status_code == 422
    await client.post(f"/v1/wholesale/quotes/{quote['id']}/respond", headers=m.headers, json={
        "lines": [{"sku": "OIL-20L", "unit_price": 15_000}], "valid_until": _later(2)})
    clock.travel(timedelta(hours=3))
    r = await client.post(f"/v1/wholesale/quotes/{quote['id']}/accept", headers=b.headers)
    assert r.status_code == 409 and "expired" in r.json()["detail"]
    assert (await client.get("/v1/orders", headers=b.headers)).json()["items"] == []


async def test_quotes_are_private_and_checked(client: httpx.AsyncClient):
    m, b = await _setup(client)
    bad = await client.post("/v1/wholesale/quotes", headers=b.headers, json={
        "merchant_id": m.id, "lines": [{"sku": "NOPE", "quantity": 2}, {"sku": "OIL-20L", "quantity": 1},
                                       {"sku": "OIL-20L", "quantity": 1}]})
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["lines.0.sku", "lines.2.sku"]
    quote = (await client.post("/v1/wholesale/quotes", headers=b.headers, json={
        "merchant_id": m.id, "lines": [{"sku": "OIL-20L", "quantity": 2}]})).json()
    other_buyer = await f.buyer(client, m)
    assert (await client.get(f"/v1/wholesale/quotes/{quote['id']}", headers=other_buyer.headers)).status_code == 404
    assert (await client.get(f"/v1/wholesale/quotes/{quote['id']}", headers=m.headers)).status_code == 200
