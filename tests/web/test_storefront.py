"""The shopper's pages through real HTTP: browsing with pages, sorting and filters; choosing options; the cart's
quantities against stock; checkout errors in Chinese beside their fields; phones; SEO; offline API docs."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import httpx
import pytest

from app.web import i18n
from tests import factories as f
from tests.web.helpers import assert_good_page, csrf


async def _options_product(client: httpx.AsyncClient) -> tuple[f.Shop, dict[str, str]]:
    """A jacket in 黑色/白色 × M/L where 白色/L does not exist and 黑色/L is sold out; variant ids by 'colour/size'."""
    shop = await f.shop(client, on_hand=4)
    r = await client.post("/v1/products", headers=shop.m.headers, json={
        "title": "冬季连帽羽绒服", "category": "apparel", "status": "active", "description": "轻暖",
        "variants": [{"sku": f"{shop.sku}-BK-M", "price": 789_000_000, "attributes": {"颜色": "黑色", "尺码": "M"}},
                     {"sku": f"{shop.sku}-BK-L", "price": 789_000_000, "attributes": {"颜色": "黑色", "尺码": "L"}},
                     {"sku": f"{shop.sku}-WH-M", "price": 69_900, "attributes": {"颜色": "白色", "尺码": "M"}}]})
    assert r.status_code == 201, r.text
    product = r.json()
    ids = {f"{v['attributes']['颜色']}/{v['attributes']['尺码']}": v["id"] for v in product["variants"]}
    await f.stock(client, shop.m, shop.warehouse, f"{shop.sku}-BK-M", 3)
    await f.stock(client, shop.m, shop.warehouse, f"{shop.sku}-BK-L", 0)
    await f.stock(client, shop.m, shop.store, f"{shop.sku}-WH-M", 20)
    shop.product = product
    return shop, ids


def _add(page: str, product_id: str, **options: str) -> dict[str, str]:
    return {"csrf": csrf(page), "product_id": product_id, "quantity": "1",
            **{f"opt.{k}": v for k, v in options.items()}}


async def test_product_page_offers_options_and_refuses_a_sold_out_or_missing_combination(
        client: httpx.AsyncClient) -> None:
    shop, ids = await _options_product(client)
    pid = shop.product["id"]
    page = assert_good_page(await client.get(f"/products/{pid}"))
    # Money with thousands separators; availability in words with the pick-up store, never a count per place.
    assert "¥7,890,000.00" in page and "仅剩 3 件" in page
    assert 'name="opt.颜色"' in page and 'name="opt.尺码"' in page
    data = json.loads(re.search(r'<script type="application/json" id="variants-data">(.*?)</script>', page,
                                re.S).group(1))  # type: ignore[union-attr]
    by_id = {v["id"]: v for v in data}
    assert by_id[ids["黑色/L"]]["available"] == 0 and by_id[ids["黑色/L"]]["stock_text"] == "已售罄"
    assert by_id[ids["白色/M"]]["stock_text"] == "有货 · 可到店自提: 徐汇店"
    sold_out = await client.post("/cart/items", data=_add(page, pid, 颜色="黑色", 尺码="L"))
    assert sold_out.status_code == 303 and "error=sold_out" in sold_out.headers["location"]
    missing = await client.post("/cart/items", data=_add(page, pid, 颜色="白色", 尺码="L"))
    assert "error=no_such_option" in missing.headers["location"]
    shown = assert_good_page(await client.get(missing.headers["location"]))
    assert "这个颜色和尺码的组合没有货" in shown
    assert "购物车是空的" in assert_good_page(await client.get("/cart"))
    ok = await client.post("/cart/items", data=_add(page, pid, 颜色="白色", 尺码="M"))
    assert "added=1" in ok.headers["location"]
    cart = assert_good_page(await client.get("/cart"))
    assert "冬季连帽羽绒服" in cart and "白色 / M" in cart and "¥699.00" in cart


async def test_cart_quantity_is_checked_against_stock_at_once(client: httpx.AsyncClient) -> None:
    shop, ids = await _options_product(client)
    page = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    await client.post("/cart/items", data=_add(page, shop.product["id"], 颜色="黑色", 尺码="M"))
    cart = assert_good_page(await client.get("/cart"))
    too_many = await client.post("/cart/update", data={"csrf": csrf(cart), "variant_id": ids["黑色/M"],
                                                       "quantity": "99999"})
    shown = assert_good_page(await client.get(too_many.headers["location"]))
    assert "数量应为 1 到 99 之间的整数" in shown
    over = await client.post("/cart/update", data={"csrf": csrf(cart), "variant_id": ids["黑色/M"], "quantity": "5"})
    shown = assert_good_page(await client.get(over.headers["location"]))
    assert "库存只剩 3 件，请减少数量" in shown and 'value="1"' in shown
    fine = await client.post("/cart/update", data={"csrf": csrf(cart), "variant_id": ids["黑色/M"], "quantity": "3"})
    shown = assert_good_page(await client.get(fine.headers["location"]))
    assert "¥23,670,000.00" in shown  # 3 × ¥7,890,000.00


async def _cart_with_one(client: httpx.AsyncClient, shop: f.Shop) -> str:
    page = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    await client.post("/cart/items", data={"csrf": csrf(page), "variant_id": shop.variant_id, "quantity": "1"})
    return assert_good_page(await client.get("/checkout"))


def _beside(page: str, field: str) -> str:
    found = re.search(rf'data-testid="error-{field}">([^<]+)<', page)
    assert found, f"no message beside {field}"
    return found.group(1)


GOOD = {"email": "li@example.com", "fulfilment": "delivery", "name": "李四", "phone": "13800138000",
        "province": "上海市", "city": "上海市", "district": "徐汇区", "line1": "漕溪北路 398 号",
        "postal_code": "200030", "payment_method": "cod"}


@pytest.mark.parametrize(("field", "value", "message"), [
    ("email", "", "请填写电子邮箱"),
    ("email", "not-an-email", "请填写正确的电子邮箱"),
    ("name", "", "请填写收货人"),
    ("phone", "123", "请填写正确的手机号码"),
    ("phone", "", "请填写手机号码"),
    ("province", "", "请填写省份"),
    ("province", "火星", "请从列表中选择省份"),
    ("city", "", "请填写城市"),
    ("district", "", "请填写区/县"),
    ("line1", "", "请填写详细地址"),
    ("postal_code", "2000", "邮编应为 6 位数字"),
    ("coupon_code", "NOPE", "优惠码无效"),
])
async def test_each_checkout_error_is_in_chinese_beside_its_field(client: httpx.AsyncClient, field: str, value: str,
                                                                  message: str) -> None:
    shop = await f.shop(client, on_hand=3)
    page = await _cart_with_one(client, shop)
    r = await client.post("/checkout", data={**GOOD, field: value, "csrf": csrf(page)})
    assert r.status_code == 422
    shown = unescape(r.text)
    assert message in _beside(shown, field)
    assert not re.search(r"String should|pattern|not enough stock|field required|value_error", shown)
    assert (await client.get("/v1/orders", headers=shop.m.headers)).json()["items"] == []
    # Every other value is kept in the form.
    for other, kept in GOOD.items():
        if other not in (field, "fulfilment", "payment_method", "province"):
            assert f'value="{kept}"' in shown


async def test_a_good_delivery_address_places_the_order_and_pickup_needs_no_address(
        client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=3, store_on_hand=2)
    page = await _cart_with_one(client, shop)
    assert re.search(r"<option\s*>上海市</option>", page) and 'id="address"' in page
    r = await client.post("/checkout", data={**GOOD, "csrf": csrf(page)})
    assert r.status_code == 303, r.text[:2000]
    delivered = assert_good_page(await client.get(r.headers["location"]))
    assert "快递配送" in delivered and "¥199.00" in delivered
    page = await _cart_with_one(client, shop)
    r = await client.post("/checkout", data={"csrf": csrf(page), "email": "li@example.com", "fulfilment": "pickup",
                                             "location_id": shop.store["id"], "payment_method": "cod"})
    assert r.status_code == 303, r.text[:2000]
    order = assert_good_page(await client.get(r.headers["location"]))
    assert shop.product["title"] in order and "¥199.00" in order


async def test_123_is_not_a_phone_number_for_the_api_either(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=10)
    body = f.checkout_body([(shop.variant_id, 1)])
    for phone in ("123", "021-5555", "12345678901"):
        body["fulfilment"] = {"type": "delivery", "address": f.address(phone=phone)}
        r = await client.post("/v1/checkout", json=body)
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["fulfilment.delivery.address.phone"]
    for phone in ("13800138000", "+86 138 0013 8000", "021-55550000", "0571 8888 1234", "+1 415 555 1234"):
        body["fulfilment"] = {"type": "delivery", "address": f.address(phone=phone)}
        r = await client.post("/v1/checkout", json=body, headers={"Idempotency-Key": phone})
        assert r.status_code == 201, (phone, r.text)


async def test_listings_page_sort_and_filter_in_the_url(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    wh = await f.location(client, m, kind="warehouse")
    prices = [1_000 + 100 * i for i in range(30)]
    for i, price in enumerate(prices):
        p = await f.product(client, m, title=f"分页测试商品 {i:02d}", price=price, skus=(f"PG-{i}",))
        await f.stock(client, m, wh, f"PG-{i}", 0 if i % 2 else 5)
    first = assert_good_page(await client.get("/search", params={"q": "分页测试"}))
    assert first.count('class="card"') == 24 and "共 30 件商品" in first and "第 1 / 2 页" in first
    nxt = re.search(r'<a class="button" href="([^"]+)" rel="next">下一页</a>', first)
    assert nxt
    second = assert_good_page(await client.get(nxt.group(1)))
    assert second.count('class="card"') == 6 and "上一页" in second
    cheap = assert_good_page(await client.get("/search", params={"q": "分页测试", "sort": "price_asc"}))
    shown = [int(x.replace(",", "")) for x in re.findall(r'<span class="money">¥([\d,]+)\.00</span>', cheap)]
    assert shown == [p // 100 for p in sorted(prices)[:24]]
    dear = assert_good_page(await client.get("/search", params={"q": "分页测试", "sort": "price_desc"}))
    assert dear.index("分页测试商品 29") < dear.index("分页测试商品 28")
    ranged = assert_good_page(await client.get("/search", params={"q": "分页测试", "min": "11", "max": "12"}))
    assert "共 2 件商品" in ranged  # ¥11.00 and ¥12.00
    stocked = assert_good_page(await client.get("/search", params={"q": "分页测试", "in_stock": "1"}))
    assert "共 15 件商品" in stocked and 'name="in_stock" value="1" checked' in stocked
    assert 'href="/search?q=' in stocked  # the pager and the clear link keep the query
    del p


async def test_pickup_city_filter_seller_page_and_reviews(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=0, store_on_hand=2)
    city = f.address()["city"]
    found = assert_good_page(await client.get("/", params={"city": city}))
    assert shop.product["title"] in found
    elsewhere = assert_good_page(await client.get("/", params={"city": "拉萨"}))
    assert shop.product["title"] not in elsewhere
    seller = assert_good_page(await client.get(f"/shops/{shop.m.id}"))
    assert shop.product["title"] in seller and 'data-testid="seller-badge"' in seller
    assert (await client.get("/shops/mer_nope")).status_code == 404
    product = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    assert f'href="/shops/{shop.m.id}"' in product and "暂无评价" in product


async def test_seo_titles_canonical_sitemap_robots_and_json_ld(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=2)
    page = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    assert f"<title>{shop.product['title']} · " in page
    assert f'<link rel="canonical" href="http://testserver/products/{shop.product["id"]}">' in page
    assert '<meta name="description" content="加厚保暖' in page
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', page,
                              re.S).group(1))  # type: ignore[union-attr]
    assert ld["@type"] == "Product" and ld["offers"][0]["price"] == "199.00"
    assert ld["offers"][0]["availability"] == "https://schema.org/InStock"
    sitemap = await client.get("/sitemap.xml")
    assert sitemap.status_code == 200 and sitemap.headers["content-type"].startswith("application/xml")
    assert f"/products/{shop.product['id']}</loc>" in sitemap.text
    robots = await client.get("/robots.txt")
    assert "Sitemap: http://testserver/sitemap.xml" in robots.text and "Disallow: /checkout" in robots.text


async def test_api_docs_are_served_from_this_host(client: httpx.AsyncClient) -> None:
    for path in ("/docs", "/redoc"):
        r = await client.get(path)
        assert r.status_code == 200
        assets = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert assets and all(a.startswith("/") for a in assets), assets
        for asset in assets:
            if asset.startswith("/static-offline-docs/"):
                assert (await client.get(asset)).status_code == 200
    assert (await client.get("/no-such-page")).status_code == 404


def test_money_and_times_for_people() -> None:
    assert i18n.money(789_000_000) == "¥7,890,000.00"
    assert i18n.money(5) == "¥0.05" and i18n.money(-123_456) == "-¥1,234.56"
    assert i18n.local_time(datetime(2026, 12, 3, 16, 30, tzinfo=UTC)) == "2026-12-04 00:30"
    assert i18n.local_time("2026-12-03T16:30:00Z", with_time=False) == "2026-12-04"


async def test_anonymous_pages_are_shared_but_each_browser_gets_its_own_form_token(
        client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=3)
    path = f"/products/{shop.product['id']}"
    tokens, sids = [], []
    for _ in range(2):
        async with httpx.AsyncClient(transport=client._transport, base_url="http://testserver") as fresh:
            r = await fresh.get(path)
            assert r.status_code == 200 and "csrf-placeholder" not in r.text
            tokens.append(csrf(r.text))
            sids.append(r.cookies["sid"])
            added = await fresh.post("/cart/items", data={"csrf": tokens[-1], "variant_id": shop.variant_id,
                                                          "quantity": "1", "next": path})
            assert added.status_code == 303 and "added=1" in added.headers["location"]
    assert tokens[0] != tokens[1] and sids[0] != sids[1]


async def test_an_unlisted_merchant_sells_by_link_but_stays_out_of_public_lists(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=3, store_on_hand=2)
    title = shop.product["title"]
    assert (await client.put(f"/v1/admin/merchants/{shop.m.id}/listing", json={"listed": False})).status_code == 401
    r = await client.put(f"/v1/admin/merchants/{shop.m.id}/listing", headers=f.ADMIN, json={"listed": False})
    assert r.status_code == 200 and r.json()["listed"] is False
    listed = (await client.get("/v1/products", params={"q": title})).json()["items"]
    assert listed == []
    link = f'href="/products/{shop.product["id"]}"'
    assert link not in assert_good_page(await client.get("/search", params={"q": title}))
    assert link not in assert_good_page(await client.get("/"))
    assert shop.product["id"] not in (await client.get("/sitemap.xml")).text
    own = (await client.get("/v1/products", params={"q": title}, headers=shop.m.headers)).json()["items"]
    assert [p["id"] for p in own] == [shop.product["id"]]  # the merchant still sees its own
    await _cart_with_one(client, shop)  # still for sale by link
    assert title in assert_good_page(await client.get("/cart"))
    r = await client.put(f"/v1/admin/merchants/{shop.m.id}/listing", headers=f.ADMIN, json={"listed": True})
    assert [p["id"] for p in (await client.get("/v1/products", params={"q": title})).json()["items"]] == \
        [shop.product["id"]]


async def test_a_signed_in_customer_has_an_address_book(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=10)
    await f.customer(client, email="book@example.com")
    login = assert_good_page(await client.get("/account/login"))
    r = await client.post("/account/login", data={"csrf": csrf(login), "email": "book@example.com",
                                                  "password": "s3cret-pass", "next": "/"})
    assert r.status_code == 303, r.text[:500]
    page = await _cart_with_one(client, shop)
    assert 'data-testid="address-book"' not in page
    home = {k: v for k, v in GOOD.items() if k != "email"}
    office = {**home, "line1": "世纪大道 100 号", "district": "浦东新区", "postal_code": "200120"}
    for address in (home, office):
        r = await client.post("/checkout", data={**address, "csrf": csrf(page)})
        assert r.status_code == 303, r.text[:2000]
        page = await _cart_with_one(client, shop)
    # The one used last fills the form; the other is one tap away.
    assert 'value="世纪大道 100 号"' in page and page.count('href="/checkout?address=') == 2
    other = re.findall(r'href="(/checkout\?address=[^"]+)"', page)[1]
    chosen = assert_good_page(await client.get(other))
    assert 'value="漕溪北路 398 号"' in chosen


async def test_the_chosen_variants_price_shows_its_promotion(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=3)  # ¥199.00
    now = datetime.now(UTC)
    r = await client.post("/v1/promotions", headers=shop.m.headers, json={
        "code": "WINTER10", "kind": "percent", "value": 10, "channels": ["online"],
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=1)).isoformat()})
    assert r.status_code == 201, r.text
    page = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    assert "用券 WINTER10 后 ¥179.10" in page
