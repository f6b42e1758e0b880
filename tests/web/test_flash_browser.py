"""A flash sale in Chromium, on a phone (390×844) and a laptop (1280×800): the product page's block counts down
and its button turns on at the opening second; a shopper who is not signed in signs in, orders at the flash
price and is then refused a second unit in Chinese; the merchant sees the sale's figures in the console and a
bad form's errors beside its fields. Every screen is saved as tests/web/artifacts/flash-*.png and checked for
text wider than its box and amounts broken across lines."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from playwright.async_api import ViewportSize

from tests.web.browser import BOTH_SIZES, chromium, fill_address, screen
from tests.web.test_browser import ARTIFACTS
from tests.web.test_shopper_browser import ADMIN, pytestmark, shop_server

__all__ = ["pytestmark", "shop_server"]  # the server fixture and the browser marks, as the shopper's test has them

OPENS_IN = timedelta(seconds=5)  # long enough to see the countdown before it opens


def ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def _seed(api: httpx.Client, n: str) -> dict[str, Any]:
    """A verified shop selling a down jacket (¥7,890.00), a running campaign showing it, and a customer account;
    the flash sale (5 at ¥6,999.00, one per buyer) is `_open_soon`'s."""
    m = ok(api.post("/v1/merchants", json={"name": f"暖冬服饰旗舰店 {n}", "kind": "enterprise",
                                           "licence_no": "91350100M000100Y43", "contact_email": f"s{n}@example.com"}))
    ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"}))
    key = {"Authorization": f"Bearer {m['api_key']}"}
    addr = {"name": "店长", "phone": "021-55550000", "line1": "世纪大道 1 号", "district": "浦东新区",
            "city": "上海市", "province": "上海市", "postal_code": "200120", "country": "CN"}
    wh = ok(api.post("/v1/locations", headers=key, json={"code": "WH", "name": "嘉定仓", "kind": "warehouse",
                                                         "address": addr}))
    ok(api.post("/v1/locations", headers=key, json={"code": "PD", "name": "浦东店", "kind": "store", "address": addr}))
    jacket = ok(api.post("/v1/products", headers=key, json={
        "title": "冬季连帽羽绒服 加厚保暖", "category": "apparel", "status": "active",
        "description": "90% 白鸭绒，连帽设计，轻薄保暖。", "variants": [{"sku": f"DJ-{n}", "price": 789_000}]}))
    ok(api.put(f"/v1/locations/{wh['id']}/stock/DJ-{n}", headers=key, json={"on_hand": 20}))
    email = f"flash-{n}@example.com"
    ok(api.post("/v1/customers", json={"email": email, "password": "s3cret-pass", "name": "王小明"}))
    now = datetime.now(UTC)
    campaign = ok(api.post("/v1/campaigns", headers=key, json={
        "slug": f"double-12-{n}", "title": "双十二 暖冬秒杀节", "headline": "每天 10 点开抢",
        "starts_at": (now - timedelta(hours=1)).isoformat(), "ends_at": (now + timedelta(days=3)).isoformat(),
        "product_ids": [jacket["id"]], "promotion_codes": []}))
    return {"product": jacket["id"], "variant": jacket["variants"][0]["id"], "email": email,
            "api_key": m["api_key"], "campaign": campaign["slug"], "campaign_id": campaign["id"]}


def _open_soon(api: httpx.Client, s: dict[str, Any]) -> str:
    """The flash sale, opening OPENS_IN from now: made once the browser is up, so that the page is seen before."""
    opens = datetime.now(UTC) + OPENS_IN
    sale = ok(api.post("/v1/flash-sales", headers={"Authorization": f"Bearer {s['api_key']}"}, json={
        "variant_id": s["variant"], "price": 699_900, "quantity": 5, "per_buyer_limit": 1,
        "starts_at": opens.isoformat(), "ends_at": (opens + timedelta(hours=1)).isoformat(),
        "campaign_id": s["campaign_id"]}))
    return str(sale["id"])


_screen = functools.partial(screen, prefix="flash")


@BOTH_SIZES
async def test_a_flash_sale_opens_sells_refuses_and_shows_in_the_console(shop_server: str, size: str,
                                                                        viewport: ViewportSize) -> None:
    from playwright.async_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    with httpx.Client(base_url=shop_server, timeout=60) as api:
        s = _seed(api, uuid.uuid4().hex[:8])
    async with chromium() as browser:
        context = await browser.new_context(base_url=shop_server, viewport=viewport, locale="zh-CN")
        page = await context.new_page()
        with httpx.Client(base_url=shop_server, timeout=60) as api:
            s["sale"] = _open_soon(api, s)
        await page.goto(f"/products/{s['product']}")
        block = page.get_by_test_id("flash")
        button = page.get_by_test_id("flash-button")
        await expect(button).to_be_disabled()
        await expect(button).to_have_text("即将开抢")
        assert await page.get_by_test_id("flash-price").inner_text() == "¥6,999.00"
        assert "¥7,890.00" in await page.get_by_test_id("flash-list-price").inner_text()
        assert "还剩 5 件" in await block.inner_text() and "距开抢" in await block.inner_text()
        await _screen(page, "1-before", size)
        # The button turns on by itself when the server's clock reaches the opening second.
        await expect(button).to_be_enabled(timeout=(OPENS_IN.seconds + 10) * 1000)
        await expect(button).to_have_text("立即抢购")
        assert "距结束" in await block.inner_text()
        await _screen(page, "2-open", size)
        await page.goto(f"/campaigns/{s['campaign']}")  # the campaign's page shows its flash sales too
        await expect(page.get_by_test_id("flash-button")).to_be_enabled()
        assert "冬季连帽羽绒服" in await page.get_by_test_id("flash").inner_text()
        await _screen(page, "2b-campaign", size)
        await page.goto(f"/products/{s['product']}")
        await button.click()
        await page.locator("#login-email").wait_for()  # not signed in: the sign-in page first
        await page.locator("#login-email").fill(s["email"])
        await page.locator("#login-password").fill("s3cret-pass")
        await page.locator("#login-password").press("Enter")
        await page.get_by_role("heading", name="秒杀下单").wait_for()
        await fill_address(page)
        await _screen(page, "3-checkout", size)
        await page.get_by_test_id("flash-place").click()
        await page.get_by_text("下单成功").wait_for()
        assert "¥6,999.00" in await page.get_by_test_id("order-lines").inner_text()
        await _screen(page, "4-order", size)
        await page.goto(f"/flash/{s['sale']}")  # a second unit: over the limit of one
        await page.get_by_test_id("flash-place").click()
        await page.get_by_role("alert").filter(has_text="限购").wait_for()
        await _screen(page, "5-refused", size)

        await page.goto("/console/login")
        await page.locator("#api_key").fill(s["api_key"])
        await page.locator("#api_key").press("Enter")
        await page.goto("/console/flash-sales")
        table = page.get_by_test_id("flash-sales")
        assert "¥6,999.00" in await table.inner_text() and "进行中" in await table.inner_text()
        assert await table.locator('td[data-label="已抢"]').first.inner_text() == "1"
        await _screen(page, "6-console", size)
        form = page.get_by_test_id("flash-form")
        await form.locator('input[name="variant_id"]').first.check()
        await form.get_by_label("秒杀价（元）").fill("9999")
        await form.get_by_label("秒杀数量（件）").fill("3")
        await form.get_by_label("每人限购（件）").fill("5")
        await form.get_by_label("开抢时间").fill("2030-01-01T10:00")
        await form.get_by_label("结束时间").fill("2030-01-01T09:00")
        await form.get_by_role("button", name="创建").click()
        await page.get_by_test_id("error-ends_at").wait_for()
        assert await page.get_by_test_id("error-ends_at").inner_text() == "结束时间须晚于开始时间"
        assert await page.get_by_test_id("error-per_buyer_limit").inner_text() == "每人限购不能超过秒杀数量"
        await _screen(page, "7-console-error", size)
