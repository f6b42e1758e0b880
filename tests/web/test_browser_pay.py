"""WeChat Pay in a real browser, through the payment sandbox (`shop serve --sandbox-payments`): a desktop
checkout shows the QR code; paying on the sandbox's page turns the order page to paid without a reload.
Screenshots land in tests/web/artifacts/."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import sqlite_copy
from tests.servers import served
from tests.web.browser import chromium, guest_checkout
from tests.web.test_browser import ARTIFACTS, BROWSER_TEST

ADMIN = "browser-admin-" + uuid.uuid4().hex

pytestmark = BROWSER_TEST


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """`shop serve --sandbox-payments` on a free port against a fresh, migrated SQLite file, no real payment
    settings (the sandbox stands in for them)."""
    url = sqlite_copy(sqlite_template, tmp_path_factory.mktemp("browser-pay") / "shop.db")
    unset = [k for k in os.environ if k.startswith(("ALIPAY_", "WECHATPAY_"))]
    with served(url, args=["--sandbox-payments"], unset=unset, SHOP_ADMIN_TOKEN=ADMIN) as running:
        yield running.base


def _seed(api: httpx.Client) -> None:
    """A verified merchant with its WeChat Pay sub_mchid and a down jacket in its warehouse."""
    def ok(r: httpx.Response) -> dict[str, object]:
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    m = ok(api.post("/v1/merchants", json={"name": "暖冬服饰", "kind": "enterprise",
                                           "licence_no": "91350100M000100Y43", "contact_email": "shop@example.com"}))
    ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"}))
    key = {"Authorization": f"Bearer {m['api_key']}"}
    addr = {"name": "张三", "phone": "13800138000", "line1": "淮海中路 999 号", "district": "徐汇区", "city": "上海",
            "postal_code": "200031", "country": "CN"}
    wh = ok(api.post("/v1/locations", headers=key, json={"code": "WH", "name": "上海仓", "kind": "warehouse",
                                                         "address": addr}))
    ok(api.post("/v1/products", headers=key, json={
        "title": "男士羽绒服", "category": "apparel", "description": "加厚保暖，轻便", "status": "active",
        "variants": [{"sku": "DOWN-L", "price": 789_000, "attributes": {"尺码": "L"}}]}))
    ok(api.put(f"/v1/locations/{wh['id']}/stock/DOWN-L", headers=key, json={"on_hand": 10}))
    ok(api.put("/v1/payment-accounts/wechatpay", headers=key, json={"sub_merchant_id": "1900000109"}))


async def test_desktop_wechat_checkout_shows_a_qr_code_and_turns_paid_without_a_reload(server: str) -> None:

    ARTIFACTS.mkdir(exist_ok=True)
    with httpx.Client(base_url=server, timeout=30) as seeder:
        _seed(seeder)
    async with chromium() as browser:
        desktop = await browser.new_context(base_url=server, viewport={"width": 1280, "height": 800},
                                            locale="zh-CN")
        page = await desktop.new_page()
        await guest_checkout(page, ["男士羽绒服"])
        wechat = page.get_by_label("微信支付")
        await wechat.check()
        assert "沙箱" in await page.locator("label", has=wechat).inner_text()
        await page.screenshot(path=ARTIFACTS / "checkout-wechat-desktop.png", full_page=True)
        await page.get_by_role("button", name="提交订单").click()

        qr = page.get_by_test_id("wechat-qr").locator("svg")
        await qr.wait_for()
        assert await page.get_by_test_id("payment-status").inner_text() == "未付款"
        assert await page.locator(".badge.sandbox").first.is_visible()
        box = await qr.bounding_box()
        assert box is not None and box["width"] >= 150 and abs(box["width"] - box["height"]) < 2
        await page.screenshot(path=ARTIFACTS / "order-wechat-qr-desktop.png", full_page=True)
        order_url = page.url

        # The buyer "scans" it: the sandbox's own pay page, in another tab, pays WeChat Pay's way.
        href = await page.get_by_test_id("sandbox-pay").get_attribute("href")
        assert href
        cashier = await desktop.new_page()
        await cashier.goto(href)
        assert "沙箱" in await cashier.content()
        await cashier.get_by_role("button", name="确认支付 / Pay").click()
        await cashier.get_by_text("支付成功").first.wait_for()

        # The order page, never reloaded, learns it from the server.
        await page.get_by_test_id("payment-status").filter(has_text="已付款").wait_for()
        assert page.url == order_url
        assert await page.get_by_test_id("order-status").inner_text() == "已付款"
        assert not await page.locator("#wxpay").is_visible()
        await page.screenshot(path=ARTIFACTS / "order-wechat-paid-desktop.png", full_page=True)

        # On a phone the same order page (paid) reads well at 390×844.
        phone = await browser.new_context(base_url=server, viewport={"width": 390, "height": 844},
                                          locale="zh-CN", storage_state=await desktop.storage_state())
        small = await phone.new_page()
        await small.goto(order_url)
        await small.screenshot(path=ARTIFACTS / "order-wechat-paid-phone.png", full_page=True)
