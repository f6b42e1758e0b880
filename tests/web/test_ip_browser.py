"""IP cases in Chromium, on a phone (390×844) and a laptop (1280×800): the public list of cases and outcomes, and the
seller's case page in the console where it reads the notice and files its counter-notice. Every screen is saved in
tests/web/artifacts/ and checked for text wider than its box."""

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
from tests.web.browser import BOTH_SIZES, chromium, screen
from tests.web.test_browser import ARTIFACTS, BROWSER_TEST

ADMIN = "ip-admin-" + uuid.uuid4().hex

pytestmark = BROWSER_TEST


@pytest.fixture(scope="module")
def ip_server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """`shop serve` on a free port against a fresh SQLite file."""
    tmp = tmp_path_factory.mktemp("ip_server")
    url = sqlite_copy(sqlite_template, tmp / "shop.db")
    with served(url, SHOP_ADMIN_TOKEN=ADMIN, SHOP_MEDIA_ROOT=str(tmp / "media")) as running:
        yield running.base


def _seed(api: httpx.Client) -> dict[str, Any]:
    """A verified shop with two listings under IP notices: one answered by a counter-notice, one not yet."""
    def ok(r: httpx.Response) -> Any:
        assert r.status_code in (200, 201), r.text
        return r.json()

    m = ok(api.post("/v1/merchants", json={"name": "云裳服饰旗舰店", "kind": "enterprise",
                                           "licence_no": "91350100M000100Y43", "contact_email": "shop@example.com"}))
    ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"}))
    key = {"Authorization": f"Bearer {m['api_key']}"}
    cases = []
    for n, title in enumerate(("冬季连帽羽绒服 加厚保暖 防风防水 男女同款", "真丝印花围巾")):
        p = ok(api.post("/v1/products", headers=key, json={
            "title": title, "category": "apparel", "description": "保暖", "status": "active",
            "variants": [{"sku": f"IP-{n}", "price": 789_000, "attributes": {"size": "L"}}]}))
        cases.append(ok(api.post("/v1/ip-notices", json={
            "product_id": p["id"],
            "rights_holder": {"name": "杭州云裳服饰有限公司法务部", "email": "legal@yunshang.example.com",
                              "phone": "0571-88886666"},
            "right_type": "trademark" if n == 0 else "copyright", "right_reference": f"第 1234567{n} 号",
            "notice": "该商品使用了我司注册商标“云裳”及图案，未经许可，请予以下架。",
            "evidence": ["https://evidence.example.com/tm-12345670-certificate-and-comparison.pdf"]})))
    ok(api.post(f"/v1/ip-cases/{cases[0]['id']}/counter-notice", headers=key, json={
        "statement": "本店商品为品牌授权经销，进货发票及授权书见附件，不构成侵权。",
        "evidence": ["https://evidence.example.com/invoice-2026.pdf"]}))
    return {"api_key": m["api_key"], "answered": cases[0]["id"], "open": cases[1]["id"]}


_screen = functools.partial(screen, prefix="ip")


@BOTH_SIZES
async def test_public_ip_cases_and_the_sellers_case_page_read_well_in_chinese(
        ip_server: str, size: str, viewport: ViewportSize) -> None:

    ARTIFACTS.mkdir(exist_ok=True)
    with httpx.Client(base_url=ip_server, timeout=60) as api:
        seeded = _seed(api)
    async with chromium() as browser:
        context = await browser.new_context(base_url=ip_server, viewport=viewport, locale="zh-CN")
        page = await context.new_page()
        await page.goto("/ip-cases")
        await page.get_by_role("heading", name="知识产权保护公示").wait_for()
        assert await page.get_by_test_id("ip-case-status").filter(has_text="已申辩，已转送权利人").count() >= 1
        assert "legal@yunshang" not in await page.content()
        await _screen(page, "1-public", size)
        await page.goto("/console/login")
        await page.locator('input[name="api_key"]').fill(seeded["api_key"])
        await page.locator("form", has=page.locator("#api_key")).locator("button").click()
        await page.wait_for_url("**/console/**")
        await page.goto("/console/ip-cases")
        await _screen(page, "2-console-list", size)
        await page.goto(f"/console/ip-cases/{seeded['open']}")
        await page.get_by_test_id("counter-form").wait_for()
        await _screen(page, "3-console-case", size)
        await page.get_by_label("声明", exact=True).fill("本店围巾图案为原创设计，有设计稿及著作权登记证书为证。")
        await page.get_by_label("证据链接（每行一个）").fill("https://evidence.example.com/design.pdf")
        await page.get_by_role("button", name="提交").click()
        await page.get_by_test_id("ip-restore-due").wait_for()
        assert await page.get_by_test_id("ip-status").inner_text() == "已申辩，已转送权利人"
        await _screen(page, "4-console-countered", size)
