"""Stock moves through the API: adjustments with a reason, transfers through transit, low-stock events; the
ledger always equals the levels (the rebuild check), on both databases."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from app.core.models import OutboxEvent
from app.inventory import service as inventory_service
from app.inventory.moves import service as moves_service
from tests import factories as f


async def _consistent(app: Any) -> None:
    assert await f.levels(app) == await f.ledger(app)
    async with app.state.sessionmaker() as session:
        assert await inventory_service.rebuild_levels(session) == 0


async def _on_hand(client: httpx.AsyncClient, m: f.MerchantCtx, sku: str) -> dict[str, int]:
    got = (await client.get(f"/v1/inventory/{sku}", params={"merchant_id": m.id}, headers=m.headers)).json()
    return {loc["location_id"]: loc["on_hand"] for loc in got["locations"]}


async def _events(app: Any, kind: str) -> list[dict[str, Any]]:
    async with app.state.sessionmaker() as session:
        return [e.payload for e in (await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == kind)
                                                           .order_by(OutboxEvent.seq))).all()]


async def test_adjustments_keep_a_reason_and_never_take_promised_units(client: httpx.AsyncClient, app: Any) -> None:
    s = await f.shop(client, on_hand=10, store_on_hand=0)
    path = f"/v1/locations/{s.warehouse['id']}/stock/{s.sku}/adjust"
    r = await client.post(path, headers={**s.m.headers, "Idempotency-Key": "adj-1"},
                          json={"quantity": -3, "reason": "damaged", "note": "箱子压坏"})
    assert r.status_code == 200 and r.json()["on_hand"] == 7, r.text
    again = await client.post(path, headers={**s.m.headers, "Idempotency-Key": "adj-1"},
                              json={"quantity": -3, "reason": "damaged", "note": "箱子压坏"})
    assert again.json()["on_hand"] == 7  # the retry changed nothing
    order = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 5)]))
    assert order.status_code == 201, order.text
    refused = await client.post(path, headers=s.m.headers, json={"quantity": -3, "reason": "shrinkage"})
    assert refused.status_code == 409  # 7 on hand, 5 promised: only 2 may go
    found = await client.post(path, headers=s.m.headers, json={"quantity": 4, "reason": "found"})
    assert found.json()["on_hand"] == 11 and found.json()["reserved"] == 5
    for body, field in (({"quantity": 0, "reason": "found"}, "body"), ({"quantity": 1, "reason": "stolen"}, "reason")):
        bad = await client.post(path, headers=s.m.headers, json=body)
        assert bad.status_code == 422 and field in bad.json()["errors"][0]["field"]
    other = await f.merchant(client)
    assert (await client.post(path, headers=other.headers, json={"quantity": 1, "reason": "found"})).status_code == 404
    await _consistent(app)


async def test_a_transfer_leaves_goes_in_transit_and_arrives(client: httpx.AsyncClient, app: Any) -> None:
    s = await f.shop(client, on_hand=20, store_on_hand=2)
    w, st = s.warehouse["id"], s.store["id"]
    r = await client.post("/v1/transfers", headers=s.m.headers, json={
        "from_location_id": w, "to_location_id": st, "lines": [{"sku": s.sku, "quantity": 8}], "note": "补货"})
    assert r.status_code == 201, r.text
    transfer = r.json()
    assert transfer["status"] == "in_transit" and transfer["lines"] == [{"sku": s.sku, "quantity": 8}]
    assert await _on_hand(client, s.m, s.sku) == {w: 12, st: 2}  # 8 units are on the road
    await _consistent(app)
    received = await client.post(f"/v1/transfers/{transfer['id']}/receive", headers=s.m.headers)
    assert received.status_code == 200 and received.json()["status"] == "received"
    assert await _on_hand(client, s.m, s.sku) == {w: 12, st: 10}
    assert (await client.post(f"/v1/transfers/{transfer['id']}/receive", headers=s.m.headers)).status_code == 409
    back = (await client.post("/v1/transfers", headers=s.m.headers, json={
        "from_location_id": st, "to_location_id": w, "lines": [{"sku": s.sku, "quantity": 10}]})).json()
    assert await _on_hand(client, s.m, s.sku) == {w: 12, st: 0}
    cancelled = await client.post(f"/v1/transfers/{back['id']}/cancel", headers=s.m.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert await _on_hand(client, s.m, s.sku) == {w: 12, st: 10}
    short = await client.post("/v1/transfers", headers=s.m.headers, json={
        "from_location_id": w, "to_location_id": st, "lines": [{"sku": s.sku, "quantity": 13}]})
    assert short.status_code == 409 and short.json()["skus"] == [s.sku]
    assert await _on_hand(client, s.m, s.sku) == {w: 12, st: 10}
    other = await f.merchant(client)
    assert (await client.get(f"/v1/transfers/{transfer['id']}", headers=other.headers)).status_code == 404
    theirs = await client.post("/v1/transfers", headers=other.headers, json={
        "from_location_id": w, "to_location_id": st, "lines": [{"sku": s.sku, "quantity": 1}]})
    assert theirs.status_code == 422 and theirs.json()["errors"][0]["field"] == "from_location_id"
    await _consistent(app)


async def test_low_stock_is_announced_once_until_it_recovers(client: httpx.AsyncClient, app: Any) -> None:
    s = await f.shop(client, on_hand=10, store_on_hand=0)
    w = s.warehouse["id"]
    r = await client.put(f"/v1/locations/{w}/stock/{s.sku}/threshold", headers=s.m.headers, json={"low_stock": 4})
    assert r.status_code == 200 and r.json()["low_stock"] == 4
    assert (await client.get("/v1/stock/low", headers=s.m.headers)).json() == []
    await client.post(f"/v1/locations/{w}/stock/{s.sku}/adjust", headers=s.m.headers,
                      json={"quantity": -6, "reason": "damaged"})
    low = await _events(app, "stock.low")
    assert len(low) == 1 and low[0]["available"] == 4 and low[0]["sku"] == s.sku
    listed = (await client.get("/v1/stock/low", headers=s.m.headers)).json()
    assert [(x["sku"], x["available"], x["low_stock"]) for x in listed] == [(s.sku, 4, 4)]
    # An order takes it lower: the periodic check does not announce it again.
    assert (await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)]))).status_code == 201
    assert await moves_service.low_stock_job(app.state.sessionmaker, app.state.settings) == 0
    await client.post(f"/v1/locations/{w}/stock/{s.sku}/adjust", headers=s.m.headers,
                      json={"quantity": 10, "reason": "found"})
    assert (await client.get("/v1/stock/low", headers=s.m.headers)).json() == []
    # Sold down again, by an order this time: the periodic check announces it.
    assert (await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 9)]))).status_code == 201
    assert await moves_service.low_stock_job(app.state.sessionmaker, app.state.settings) == 1
    assert [e["available"] for e in await _events(app, "stock.low")] == [4, 3]  # 14 on hand - 2 - 9 reserved
