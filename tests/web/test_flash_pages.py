"""Flash sales (秒杀) on the pages, through real HTTP: the block on the product and campaign pages before and after
the opening second and when sold out, the flash checkout with each refusal in Chinese, and the console page."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from html import unescape
from typing import Any

import httpx

from app.core import clock
from app.core.clock import SHANGHAI, utcnow
from app.core.errors import Conflict, TooManyRequests
from app.web.flash_pages import refusal_words
from tests import factories as f
from tests.web.helpers import assert_good_page, csrf
from tests.web.test_console import _browser, _owner, _staff

ADDRESS = {"fulfilment": "delivery", "name": "李四", "phone": "13800138000", "province": "上海市",
           "city": "上海市", "district": "徐汇区", "line1": "漕溪北路 398 号", "postal_code": "200030",
           "payment_method": "cod", "quantity": "1"}


async def _sale(client: httpx.AsyncClient, s: f.Shop, *, quantity: int = 2, limit: int = 1, price: int = 990,
                starts_in: timedelta = timedelta(minutes=10), campaign_id: str | None = None) -> str:
    starts = utcnow() + starts_in
    r = await client.post("/v1/flash-sales", headers=s.m.headers, json={
        "variant_id": s.variant_id, "price": price, "quantity": quantity, "per_buyer_limit": limit,
        "starts_at": starts.isoformat(), "ends_at": (starts + timedelta(hours=1)).isoformat(),
        "campaign_id": campaign_id})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _block(html: str) -> str:
    found = re.search(r'<section class="flash".*?</section>', html, re.S)
    assert found, "no flash-sale block on the page"
    return unescape(found.group(0))


def _button_text(block: str) -> str:
    found = re.search(r'data-testid="flash-button"[^>]*>([^<]*)</button>', block)
    assert found
    return found.group(1)


def _button_disabled(block: str) -> bool:
    button = re.search(r'<button[^>]*data-testid="flash-button"[^>]*>', block)
    assert button
    return " disabled" in button.group(0)


async def _buy_api(client: httpx.AsyncClient, sale_id: str, buyer: dict[str, str]) -> None:
    r = await client.post(f"/v1/flash-sales/{sale_id}/orders",
                          headers={**buyer, "Idempotency-Key": secrets.token_hex(8)},
                          json={"quantity": 1, "fulfilment": f.delivery(), "payment_method": "cod"})
    assert r.status_code == 201, r.text


async def test_the_product_page_block_before_and_after_opening_and_when_sold_out(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=10, price=789_000)
    sale_id = await _sale(client, shop, quantity=2, price=699_900)
    buyers = [await f.customer(client) for _ in range(2)]  # signed in before the clock moves
    before = _block(assert_good_page(await client.get(f"/products/{shop.product['id']}")))
    assert "秒杀价" in before and "¥6,999.00" in before
    assert re.search(r"<del[^>]*>.*¥7,890.00</del>", before, re.S)  # the list price struck through
    assert "还剩 2 件" in before and "距开抢" in before and "每人限购 1 件" in before
    assert _button_disabled(before) and _button_text(before) == "即将开抢"
    assert f'action="/flash/{sale_id}"' in before

    clock.travel(timedelta(minutes=11))
    live = _block(assert_good_page(await client.get(f"/products/{shop.product['id']}")))
    assert not _button_disabled(live) and _button_text(live) == "立即抢购" and "距结束" in live and "还剩 2 件" in live

    await _buy_api(client, sale_id, buyers[0])
    assert "还剩 1 件" in _block(assert_good_page(await client.get(f"/products/{shop.product['id']}")))
    await _buy_api(client, sale_id, buyers[1])
    gone = _block(assert_good_page(await client.get(f"/products/{shop.product['id']}")))
    assert _button_disabled(gone) and _button_text(gone) == "已抢光"
    assert '<span class="flash-left" data-testid="flash-left" aria-live="polite">已抢光</span>' in gone

    clock.travel(timedelta(hours=2))  # past its end: the product page no longer shows it
    assert 'data-testid="flash"' not in assert_good_page(await client.get(f"/products/{shop.product['id']}"))


async def test_a_campaign_page_shows_the_campaigns_flash_sales(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=10)
    other = await f.shop(client, on_hand=10)
    now = utcnow()
    r = await client.post("/v1/campaigns", headers=shop.m.headers, json={
        "slug": f"flash-{secrets.token_hex(3)}", "title": "双十二秒杀会场", "headline": "",
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=2)).isoformat(),
        "product_ids": [shop.product["id"]], "promotion_codes": []})
    assert r.status_code == 201, r.text
    campaign = r.json()
    await _sale(client, shop, campaign_id=campaign["id"], starts_in=timedelta(seconds=-1))
    await _sale(client, other)  # not in the campaign
    page = assert_good_page(await client.get(f"/campaigns/{campaign['slug']}"))
    assert page.count('data-testid="flash"') == 1
    block = _block(page)
    assert shop.product["title"] in block and _button_text(block) == "立即抢购" and not _button_disabled(block)
    assert "/static/flash.js" in page


async def _signed_in(client: httpx.AsyncClient) -> httpx.AsyncClient:
    browser = _browser(client)
    email = f"flash{secrets.token_hex(4)}@example.com"
    r = await client.post("/v1/customers", json={"email": email, "password": "s3cret-pass", "name": "王五"})
    assert r.status_code == 201, r.text
    login = assert_good_page(await browser.get("/account/login"))
    r = await browser.post("/account/login", data={"csrf": csrf(login), "email": email, "password": "s3cret-pass",
                                                   "next": "/"})
    assert r.status_code == 303, r.text[:500]
    return browser


async def test_flash_checkout_places_the_order_and_says_each_refusal_in_chinese(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=10, price=19_900)
    sale_id = await _sale(client, shop, quantity=2, limit=1, price=990)
    anonymous = _browser(client)
    r = await anonymous.get(f"/flash/{sale_id}")
    assert r.status_code == 303 and r.headers["location"] == f"/account/login?next=/flash/{sale_id}"

    buyer, late = await _signed_in(client), await _signed_in(client)  # signed in before the clock moves
    last = await f.customer(client)
    page = assert_good_page(await buyer.get(f"/flash/{sale_id}"))
    assert "秒杀下单" in page and "¥9.90" in page and "收货人" in page and "货到付款" in page
    early = await buyer.post(f"/flash/{sale_id}", data={**ADDRESS, "csrf": csrf(page)})
    assert early.status_code == 409 and "秒杀还没开始" in unescape(early.text)

    clock.travel(timedelta(minutes=11))
    page = assert_good_page(await buyer.get(f"/flash/{sale_id}"))
    bad = await buyer.post(f"/flash/{sale_id}", data={**ADDRESS, "phone": "123", "csrf": csrf(page)})
    assert bad.status_code == 422 and "请填写正确的手机号码" in unescape(bad.text)
    assert 'data-testid="error-phone"' in bad.text
    placed = await buyer.post(f"/flash/{sale_id}", data={**ADDRESS, "csrf": csrf(page), "key": "k1"})
    assert placed.status_code == 303, placed.text[:2000]
    assert re.fullmatch(r"/orders/[^?]+\?placed=1", placed.headers["location"])
    order = unescape(assert_good_page(await buyer.get(placed.headers["location"])))
    assert "下单成功" in order and "¥9.90" in order

    again = await buyer.post(f"/flash/{sale_id}", data={**ADDRESS, "csrf": csrf(page), "key": "k2"})
    assert again.status_code == 409 and "您已达到本场秒杀的限购数量" in unescape(again.text)

    await _buy_api(client, sale_id, last)  # the last unit
    page = assert_good_page(await late.get(f"/flash/{sale_id}"))
    gone = await late.post(f"/flash/{sale_id}", data={**ADDRESS, "csrf": csrf(page)})
    assert gone.status_code == 409 and "手慢了，商品已抢光" in unescape(gone.text)

    clock.travel(timedelta(hours=2))
    over = await late.post(f"/flash/{sale_id}", data={**ADDRESS, "csrf": csrf(page)})
    assert over.status_code == 409 and "本场秒杀已结束" in unescape(over.text)
    stats = (await client.get(f"/v1/flash-sales/{sale_id}/stats", headers=shop.m.headers)).json()
    assert stats["taken"] == 2  # the refused attempts changed nothing


def test_too_many_attempts_are_told_in_chinese() -> None:
    assert refusal_words(TooManyRequests("slow down"), "zh") == "抢购的人太多了，请稍后再试。"
    assert refusal_words(Conflict("x", extra={"code": "sold_out"}), "zh") == "手慢了，商品已抢光。"
    assert refusal_words(Conflict("stock changed"), "zh") is None


def _local(minutes: int) -> str:
    return (utcnow() + timedelta(minutes=minutes)).astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


async def test_console_lists_and_creates_flash_sales_and_a_clerk_is_refused(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=10, price=19_900)
    owner = _browser(client)
    await _owner(owner, shop)
    page = assert_good_page(await owner.get("/console/flash-sales"))
    assert "新建秒杀" in page and shop.variant_id in page
    form: dict[str, Any] = {"csrf": csrf(page), "variant_id": shop.variant_id, "price": "99.50", "quantity": "3",
                            "per_buyer_limit": "1", "starts_at": _local(60), "ends_at": _local(120)}
    # Each problem beside its field, in Chinese; nothing made.
    bad = await owner.post("/console/flash-sales", data={**form, "price": "abc", "quantity": "0"})
    assert bad.status_code == 422
    text = unescape(bad.text)
    assert "请填写秒杀价" in text and 'data-testid="error-price"' in text and 'data-testid="error-quantity"' in text
    late = await owner.post("/console/flash-sales", data={**form, "ends_at": _local(30)})
    assert late.status_code == 422 and "结束时间须晚于开始时间" in unescape(late.text)
    assert 'data-testid="error-ends_at"' in late.text
    dear = await owner.post("/console/flash-sales", data={**form, "price": "300"})
    assert dear.status_code == 422 and "秒杀价不能高于商品原价" in unescape(dear.text)
    many = await owner.post("/console/flash-sales", data={**form, "quantity": "50"})
    assert many.status_code == 422 and "可用库存只有 10 件" in unescape(many.text)
    assert (await client.get("/v1/flash-sales", headers=shop.m.headers)).json()["items"] == []

    made = await owner.post("/console/flash-sales", data=form)
    assert made.status_code == 303, made.text[:2000]
    listed = unescape(assert_good_page(await owner.get("/console/flash-sales")))
    table = listed.split('data-testid="flash-sales"')[1].split("</table>")[0]
    assert "¥99.50" in table and "¥199.00" in table and "未开始" in table
    assert re.search(r'data-label="剩余">3<', table)

    clerk = await _staff(client, owner, "clerk", location_id=shop.store["id"])
    assert (await clerk.get("/console/flash-sales")).status_code == 403
    r = await clerk.post("/console/flash-sales", data={**form, "csrf": csrf(assert_good_page(
        await clerk.get("/console/orders")))})
    assert r.status_code == 403
    assert len((await client.get("/v1/flash-sales", headers=shop.m.headers)).json()["items"]) == 1
