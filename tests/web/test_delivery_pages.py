"""Delivery on the server-rendered pages: the console's shipping templates and delivery promise, the delivery cost
in the cart, the checkout's Chinese reason for an address the shop does not deliver to, late shipments flagged in
the console, and the carrier chosen from the list when shipping."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx

from app.core import clock
from tests import factories as f
from tests.web.helpers import assert_good_page, csrf


async def _console(client: httpx.AsyncClient, shop: f.Shop) -> httpx.AsyncClient:
    owner = httpx.AsyncClient(transport=client._transport, base_url="http://testserver", timeout=60)
    login = (await owner.get("/console/login")).text
    r = await owner.post("/console/login", data={"csrf": csrf(login), "api_key": shop.m.api_key})
    assert r.status_code == 303, r.text
    return owner


async def test_merchant_makes_a_template_in_the_console_and_the_shop_prices_by_it(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, price=3_000)
    owner = await _console(client, shop)
    page = assert_good_page(await owner.get("/console/delivery"))
    assert "运费模板" in page and "新疆维吾尔自治区" in page
    r = await owner.post("/console/delivery/templates", data={
        "csrf": csrf(page), "name": "全国包邮（偏远地区除外）", "basis": "piece", "first": "1", "first_fee": "8",
        "each": "1", "each_fee": "2.5", "remote": ["新疆维吾尔自治区"], "remote_first_fee": "25",
        "remote_each_fee": "15", "excluded": ["西藏自治区"], "free_over_amount": "99", "free_over_count": ""})
    assert r.status_code == 303, r.text[:2000]
    page = assert_good_page(await owner.get("/console/delivery"))
    assert "全国包邮（偏远地区除外）" in page and "首 1 件 ¥8.00，每增加 1 件加 ¥2.50" in page
    assert "西藏自治区" in page.split('data-testid="template"')[1]
    [template_id] = re.findall(r"<code>(stp_[^<]+)</code>", page)
    bad = await owner.post("/console/delivery/templates", data={"csrf": csrf(page), "name": "x", "first": "0",
                                                                "first_fee": "abc"})
    assert bad.status_code == 422 and "first" in bad.text
    promise = await owner.post("/console/delivery/promise", data={"csrf": csrf(page), "ship_within_hours": "24",
                                                                  "delivery_days": "3"})
    assert promise.status_code == 303
    assert (await client.get("/v1/delivery-promise", headers=shop.m.headers)).json() == {
        "ship_within_hours": 24, "delivery_days": 3}
    edit = assert_good_page(await owner.get(f"/console/catalog/products/{shop.product['id']}"))
    assert f'<option value="{template_id}">全国包邮（偏远地区除外）</option>' in edit
    p = shop.product
    r = await owner.post(f"/console/catalog/products/{p['id']}", data={
        "csrf": csrf(edit), "title": p["title"], "category": p["category"], "description": p["description"],
        "status": "active", "shipping_template_id": template_id})
    assert r.status_code == 303, r.text[:2000]
    got = await client.get(f"/v1/products/{p['id']}", headers=shop.m.headers)
    assert got.json()["shipping_template_id"] == template_id
    # The cart shows the delivery cost before checkout: 2 pieces, ¥8.00 + ¥2.50
    product = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    await client.post("/cart/items", data={"csrf": csrf(product), "variant_id": shop.variant_id, "quantity": "2",
                                           "next": "/cart"})
    cart = assert_good_page(await client.get("/cart"))
    assert re.search(r'data-testid="cart-shipping">¥10\.50<', cart), cart[-3000:]
    # The checkout refuses 西藏 in Chinese, beside the province
    page = assert_good_page(await client.get("/checkout"))
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key
    form = {"csrf": csrf(page), "key": key.group(1), "email": "guest@example.com", "fulfilment": "delivery",
            "name": "扎西", "phone": "13912345678", "province": "西藏自治区", "city": "拉萨市", "district": "城关区",
            "line1": "北京中路 1 号", "postal_code": "850000", "payment_method": "cod", "country": "CN"}
    refused = await client.post("/checkout", data=form)
    assert refused.status_code == 422
    assert "抱歉，该商家暂不配送到西藏自治区，请更换收货地址。" in refused.text
    form |= {"province": "浙江省", "city": "杭州市", "district": "西湖区", "postal_code": "310012"}
    placed = await client.post("/checkout", data=form)
    assert placed.status_code == 303, placed.text[:2000]


async def test_console_flags_a_late_shipment_and_ships_with_a_listed_carrier(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=5)
    order = (await client.post("/v1/checkout", json=f.checkout_body([(shop.variant_id, 1)]))).json()["orders"][0]
    owner = await _console(client, shop)
    page = assert_good_page(await owner.get(f"/console/orders/{order['id']}"))
    assert 'data-testid="late-shipment"' not in page and "承诺发货时间" in page
    assert '<option value="SF">顺丰速运</option>' in page and '<option value="DEPPON">德邦快递</option>' in page
    clock.travel(timedelta(hours=49))  # past the default 48 h promise
    listed = assert_good_page(await owner.get("/console/orders", params={"late": "late"}))
    assert order["number"] in listed and "发货超时" in listed
    page = assert_good_page(await owner.get(f"/console/orders/{order['id']}"))
    assert 'data-testid="late-shipment"' in page
    wrong = await owner.post(f"/console/orders/{order['id']}/ship", data={"csrf": csrf(page), "carrier": "SF",
                                                                          "tracking_no": "12345"})
    assert wrong.status_code == 422 and (await client.get(f"/v1/orders/{order['id']}", headers=shop.m.headers)
                                         ).json()["status"] == "confirmed"
    r = await owner.post(f"/console/orders/{order['id']}/ship", data={"csrf": csrf(page), "carrier": "SF",
                                                                      "tracking_no": "SF1234567890123"})
    assert r.status_code == 303, r.text[:2000]
    got = (await client.get(f"/v1/orders/{order['id']}", headers=shop.m.headers)).json()
    assert got["status"] == "shipped" and got["late_shipment"] is True
    page = assert_good_page(await owner.get(f"/console/orders/{order['id']}"))
    assert "顺丰速运" in page and 'data-testid="late-shipment"' in page
