"""A checkout across two merchants in a real browser, through the payment sandbox (`shop serve --sandbox-payments`):
the pay page lists each merchant's payment; WeChat Pay's one QR code pays both (a combined payment) and Alipay's
links are paid one after another, each share turning paid as it lands without a reload. At 1280×800 and 390×844;
screenshots land in tests/web/artifacts/."""

from __future__ import annotations

import httpx
from playwright.async_api import Browser, BrowserContext, Page

from tests.web.browser import chromium, guest_checkout
from tests.web.test_browser import ARTIFACTS
from tests.web.test_browser_pay import ADMIN, pytestmark, server  # noqa: F401  (the sandboxed server, its marks)

ADDRESS = {"name": "张三", "phone": "13800138000", "line1": "淮海中路 999 号", "district": "徐汇区", "city": "上海",
           "postal_code": "200031", "country": "CN"}


def _seed(api: httpx.Client) -> None:
    """Two verified merchants, each with its own WeChat Pay sub_mchid and Alipay authorisation, and a product."""
    def ok(r: httpx.Response) -> dict[str, object]:
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    shops = (("暖冬服饰", "91350100M000100Y43", "男士羽绒服", "DOWN-L", 789_000, "1900000109", "2088000000000109"),
             ("江南丝巾", "91330100MA2H3K4L50", "桑蚕丝围巾", "SILK-1", 19_900, "1900000110", "2088000000000110"))
    for name, licence, title, sku, price, sub_mchid, seller in shops:
        m = ok(api.post("/v1/merchants", json={"name": name, "kind": "enterprise", "licence_no": licence,
                                               "contact_email": "shop@example.com"}))
        ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"}))
        key = {"Authorization": f"Bearer {m['api_key']}"}
        wh = ok(api.post("/v1/locations", headers=key, json={"code": "WH", "name": "上海仓", "kind": "warehouse",
                                                             "address": ADDRESS}))
        ok(api.post("/v1/products", headers=key, json={
            "title": title, "category": "apparel", "description": "冬季新品", "status": "active",
            "variants": [{"sku": sku, "price": price, "attributes": {"规格": "标准"}}]}))
        ok(api.put(f"/v1/locations/{wh['id']}/stock/{sku}", headers=key, json={"on_hand": 10}))
        ok(api.put("/v1/payment-accounts/wechatpay", headers=key, json={"sub_merchant_id": sub_mchid}))
        ok(api.put("/v1/payment-accounts/alipay", headers=key,
                   json={"sub_merchant_id": seller, "app_auth_token": f"sbxtoken{seller}"}))


async def _buy_both(page: Page, method: str) -> None:
    await guest_checkout(page, ["男士羽绒服", "桑蚕丝围巾"])
    await page.get_by_label(method).check()
    await page.get_by_role("button", name="提交订单").click()
    await page.get_by_test_id("pay-shares").wait_for()


async def _no_broken_money(page: Page) -> None:
    """Every amount on the pay page reads ¥1,234.56 on one line."""
    for amount in await page.locator(".share-amount, [data-testid=pay-total]").all():
        text = await amount.inner_text()
        assert text.startswith("¥") and "\n" not in text, text
        box = await amount.bounding_box()
        assert box is not None and box["height"] < 40, (text, box)


async def _shares(page: Page) -> list[str]:
    return [await s.inner_text() for s in await page.get_by_test_id("share-status").all()]


async def _context(browser: Browser, server_url: str, width: int, height: int) -> BrowserContext:
    return await browser.new_context(base_url=server_url, viewport={"width": width, "height": height},
                                     locale="zh-CN")


async def test_two_merchants_paid_by_one_wechat_scan_and_by_alipay_one_after_another(server: str) -> None:  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    with httpx.Client(base_url=server, timeout=30) as seeder:
        _seed(seeder)
    async with chromium() as browser:
        # Desktop, WeChat Pay: one QR code for both merchants' shares.
        desktop = await _context(browser, server, 1280, 800)
        page = await desktop.new_page()
        await _buy_both(page, "微信支付")
        assert "/pay" in page.url
        await page.get_by_test_id("wechat-qr").locator("svg").wait_for()
        assert await page.locator(".share-seller").all_inner_texts() == ["暖冬服饰", "江南丝巾"]
        assert await _shares(page) == ["待付款", "待付款"]
        assert "¥7,890.00" in await page.locator(".shares").inner_text()
        await _no_broken_money(page)
        await page.screenshot(path=ARTIFACTS / "pay-split-wechat-desktop.png", full_page=True)
        pay_url = page.url
        href = await page.get_by_test_id("sandbox-pay").get_attribute("href")
        assert href
        cashier = await desktop.new_page()
        await cashier.goto(href)
        await cashier.get_by_role("button", name="确认支付 / Pay").click()
        await cashier.get_by_text("支付成功").first.wait_for()
        await page.get_by_test_id("pay-all").wait_for()  # the page, never reloaded, learns both landed
        assert page.url == pay_url and await _shares(page) == ["已付款", "已付款"]
        assert not await page.locator("#wxpay").is_visible()
        await page.screenshot(path=ARTIFACTS / "pay-split-wechat-paid-desktop.png", full_page=True)

        # Phone, Alipay: one cashier per merchant, paid one after another.
        phone = await _context(browser, server, 390, 844)
        small = await phone.new_page()
        await _buy_both(small, "支付宝")
        links = small.get_by_test_id("share-pay")
        assert await links.count() == 2
        assert "去支付宝付给「" in await links.first.inner_text()
        await _no_broken_money(small)
        await small.screenshot(path=ARTIFACTS / "pay-split-alipay-phone.png", full_page=True)
        await links.first.click()
        await small.get_by_role("button", name="确认付款 / Pay").click()
        await small.get_by_test_id("pay-shares").wait_for()  # back on the pay page
        statuses = await _shares(small)
        assert sorted(statuses) == ["已付款", "待付款"], statuses
        await small.screenshot(path=ARTIFACTS / "pay-split-alipay-one-paid-phone.png", full_page=True)
        await small.get_by_test_id("share-pay").click()  # the one left
        await small.get_by_role("button", name="确认付款 / Pay").click()
        await small.get_by_test_id("pay-all").wait_for()
        assert await _shares(small) == ["已付款", "已付款"]
        await small.screenshot(path=ARTIFACTS / "pay-split-alipay-paid-phone.png", full_page=True)
