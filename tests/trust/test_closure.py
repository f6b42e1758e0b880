"""Shop closure (C39): announced on the shop page at least 30 days ahead; then the shop stops selling but goes
on serving its open orders and returns."""

from datetime import timedelta

import httpx

from app.core import clock
from app.trust import closure
from tests import factories as f
from tests.trust.helpers import order_for, ship_and_deliver


async def test_a_closure_announced_less_than_30_days_ahead_is_refused(client: httpx.AsyncClient):
    s = await f.shop(client)
    r = await client.post("/v1/shop-closure", headers=s.m.headers,
                          json={"closes_at": (clock.utcnow() + timedelta(days=29)).isoformat()})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "closes_at"
    assert (await client.get(f"/v1/merchants/{s.m.id}")).json()["closes_at"] is None
    assert 'data-testid="closure-notice"' not in (await client.get(f"/shops/{s.m.id}")).text
    assert (await client.post("/v1/shop-closure", json={"closes_at": "2099-01-01T00:00:00Z"})).status_code == 401


async def test_a_closing_shop_shows_the_notice_then_closes_but_serves_open_orders_and_returns(
        client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10)
    r = await client.post("/v1/shop-closure", headers=s.m.headers, json={
        "closes_at": (clock.utcnow() + timedelta(days=30, hours=1)).isoformat(), "note": "感谢各位顾客多年的支持"})
    assert r.status_code == 201, r.text
    page = await client.get(f"/shops/{s.m.id}")
    notice = page.text.split('data-testid="closure-notice"')[1].split("</p>")[0]
    assert "停止经营" in notice and "感谢各位顾客多年的支持" in notice and "售后服务将继续履行" in notice
    buyer = await f.customer(client)
    open_order = await order_for(client, s, buyer)  # still selling during the notice
    clock.travel(timedelta(days=29))
    assert await closure.close_due_shops(app.state.sessionmaker, app.state.settings) == 0
    clock.travel(timedelta(days=1, hours=2))
    assert await closure.close_due_shops(app.state.sessionmaker, app.state.settings) == 1
    assert await closure.close_due_shops(app.state.sessionmaker, app.state.settings) == 0
    # Closed: out of every list, nothing new can be bought.
    assert (await client.get(f"/v1/products/{s.product['id']}")).status_code == 404
    assert (await client.get("/v1/products")).json()["items"] == []
    refused = await client.post("/v1/checkout", headers=buyer, json=f.checkout_body([(s.variant_id, 1)], email=None))
    assert 400 <= refused.status_code < 500, refused.text
    # The open order is still shipped and delivered, and can then be returned.
    await ship_and_deliver(client, s, open_order["id"])
    ret = await client.post(f"/v1/orders/{open_order['id']}/returns", headers=buyer, json={
        "lines": [{"variant_id": s.variant_id, "quantity": 1}], "reason": "不想要了"})
    assert ret.status_code == 201, ret.text
    admin = (await client.get("/v1/admin/merchants", headers=f.ADMIN, params={"status": "closed"})).json()
    assert [m["id"] for m in admin["items"]] == [s.m.id]
    assert (await client.post(f"/v1/admin/merchants/{s.m.id}/verify", headers=f.ADMIN)).status_code == 409
