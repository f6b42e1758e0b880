from datetime import timedelta

import httpx

from app.core import clock
from tests import factories as f


async def _delivered_order(client: httpx.AsyncClient, s: f.Shop, headers, quantity: int = 2, method: str = "cod"):
    r = await client.post("/v1/checkout", headers=headers,
                          json=f.checkout_body([(s.variant_id, quantity)], email=None, method=method))
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    shipped = await client.post(f"/v1/orders/{order['id']}/shipments", headers=s.m.headers,
                                json={"carrier": "SF", "tracking_no": "SF1234567890123"})
    assert shipped.status_code == 201, shipped.text
    assert shipped.json()["status"] == "shipped" and shipped.json()["shipments"][0]["carrier"] == "SF"
    delivered = await client.post(f"/v1/orders/{order['id']}/deliver", headers=s.m.headers)
    assert delivered.status_code == 200
    return delivered.json()


async def test_ship_deliver_complete_moves_stock_and_cash(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10, price=6_000)
    headers = await f.customer(client)
    order = await _delivered_order(client, s, headers)
    assert order["status"] == "delivered" and order["payment_status"] == "paid"  # cash on delivery collected
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (8, 0)
    cancel = await client.post(f"/v1/orders/{order['id']}/cancel", headers=headers)
    assert cancel.status_code == 409 and cancel.json()["status"] == 409
    done = await client.post(f"/v1/orders/{order['id']}/complete", headers=headers)
    assert done.json()["status"] == "completed"
    assert await f.levels(app) == await f.ledger(app)


async def test_only_the_merchant_ships(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=10)
    headers = await f.customer(client)
    r = await client.post("/v1/checkout", headers=headers, json=f.checkout_body([(s.variant_id, 1)], email=None))
    order_id = r.json()["orders"][0]["id"]
    assert (await client.post(f"/v1/orders/{order_id}/shipments", headers=headers,
                              json={"carrier": "x", "tracking_no": "1"})).status_code == 403
    other = await f.merchant(client)
    assert (await client.post(f"/v1/orders/{order_id}/shipments", headers=other.headers,
                              json={"carrier": "x", "tracking_no": "1"})).status_code == 404


async def test_return_on_day_3_refunds_and_restocks(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10, price=6_000)
    headers = await f.customer(client)
    order = await _delivered_order(client, s, headers, quantity=3)
    clock.travel(timedelta(days=3))
    r = await client.post(f"/v1/orders/{order['id']}/returns", headers=headers,
                          json={"lines": [{"variant_id": s.variant_id, "quantity": 2}], "reason": "不合适"})
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "refunded" and r.json()["amount"] == 12_000
    got = (await client.get(f"/v1/orders/{order['id']}", headers=headers)).json()
    assert got["refunded"] == 12_000 and got["payment_status"] == "partially_refunded"
    assert got["lines"][0]["returned_quantity"] == 2
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (9, 0)  # 10 - 3 shipped + 2 back
    too_many = await client.post(f"/v1/orders/{order['id']}/returns", headers=headers,
                                 json={"lines": [{"variant_id": s.variant_id, "quantity": 2}]})
    assert too_many.status_code == 422 and too_many.json()["errors"][0]["field"] == "lines.0.quantity"
    assert await f.levels(app) == await f.ledger(app)


async def test_return_on_day_8_is_refused(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10)
    headers = await f.customer(client)
    order = await _delivered_order(client, s, headers)
    clock.travel(timedelta(days=8))
    before = await f.levels(app)
    r = await client.post(f"/v1/orders/{order['id']}/returns", headers=headers,
                          json={"lines": [{"variant_id": s.variant_id, "quantity": 1}]})
    assert r.status_code == 422
    assert "7-day return window has ended" in r.json()["detail"]
    assert await f.levels(app) == before


async def test_fresh_food_is_excluded(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=10, category="fresh")
    headers = await f.customer(client)
    order = await _delivered_order(client, s, headers)
    r = await client.post(f"/v1/orders/{order['id']}/returns", headers=headers,
                          json={"lines": [{"variant_id": s.variant_id, "quantity": 1}]})
    assert r.status_code == 422 and "excluded" in r.json()["detail"]


async def test_stripe_return_refunds_through_stripe(client: httpx.AsyncClient, fake_stripe, app):
    from tests.conftest import WEBHOOK_SECRET

    s = await f.shop(client, on_hand=10, price=15_000)
    headers = await f.customer(client)
    r = await client.post("/v1/checkout", headers=headers,
                          json=f.checkout_body([(s.variant_id, 1)], email=None, method="stripe"))
    order = r.json()["orders"][0]
    [pi_id] = fake_stripe.payment_intents
    payload, sig = fake_stripe.webhook("payment_intent.succeeded", fake_stripe.succeed(pi_id), WEBHOOK_SECRET)
    await client.post("/v1/payments/stripe/webhook", content=payload, headers={"Stripe-Signature": sig})
    await client.post(f"/v1/orders/{order['id']}/shipments", headers=s.m.headers,
                      json={"carrier": "EMS", "tracking_no": "EA123456789CN"})
    await client.post(f"/v1/orders/{order['id']}/deliver", headers=s.m.headers)
    ret = await client.post(f"/v1/orders/{order['id']}/returns", headers=headers,
                            json={"lines": [{"variant_id": s.variant_id, "quantity": 1}]})
    assert ret.status_code == 201 and ret.json()["status"] == "refunded"
    assert [x["amount"] for x in fake_stripe.refunds.values()] == [15_000]


async def test_pickup_in_store_with_code(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=0, store_on_hand=2)
    device = (await client.post(f"/v1/locations/{s.store['id']}/devices", headers=s.m.headers,
                                json={"name": "till"})).json()
    headers = await f.customer(client)
    r = await client.post("/v1/checkout", headers=headers, json=f.checkout_body(
        [(s.variant_id, 1)], email=None, fulfilment={"type": "pickup", "location_id": s.store["id"]}))
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    assert order["shipping"] == 0 and len(order["pickup_code"]) == 6
    assert (await f.levels(app))[(s.store["id"], s.variant_id)] == (2, 1)
    # Another store's device cannot see it; the wrong code is refused.
    other_store = await f.location(client, s.m, kind="store")
    other_device = (await client.post(f"/v1/locations/{other_store['id']}/devices", headers=s.m.headers,
                                      json={"name": "till 2"})).json()
    denied = await client.post(f"/v1/orders/{order['id']}/collect", headers=f.bearer(other_device["token"]),
                               json={"pickup_code": order["pickup_code"]})
    assert denied.status_code == 404
    wrong = "000000" if order["pickup_code"] != "000000" else "111111"
    bad = await client.post(f"/v1/orders/{order['id']}/collect", headers=f.bearer(device["token"]),
                            json={"pickup_code": wrong})
    assert bad.status_code == 422
    ok = await client.post(f"/v1/orders/{order['id']}/collect", headers=f.bearer(device["token"]),
                           json={"pickup_code": order["pickup_code"]})
    assert ok.status_code == 200 and ok.json()["status"] == "completed" and ok.json()["payment_status"] == "paid"
    assert (await f.levels(app))[(s.store["id"], s.variant_id)] == (1, 0)
    # Nothing at the store? Pick-up there is refused even though nothing else could serve it.
    r = await client.post("/v1/checkout", json=f.checkout_body(
        [(s.variant_id, 5)], fulfilment={"type": "pickup", "location_id": s.store["id"]}))
    assert r.status_code == 409


async def test_delivery_ships_from_store_when_the_warehouse_is_short(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=1, store_on_hand=3)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)]))
    assert r.status_code == 201
    lv = await f.levels(app)
    assert lv[(s.store["id"], s.variant_id)] == (3, 2) and lv[(s.warehouse["id"], s.variant_id)] == (1, 0)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)]))
    assert r.status_code == 201  # split: 1 from the store, 1 from the warehouse
    lv = await f.levels(app)
    assert lv[(s.store["id"], s.variant_id)] == (3, 3) and lv[(s.warehouse["id"], s.variant_id)] == (1, 1)
