"""Return duties (C35): the buyer of an order can always reach the seller's real identity, a seller accepts the
return rules in force before it sells, and returned goods sold again carry a condition label."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from app.core import clock
from tests import factories as f


async def _buy(client: httpx.AsyncClient, headers: dict[str, str], variant_id: str) -> httpx.Response:
    return await client.post("/v1/checkout", headers=headers, json=f.checkout_body([(variant_id, 1)], email=None))


async def _delivered_order(client: httpx.AsyncClient, shop: f.Shop, buyer: dict[str, str]) -> dict[str, Any]:
    r = await _buy(client, buyer, shop.variant_id)
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    s = await client.post(f"/v1/orders/{order['id']}/shipments", headers=shop.m.headers,
                          json={"carrier": "SF", "tracking_no": "SF1234567890123"})
    assert s.status_code == 201, s.text
    assert (await client.post(f"/v1/orders/{order['id']}/deliver", headers=shop.m.headers)).status_code == 200
    return dict(order)


async def test_the_buyer_and_the_platform_get_the_sellers_legal_name_address_and_phone(client: httpx.AsyncClient):
    r = await client.post("/v1/merchants", json={
        "name": "上海好物贸易有限公司", "kind": "enterprise", "licence_no": "91350100M000100Y43",
        "contact_email": "shop@haowu.example.com", "registered_address": "上海市徐汇区淮海中路 999 号 12 楼",
        "legal_representative": "王五", "contact_phone": "021-64001234"})
    assert r.status_code == 201, r.text
    m = f.MerchantCtx(r.json()["id"], r.json()["api_key"])
    assert (await client.post(f"/v1/admin/merchants/{m.id}/verify", headers=f.ADMIN)).status_code == 200
    wh = await f.location(client, m)
    p = await f.product(client, m)
    await f.stock(client, m, wh, p["variants"][0]["sku"], 5)
    buyer, stranger = await f.customer(client), await f.customer(client)
    placed = await _buy(client, buyer, p["variants"][0]["id"])
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["orders"][0]["id"]

    mine = await client.get(f"/v1/orders/{order_id}/seller-contact", headers=buyer)
    assert mine.status_code == 200, mine.text
    assert mine.json() == {
        "order_id": order_id, "merchant_id": m.id, "legal_name": "上海好物贸易有限公司", "kind": "enterprise",
        "legal_representative": "王五", "registered_address": "上海市徐汇区淮海中路 999 号 12 楼",
        "contact_phone": "021-64001234", "contact_email": "shop@haowu.example.com"}
    platform = await client.get(f"/v1/orders/{order_id}/seller-contact", headers=f.ADMIN)
    assert platform.status_code == 200 and platform.json()["contact_phone"] == "021-64001234"
    # Another buyer learns nothing, not even that the order exists: 404 as for any order read.
    other = await client.get(f"/v1/orders/{order_id}/seller-contact", headers=stranger)
    assert other.status_code == 404 and "王五" not in other.text
    assert (await client.get(f"/v1/orders/{order_id}", headers=stranger)).status_code == 404
    assert (await client.get(f"/v1/orders/{order_id}/seller-contact")).status_code == 401


async def test_a_seller_accepts_the_return_rules_in_force_before_it_puts_listings_on_sale(
        client: httpx.AsyncClient):
    published = await client.post("/v1/admin/rules", headers=f.ADMIN, json={
        "version": "2027.1", "category": "consumer_protection", "title": "七日无理由退货规则",
        "body": "第一条 消费者自签收次日起七日内可无理由退货。", "summary": "退货规则首版",
        "effective_at": (clock.utcnow() + timedelta(days=8)).isoformat()})
    assert published.status_code == 201, published.text
    clock.travel(timedelta(days=8, minutes=1))  # now in force

    newcomer = await f.merchant(client)  # verified, but has not accepted the return rules
    on_sale = await client.post("/v1/products", headers=newcomer.headers, json=f.product_body(status="active"))
    assert on_sale.status_code == 403
    assert "return rules" in on_sale.json()["detail"] and "2027.1" in on_sale.json()["detail"]
    draft = await client.post("/v1/products", headers=newcomer.headers, json=f.product_body(status="draft"))
    assert draft.status_code == 201, draft.text
    url = f"/v1/products/{draft.json()['id']}"
    assert (await client.patch(url, headers=newcomer.headers, json={"status": "active"})).status_code == 403
    assert (await client.post("/v1/products/bulk-edit", headers=newcomer.headers, json={
        "product_ids": [draft.json()["id"]], "status": "active"})).status_code == 403

    # Refusing rules already in force is too late; accepting them is the newcomer's onboarding.
    other = await f.merchant(client)
    assert (await client.post("/v1/rules/versions/2027.1/decision", headers=other.headers,
                              json={"decision": "refuse"})).status_code == 409
    accepted = await client.post("/v1/rules/versions/2027.1/decision", headers=newcomer.headers,
                                 json={"decision": "accept"})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["version"] == "2027.1" and accepted.json()["decided_at"]
    live = await client.patch(url, headers=newcomer.headers, json={"status": "active"})
    assert live.status_code == 200 and live.json()["status"] == "active"
    answers = (await client.get("/v1/admin/rules/versions/2027.1/decisions", headers=f.ADMIN)).json()["items"]
    assert [(a["merchant_id"], a["decision"]) for a in answers] == [(newcomer.id, "accept")]
    assert answers[0]["decided_at"]  # when it accepted, kept with the version
    # The seller that did not accept still keeps drafts only.
    assert (await client.post("/v1/products", headers=other.headers,
                              json=f.product_body(status="active"))).status_code == 403


async def _one_unit_returned(client: httpx.AsyncClient) -> tuple[f.Shop, dict[str, str], str]:
    """A shop whose delivered order had one unit returned (refund on request): the shop, a second buyer, and the
    return's receive path."""
    shop = await f.shop(client, on_hand=5)
    first, second = await f.customer(client), await f.customer(client)
    order = await _delivered_order(client, shop, first)
    returned = await client.post(f"/v1/orders/{order['id']}/returns", headers=first, json={
        "lines": [{"variant_id": shop.variant_id, "quantity": 1}], "reason": "不合适"})
    assert returned.status_code == 201, returned.text
    return shop, second, f"/v1/orders/{order['id']}/returns/{returned.json()['id']}/receive"


async def test_a_returned_sku_sells_again_only_with_a_condition_label_shown_on_its_page(
        client: httpx.AsyncClient):
    shop, second, path = await _one_unit_returned(client)
    received = await client.post(path, headers=shop.m.headers, json={"goods_condition": "not_as_new"})
    assert received.status_code == 200 and received.json()["goods_condition"] == "not_as_new", received.text

    # The unit is back on hand not as new: the SKU is off sale until the seller labels its condition.
    refused = await _buy(client, second, shop.variant_id)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "lines.0.variant_id"
    url = f"/v1/products/{shop.product['id']}"
    bad = await client.patch(url, headers=shop.m.headers,
                             json={"variants": [{"sku": shop.sku, "condition_label": "全新"}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("variants.0.condition_label")
    labelled = await client.patch(url, headers=shop.m.headers,
                                  json={"variants": [{"sku": shop.sku, "condition_label": "二次销售"}]})
    assert labelled.status_code == 200, labelled.text
    assert labelled.json()["variants"][0]["condition_label"] == "二次销售"
    assert (await _buy(client, second, shop.variant_id)).status_code == 201
    assert (await client.get(url)).json()["variants"][0]["condition_label"] == "二次销售"
    page = await client.get(f"/products/{shop.product['id']}")
    assert page.status_code == 200
    assert "二次销售" in page.text.split('data-testid="condition-label"')[1].split("</p>")[0]


async def test_goods_received_as_new_sell_again_without_a_label(client: httpx.AsyncClient):
    shop, second, path = await _one_unit_returned(client)
    bad = await client.post(path, headers=shop.m.headers, json={"goods_condition": "like new"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "goods_condition"
    received = await client.post(path, headers=shop.m.headers)  # no body: as new
    assert received.status_code == 200 and received.json()["goods_condition"] == "as_new", received.text
    assert (await _buy(client, second, shop.variant_id)).status_code == 201
    page = await client.get(f"/products/{shop.product['id']}")
    assert 'data-testid="condition-label"' not in page.text


async def test_a_sku_never_returned_needs_no_label(client: httpx.AsyncClient):
    shop = await f.shop(client, on_hand=5)
    assert (await _buy(client, await f.customer(client), shop.variant_id)).status_code == 201
    page = await client.get(f"/products/{shop.product['id']}")
    assert 'data-testid="condition-label"' not in page.text
