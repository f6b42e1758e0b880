"""In Chromium, on a phone (390×844) and a laptop (1280×800): the footer shows the ICP number configured in
SHOP_PLATFORM_ICP_NO and its links open real pages (licence, rules, credit formula, complaints); a product card
shows the unregistered-seller badge and the platform's own goods their 自营 label; the sort menu's 信用 puts the
seller with the better credit score first (C12). Screens are saved in
tests/web/artifacts/ and checked for text wider than its box and amounts broken across lines."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import ViewportSize

from tests.conftest import sqlite_copy
from tests.servers import served
from tests.web.browser import BOTH_SIZES, chinese_page, chromium, screen
from tests.web.test_browser import ARTIFACTS, BROWSER_TEST

ADMIN = "legal-admin-" + uuid.uuid4().hex
ICP = "粤ICP备20261203号-7"

pytestmark = BROWSER_TEST


@pytest.fixture(scope="module")
def legal_server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """`shop serve` with the operator's own ICP number, on a free port against a fresh SQLite file."""
    tmp = tmp_path_factory.mktemp("legal_server")
    url = sqlite_copy(sqlite_template, tmp / "shop.db")
    with served(url, SHOP_ADMIN_TOKEN=ADMIN, SHOP_MEDIA_ROOT=str(tmp / "media"), SHOP_PLATFORM_ICP_NO=ICP) as running:
        _seed(running.base)
        yield running.base


def _seed(base: str) -> None:
    """An unregistered individual selling a book, and the platform's own shop selling a jacket (its credit score
lowered by an upheld complaint)."""
    admin = {"Authorization": f"Bearer {ADMIN}"}
    with httpx.Client(base_url=base, timeout=60) as api:
        def ok(r: httpx.Response) -> Any:
            assert r.status_code in (200, 201), r.text
            return r.json()

        for name, kind, licence, title, price in (
                ("小王的旧书摊", "individual", "110101199003070011", "二手《红楼梦》人民文学出版社", 3_500),
                ("流通自营旗舰店", "enterprise", "91350100M000100Y43", "冬季连帽羽绒服 加厚保暖", 789_000)):
            m = ok(api.post("/v1/merchants", json={"name": name, "kind": kind, "licence_no": licence,
                                                   "contact_email": "s@example.com",
                                                   "id_number_consent": kind == "individual"}))
            ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers=admin))
            if kind == "enterprise":
                ok(api.put(f"/v1/admin/merchants/{m['id']}/self-operated", headers=admin,
                           json={"self_operated": True}))
            key = {"Authorization": f"Bearer {m['api_key']}"}
            ok(api.post("/v1/products", headers=key, json={
                "title": title, "category": "books-media" if kind == "individual" else "apparel",
                "status": "active", "description": title, "variants": [{"sku": f"SKU-{kind}", "price": price}]}))
            if kind == "enterprise":  # an upheld complaint: 40 points off the newer shop's credit score
                made = ok(api.post("/v1/complaints", json={"target_type": "merchant", "target_id": m["id"],
                                                           "reason": "发货慢", "contact_email": "w@example.com"}))
                ok(api.post(f"/v1/admin/complaints/{made['id']}/resolve", headers=admin,
                            json={"outcome": "upheld", "note": "属实"}))


_screen = functools.partial(screen, prefix="legal")


@BOTH_SIZES
async def test_footer_shows_the_configured_icp_number_and_cards_show_the_unregistered_badge(
        legal_server: str, size: str, viewport: ViewportSize) -> None:

    ARTIFACTS.mkdir(exist_ok=True)
    async with chromium() as browser:
        context = await browser.new_context(base_url=legal_server, viewport=viewport, locale="zh-CN")
        page = await context.new_page()
        await page.goto("/")
        book = page.locator(".card", has_text="红楼梦")
        assert await book.get_by_test_id("unregistered-badge").inner_text() == "未登记个人卖家"
        assert await book.get_by_test_id("unregistered-badge").is_visible()
        jacket = page.locator(".card", has_text="羽绒服")
        assert await jacket.get_by_test_id("self-operated").inner_text() == "自营"
        assert await jacket.get_by_test_id("unregistered-badge").count() == 0
        footer = page.get_by_test_id("site-footer")
        await footer.scroll_into_view_if_needed()
        assert await footer.get_by_test_id("icp-no").inner_text() == ICP
        await _screen(page, "1-home", size)
        for testid, heading, name in (("licence-link", "平台经营者信息与营业执照", "2-licence"),
                                      ("rules-link", "平台服务协议与交易规则", "3-rules"),
                                      ("credit-link", "商家信用评价规则（v1）", "4-credit"),
                                      ("complaints-link", "投诉举报", "5-complaints")):
            await page.goto("/")
            await page.get_by_test_id("site-footer").get_by_test_id(testid).click()
            await page.get_by_role("heading", level=1, name=heading).wait_for()
            assert await page.get_by_test_id("site-footer").get_by_test_id("icp-no").inner_text() == ICP
            await _screen(page, name, size)
        await page.goto("/search?q=红楼梦")
        assert await page.locator(".card").get_by_test_id("unregistered-badge").count() == 1
        await _screen(page, "6-search", size)
        await page.locator(".card a.card-link", has_text="红楼梦").click()
        await page.locator(".seller-line").get_by_test_id("unregistered-badge").wait_for()
        await _screen(page, "7-product", size)


@BOTH_SIZES
async def test_the_sort_menu_puts_the_seller_with_better_credit_first(
        legal_server: str, size: str, viewport: ViewportSize) -> None:
    async with chinese_page(legal_server, viewport) as page:
        await page.goto("/?sort=newest")
        assert "羽绒服" in await page.locator(".card").first.inner_text()  # the newer listing
        await page.get_by_label("排序").select_option(label="信用")
        await page.get_by_test_id("filters").get_by_role("button", name="确定").click()
        await page.wait_for_url("**sort=credit**")
        cards = page.locator(".card")
        assert "红楼梦" in await cards.first.inner_text() and "羽绒服" in await cards.nth(1).inner_text()
        assert await page.get_by_test_id("ad-label").count() == 0
        assert await page.get_by_role("heading", level=1).inner_text() == "全部商品"  # not 新品: sorted by credit
        await _screen(page, "8-sort-by-credit", size)
