"""Server-rendered pages through real HTTP calls: storefront, checkout by form, console, leader page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import httpx

from app.core import clock
from app.core.clock import SHANGHAI
from tests import factories as f
from tests.web.helpers import assert_good_page, csrf


async def _buy_pickup(client: httpx.AsyncClient, shop: f.Shop) -> str:
    """A guest buys one unit for pick-up at the store, paying cash, through the forms; the order id."""
    page = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    r = await client.post("/cart/items", data={"csrf": csrf(page), "variant_id": shop.variant_id, "quantity": "1",
                                               "next": f"/products/{shop.product['id']}"})
    assert r.status_code == 303
    cart = assert_good_page(await client.get("/cart"))
    assert shop.product["title"] in cart
    page = assert_good_page(await client.get("/checkout"))
    assert "徐汇店" in page
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key
    r = await client.post("/checkout", data={
        "csrf": csrf(page), "key": key.group(1), "email": "guest@example.com", "fulfilment": "pickup",
        "location_id": shop.store["id"], "payment_method": "cod", "country": "CN"})
    assert r.status_code == 303, r.text[:3000]
    order_id = r.headers["location"].split("/orders/")[1].split("?")[0]
    return order_id


async def test_storefront_pages_search_in_chinese_and_show_store_stock(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=5, store_on_hand=3)
    home = assert_good_page(await client.get("/"))
    assert shop.product["title"] in home and "服装" in home
    found = assert_good_page(await client.get("/search", params={"q": "羽绒"}))
    assert shop.product["title"] in found
    none = assert_good_page(await client.get("/search", params={"q": "不存在的东西"}))
    assert shop.product["title"] not in none
    page = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    # Availability in words, never a count per place.
    assert "有货 · 可到店自提: 徐汇店" in page and "3 件" not in page
    assert (await client.get("/products/prd_nope")).status_code == 404


async def test_language_switch_renders_english(client: httpx.AsyncClient) -> None:
    await f.shop(client)
    r = await client.get("/lang/en", params={"next": "/cart"})
    assert r.status_code == 303 and r.headers["location"] == "/cart"
    page = assert_good_page(await client.get("/cart"))
    assert "Your cart is empty." in page and '<html lang="en"' in page
    assert (await client.get("/lang/zh", params={"next": "//evil.example"})).headers["location"] == "/"


async def test_guest_buys_for_pickup_and_the_store_collects(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=0, store_on_hand=2)
    order_id = await _buy_pickup(client, shop)
    page = assert_good_page(await client.get(f"/orders/{order_id}?placed=1"))
    code = re.search(r'data-testid="pickup-code">(\w+)<', page)
    assert code, page
    assert "已确认" in page
    # another browser cannot read the order
    async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as other:
        assert (await other.get(f"/orders/{order_id}")).status_code == 404
    till = await f.device(client, shop.m, shop.store)
    r = await client.post(f"/v1/orders/{order_id}/collect", headers=till, json={"pickup_code": code.group(1)})
    assert r.status_code == 200, r.text
    page = assert_good_page(await client.get(f"/orders/{order_id}"))
    assert "已完成" in page and "pickup-code" not in page


async def test_checkout_form_errors_are_shown_and_change_nothing(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=3)
    page = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    bad = await client.post("/cart/items", data={"csrf": csrf(page), "variant_id": "var_nope", "quantity": "1"})
    assert bad.status_code == 422 and "这件商品已下架" in bad.text
    await client.post("/cart/items", data={"csrf": csrf(page), "variant_id": shop.variant_id, "quantity": "1"})
    page = assert_good_page(await client.get("/checkout"))
    r = await client.post("/checkout", data={"csrf": csrf(page), "email": "not-an-email", "fulfilment": "delivery",
                                             "payment_method": "cod"})
    assert r.status_code == 422
    assert 'role="alert"' in r.text
    orders = await client.get("/v1/orders", headers=shop.m.headers)
    assert orders.json()["items"] == []
    r = await client.post("/checkout", data={"fulfilment": "delivery", "payment_method": "cod"})
    assert r.status_code == 403  # no form token


async def test_console_login_orders_and_chart(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=0, store_on_hand=2)
    order_id = await _buy_pickup(client, shop)
    r = await client.get("/console/")
    assert r.status_code == 303 and r.headers["location"] == "/console/login"
    login = assert_good_page(await client.get("/console/login"))
    bad = await client.post("/console/login", data={"csrf": csrf(login), "api_key": "sk_wrong"})
    assert bad.status_code == 401
    r = await client.post("/console/login", data={"csrf": csrf(login), "api_key": shop.m.api_key})
    assert r.status_code == 303
    dash = assert_good_page(await client.get("/console/"))
    assert "<svg" in dash and 'class="bar-online"' in dash and order_id in dash
    for path in ("/console/products", "/console/stock", "/console/orders", "/console/devices", "/console/conflicts",
                 "/console/wholesale", "/console/group-buys", "/console/reports/channel-share"):
        assert_good_page(await client.get(path))
    detail = assert_good_page(await client.get(f"/console/orders/{order_id}"))
    r = await client.post(f"/console/orders/{order_id}/cancel", data={"csrf": csrf(detail), "reason": "缺货"})
    assert r.status_code == 303
    api = await client.get(f"/v1/orders/{order_id}", headers=shop.m.headers)
    assert api.json()["status"] == "cancelled"
    r = await client.post(f"/console/orders/{order_id}/cancel", data={"reason": "x"})
    assert r.status_code == 403  # no form token
    other = await f.shop(client)
    assert (await client.get(f"/console/orders/{other.product['id']}")).status_code == 404


async def test_console_ships_and_manages_stock_devices_products(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=4)
    r = await client.post("/v1/checkout", json=f.checkout_body([(shop.variant_id, 1)]))
    order_id = r.json()["orders"][0]["id"]
    login = (await client.get("/console/login")).text
    await client.post("/console/login", data={"csrf": csrf(login), "api_key": shop.m.api_key})
    page = assert_good_page(await client.get(f"/console/orders/{order_id}"))
    r = await client.post(f"/console/orders/{order_id}/ship", data={"csrf": csrf(page), "carrier": "顺丰",
                                                                     "tracking_no": "SF1234567890123"})
    assert r.status_code == 303
    assert "已发货" in (await client.get(f"/console/orders/{order_id}")).text
    stock = assert_good_page(await client.get("/console/stock"))
    r = await client.post("/console/stock", data={"csrf": csrf(stock), "location_id": shop.store["id"],
                                                  "sku": shop.sku, "on_hand": "7"})
    assert r.status_code == 303
    avail = await client.get(f"/v1/inventory/{shop.sku}", params={"merchant_id": shop.m.id})
    assert {loc["name"]: loc["available"] for loc in avail.json()["locations"]}["徐汇店"] == 7
    devices = assert_good_page(await client.get("/console/devices"))
    r = await client.post("/console/devices", data={"csrf": csrf(devices), "location_id": shop.store["id"],
                                                    "name": "收银台 2"})
    token = re.search(r'data-testid="new-token">([^<]+)<', r.text)
    assert token
    assert (await client.get("/v1/pos/changes", headers=f.bearer(token.group(1)))).status_code == 200
    products = assert_good_page(await client.get("/console/products"))
    r = await client.post("/console/products", data={"csrf": csrf(products), "title": "五常大米 5kg",
                                                     "category": "agri", "sku": "RICE-5", "price": "59.9",
                                                     "status": "active"})
    assert r.status_code == 303
    found = await client.get("/v1/products", params={"q": "大米"})
    assert [v["price"] for v in found.json()["items"][0]["variants"]] == [5990]
    bad = await client.post("/console/products", data={"csrf": csrf(products), "title": "", "category": "agri",
                                                       "sku": "RICE-6", "price": "abc"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text


async def test_leader_marks_a_group_buy_collected(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=20)
    point = await f.pickup_point(client, shop.m)
    gb = await f.group_buy(client, shop.m, shop.variant_id, min_quantity=1, pickup_point_ids=[point["id"]])
    joined = await f.join_group_buy(client, await f.customer(client), gb["id"], point["id"])
    assert joined.status_code == 201, joined.text
    order = joined.json()["order"] if "order" in joined.json() else joined.json()
    r = await client.post(f"/v1/community/group-buys/{gb['id']}/close", headers=shop.m.headers)
    assert r.json()["status"] == "succeeded"
    # To the pick-up day, whatever the hour now (late in the Shanghai evening it is two days away).
    today = clock.utcnow().astimezone(SHANGHAI).date()
    clock.travel(timedelta(days=(date.fromisoformat(gb["pickup_date"]) - today).days))
    assert (await client.get("/leader/")).headers["location"] == "/leader/login"
    login = assert_good_page(await client.get("/leader/login"))
    r = await client.post("/leader/login", data={"csrf": csrf(login), "token": point["leader_token"]})
    assert r.status_code == 303
    page = assert_good_page(await client.get("/leader/"))
    assert order["number"] in page and "待取货" in page
    bad = await client.post("/leader/collect", data={"csrf": csrf(page), "pickup_code": "000000x"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    r = await client.post("/leader/collect", data={"csrf": csrf(page), "pickup_code": order["pickup_code"]})
    assert r.status_code == 303
    assert "已取货" in (await client.get("/leader/?done=1")).text
    api = await client.get(f"/v1/orders/{order['id']}", headers=shop.m.headers)
    assert api.json()["status"] == "completed"


async def test_card_payment_page_hands_stripe_js_the_key_and_the_client_secret(client: httpx.AsyncClient,
                                                                               app, fake_stripe) -> None:
    app.state.settings.stripe_publishable_key = "pk_test_liutong"
    shop = await f.shop(client, on_hand=0, store_on_hand=3)
    page = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    await client.post("/cart/items", data={"csrf": csrf(page), "variant_id": shop.variant_id, "quantity": "1",
                                           "next": "/cart"})
    page = assert_good_page(await client.get("/checkout"))
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key
    r = await client.post("/checkout", data={
        "csrf": csrf(page), "key": key.group(1), "email": "card@example.com", "fulfilment": "pickup",
        "location_id": shop.store["id"], "payment_method": "stripe", "country": "CN"})
    assert r.status_code == 303, r.text[:2000]
    order_id = r.headers["location"].split("/orders/")[1].split("?")[0]
    page = assert_good_page(await client.get(f"/orders/{order_id}"))
    [intent] = fake_stripe.payment_intents.values()
    assert f'data-client-secret="{intent["client_secret"]}"' in page
    assert 'data-key="pk_test_liutong"' in page and "/static/pay.js" in page
