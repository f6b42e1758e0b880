"""A buyer in Chromium, on a phone (390×844) and a laptop (1280×800), asks for a company invoice at checkout (a wrong
taxpayer number is refused beside its field); the shop issues it with 开具发票 on the console's order page and finds
it in the console's invoice list; the buyer downloads the PDF from the order page, and pdftotext reads the company,
its number and the total from the file the browser saved. Screens go to tests/web/artifacts/ and are checked for
text wider than its box and amounts broken across lines."""

from __future__ import annotations

import asyncio
import functools
import uuid
from typing import Any

import httpx
from playwright.async_api import ViewportSize

from app.core.uscc import uscc_check_char
from tests.web.browser import BOTH_SIZES, chromium, fill_address, screen
from tests.web.test_browser import ARTIFACTS
from tests.web.test_shopper_browser import ADMIN, pytestmark, shop_server

__all__ = ["pytestmark", "shop_server"]  # the module's marks and its server come from the shopper's test

FIRST17 = "91310115MA1H3YQ2X"
TAXPAYER_ID = FIRST17 + uscc_check_char(FIRST17)
COMPANY = "上海流通科技有限公司"


def _ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


async def _run(*args: str) -> bytes:
    proc = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0, args
    return out


async def _seed(api: httpx.AsyncClient) -> dict[str, Any]:
    """A verified shop selling a wool coat (13 % VAT)."""
    m = _ok(await api.post("/v1/merchants", json={"name": "流通优选旗舰店", "kind": "enterprise",
                                            "licence_no": "91350100M000100Y43", "contact_email": "inv@example.com"}))
    _ok(await api.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"}))
    key = {"Authorization": f"Bearer {m['api_key']}"}
    wh = _ok(await api.post("/v1/locations", headers=key, json={"code": f"INV-{uuid.uuid4().hex[:6]}", "name": "嘉定仓",
                                                          "kind": "warehouse", "address": {
        "name": "店长", "phone": "021-55550000", "line1": "世纪大道 1 号", "district": "浦东新区", "city": "上海市",
        "province": "上海市", "postal_code": "200120", "country": "CN"}}))
    coat = _ok(await api.post("/v1/products", headers=key, json={
        "title": "羊绒混纺大衣 双面呢", "category": "apparel", "status": "active", "description": "双面呢大衣",
        "variants": [{"sku": f"COAT-{uuid.uuid4().hex[:6]}", "price": 789_000}]}))
    sku = coat["variants"][0]["sku"]
    _ok(await api.put(f"/v1/locations/{wh['id']}/stock/{sku}", headers=key, json={"on_hand": 20}))
    return {"key": key, "api_key": m["api_key"], "coat": coat["id"]}


_screen = functools.partial(screen, prefix="invoice")


@BOTH_SIZES
async def test_a_buyer_asks_for_an_invoice_and_downloads_it(shop_server: str, size: str,
                                                            viewport: ViewportSize) -> None:

    ARTIFACTS.mkdir(exist_ok=True)
    async with httpx.AsyncClient(base_url=shop_server, timeout=60) as api:
        shop = await _seed(api)
        email = f"buyer-{size}-{uuid.uuid4().hex[:6]}@example.com"
        _ok(await api.post("/v1/customers", json={"email": email, "password": "s3cret-pass", "name": "李四"}))
    async with chromium() as browser:
        context = await browser.new_context(base_url=shop_server, viewport=viewport, locale="zh-CN",
                                            accept_downloads=True)
        page = await context.new_page()
        await page.goto("/account/login")
        await page.locator("#login-email").fill(email)
        await page.locator("#login-password").fill("s3cret-pass")
        await page.locator("#login-password").press("Enter")
        await page.wait_for_url("**/")
        await page.goto(f"/products/{shop['coat']}")
        await page.get_by_role("button", name="加入购物车").click()
        await page.get_by_role("status").wait_for()
        await page.goto("/checkout")
        await page.get_by_label("快递配送").check()
        await fill_address(page)
        await page.get_by_label("货到付款 / 到店付款").check()
        assert not await page.get_by_label("发票抬头").is_visible()  # shown once the buyer asks
        await page.get_by_label("需要发票").check()
        await page.get_by_label("单位").check()
        await page.get_by_label("发票抬头").fill(COMPANY)
        await page.get_by_label("纳税人识别号").fill(TAXPAYER_ID[:17] + ("0" if TAXPAYER_ID[-1] != "0" else "1"))
        await page.get_by_role("button", name="提交订单").click()
        assert "统一社会信用代码" in await page.get_by_test_id("error-invoice_taxpayer_id").inner_text()
        await _screen(page, "1-checkout-error", size)
        await page.get_by_label("纳税人识别号").fill(TAXPAYER_ID)
        await _screen(page, "2-checkout", size)
        await page.get_by_role("button", name="提交订单").click()
        await page.get_by_text("下单成功").wait_for()
        assert COMPANY in await page.get_by_test_id("invoice-requested").inner_text()
        order_id = page.url.split("/orders/")[1].split("?")[0]
        await _screen(page, "3-requested", size)

        async with httpx.AsyncClient(base_url=shop_server, timeout=60) as api:  # the parcel arrives (COD: paid)
            _ok(await api.post(f"/v1/orders/{order_id}/shipments", headers=shop["key"],
                               json={"carrier": "SF", "tracking_no": "SF1234567890123"}))
            _ok(await api.post(f"/v1/orders/{order_id}/deliver", headers=shop["key"]))
        # The shop issues it from the console's order page.
        shop_ctx = await browser.new_context(base_url=shop_server, viewport=viewport, locale="zh-CN")
        console = await shop_ctx.new_page()
        await console.goto("/console/login")
        await console.get_by_label("商家 API 密钥").fill(str(shop["api_key"]))
        await console.get_by_label("商家 API 密钥").press("Enter")
        await console.wait_for_url("**/console/")
        await console.goto(f"/console/orders/{order_id}")
        assert COMPANY in await console.get_by_test_id("invoice-request").inner_text()
        await _screen(console, "5-console-request", size)
        await console.get_by_role("button", name="开具发票").click()
        await console.get_by_test_id("invoice").wait_for()
        await _screen(console, "6-console-issued", size)
        async with httpx.AsyncClient(base_url=shop_server, timeout=60) as api:
            [invoice] = _ok(await api.get(f"/v1/orders/{order_id}/invoices", headers=shop["key"]))["items"]
        assert invoice["number"] in await console.get_by_test_id("invoice").inner_text()
        await console.goto(f"/console/invoices?q={invoice['number']}")
        assert COMPANY in await console.locator("table").inner_text()
        await _screen(console, "7-console-list", size)
        await page.reload()
        link = page.get_by_test_id("invoice-download")
        assert await link.inner_text() == "下载发票（PDF）"
        assert invoice["number"] in await page.get_by_test_id("invoice").inner_text()
        assert "¥7,890.00" in await page.get_by_test_id("invoice").inner_text()
        await _screen(page, "8-invoice", size)
        async with page.expect_download() as info:
            await link.click()
        download = await info.value
        saved = ARTIFACTS / f"invoice-{size}.pdf"
        await download.save_as(saved)
    text = (await _run("pdftotext", "-layout", str(saved), "-")).decode()
    for word in (COMPANY, TAXPAYER_ID, invoice["number"], "羊绒混纺大衣 双面呢", "13%", "¥7,890.00",
                 f"¥{invoice['tax_total'] // 100:,}.{invoice['tax_total'] % 100:02d}", "柒仟捌佰玖拾圆整"):
        assert word in text, word
    await _run("pdftoppm", "-png", "-r", "60", "-singlefile", str(saved), str(ARTIFACTS / f"invoice-{size}-pdf"))
