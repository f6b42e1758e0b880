import asyncio

import httpx

from tests import factories as f
from tests.trust.helpers import delivered_order, order_for, ship_and_deliver


async def test_only_the_customer_of_a_delivered_order_reviews_it_once(client: httpx.AsyncClient):
    shop = await f.shop(client, on_hand=20)
    buyer = await f.customer(client)
    order = await order_for(client, shop, buyer)
    early = await client.post(f"/v1/orders/{order['id']}/reviews", headers=buyer, json={"rating": 5, "text": "好"})
    assert early.status_code == 409 and "delivered" in early.json()["detail"]
    await ship_and_deliver(client, shop, order["id"])
    stranger = await f.customer(client)
    other = await client.post(f"/v1/orders/{order['id']}/reviews", headers=stranger, json={"rating": 1, "text": "x"})
    assert other.status_code == 404
    as_merchant = await client.post(f"/v1/orders/{order['id']}/reviews", headers=shop.m.headers,
                                    json={"rating": 5, "text": "x"})
    assert as_merchant.status_code == 403
    anonymous = await client.post(f"/v1/orders/{order['id']}/reviews", json={"rating": 5, "text": "x"})
    assert anonymous.status_code == 401
    r = await client.post(f"/v1/orders/{order['id']}/reviews", headers=buyer,
                          json={"rating": 4, "text": "衣服很暖和 warm"})
    assert r.status_code == 201, r.text
    assert r.json()["rating"] == 4 and r.json()["merchant_id"] == shop.m.id and not r.json()["masked"]
    again = await client.post(f"/v1/orders/{order['id']}/reviews", headers=buyer, json={"rating": 1, "text": "x"})
    assert again.status_code == 409 and "already" in again.json()["detail"]


async def test_rating_is_validated(client: httpx.AsyncClient):
    _, buyer, order = await delivered_order(client)
    for bad in ({"rating": 0, "text": "x"}, {"rating": 6, "text": "x"}, {"rating": "five"}, {"text": "no rating"}):
        r = await client.post(f"/v1/orders/{order['id']}/reviews", headers=buyer, json=bad)
        assert r.status_code == 422, bad
        assert r.json()["errors"]


async def test_profile_shows_rating_and_credit_score(client: httpx.AsyncClient):
    shop = await f.shop(client, on_hand=20)
    before = (await client.get(f"/v1/merchants/{shop.m.id}")).json()
    assert before["rating"] is None and before["credit_score"] == 600 and before["credit_formula"] == "v1"
    for rating in (5, 4):
        _, buyer, order = await delivered_order(client, shop)
        r = await client.post(f"/v1/orders/{order['id']}/reviews", headers=buyer, json={"rating": rating, "text": ""})
        assert r.status_code == 201
    after = (await client.get(f"/v1/merchants/{shop.m.id}")).json()
    assert after["rating"] == 4.5 and after["rating_count"] == 2
    # v1: 600 + round(5 × (9 − 6) × 2 / 2) = 615
    assert after["credit_score"] == 615
    listed = await client.get(f"/v1/merchants/{shop.m.id}/reviews")
    assert [i["rating"] for i in listed.json()["items"]] == [4, 5]


async def test_concurrent_reviews_of_one_order_count_once(client: httpx.AsyncClient):
    shop, buyer, order = await delivered_order(client)
    results = await asyncio.gather(*[
        client.post(f"/v1/orders/{order['id']}/reviews", headers=buyer, json={"rating": 5, "text": str(i)})
        for i in range(5)])
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409, 409]
    profile = (await client.get(f"/v1/merchants/{shop.m.id}")).json()
    assert profile["rating_count"] == 1


async def test_no_one_deletes_a_review_merchant_replies_admin_masks(client: httpx.AsyncClient, admin_headers):
    shop, buyer, order = await delivered_order(client)
    review = (await client.post(f"/v1/orders/{order['id']}/reviews", headers=buyer,
                                json={"rating": 1, "text": "卖家电话 13800138000 骗子"})).json()
    for headers in (admin_headers, shop.m.headers, buyer):
        assert (await client.delete(f"/v1/reviews/{review['id']}", headers=headers)).status_code == 405
    reply = await client.post(f"/v1/reviews/{review['id']}/reply", headers=shop.m.headers,
                              json={"reply": "已联系您处理"})
    assert reply.status_code == 200 and reply.json()["reply"] == "已联系您处理"
    other = await f.merchant(client)
    assert (await client.post(f"/v1/reviews/{review['id']}/reply", headers=other.headers,
                              json={"reply": "x"})).status_code == 404
    assert (await client.post(f"/v1/admin/reviews/{review['id']}/mask", headers=shop.m.headers,
                              json={"reason": "x"})).status_code == 403
    masked = await client.post(f"/v1/admin/reviews/{review['id']}/mask", headers=admin_headers,
                               json={"reason": "个人信息保护法 第十条：公开他人手机号"})
    assert masked.status_code == 200 and masked.json()["masked"]
    assert "13800138000" not in masked.json()["text"]
    public = (await client.get(f"/v1/reviews/{review['id']}")).json()
    assert public["masked"] and public["rating"] == 1 and "13800138000" not in public["text"]
    # The original and the legal reason stay on record.
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers,
                            params={"merchant_id": shop.m.id})).json()["items"]
    entry = next(e for e in log if e["action"] == "review.mask")
    assert entry["before"]["text"] == "卖家电话 13800138000 骗子" and "个人信息保护法" in entry["after"]["reason"]
    # The bad review still counts and still shows in the list.
    assert (await client.get(f"/v1/merchants/{shop.m.id}")).json()["rating"] == 1.0


async def test_credit_counts_fulfilment_speed_and_returns_and_is_recomputable(client: httpx.AsyncClient, app,
                                                                            admin_headers):
    from app.trust import reputation as trust_reputation

    shop = await f.shop(client, on_hand=50)
    buyer = await f.customer(client)
    orders = [await order_for(client, shop, buyer) for _ in range(10)]
    for o in orders:
        await ship_and_deliver(client, shop, o["id"])
    for o in orders[:2]:
        r = await client.post(f"/v1/orders/{o['id']}/returns", headers=buyer,
                              json={"lines": [{"variant_id": shop.variant_id, "quantity": 1}], "reason": "尺码不合"})
        assert r.status_code == 201, r.text
    await client.post(f"/v1/orders/{orders[5]['id']}/reviews", headers=buyer, json={"rating": 5, "text": ""})
    c = (await client.post("/v1/complaints", json={"target_type": "merchant", "target_id": shop.m.id,
                                                   "reason": "x"})).json()
    await client.post(f"/v1/admin/complaints/{c['id']}/resolve", headers=admin_headers,
                      json={"outcome": "upheld", "note": "y"})
    # 600 + 10 (one 5-star rating) + 50 (all shipped within 48 h) − 20 (2 of 10 returned) − 40 (upheld complaint)
    assert (await client.get(f"/v1/merchants/{shop.m.id}")).json()["credit_score"] == 600
    async with app.state.sessionmaker() as s:
        running = await trust_reputation.credit_facts(s, merchant_id=shop.m.id)
        rebuilt = await trust_reputation.recompute_credit(s, merchant_id=shop.m.id)
    assert running == rebuilt
    assert (rebuilt.shipped_orders, rebuilt.shipped_within_48h, rebuilt.returned_orders) == (10, 10, 2)
