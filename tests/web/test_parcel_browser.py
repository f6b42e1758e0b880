"""A buyer in Chromium, on a phone (390×844) and a laptop (1280×800), follows a parcel: the order page shows the
carrier, the journey the carrier pushed (newest first, whatever order the steps arrived in) and a 确认收货 button;
confirming receipt signs for the order. Screens are saved in tests/web/artifacts/ and checked for text wider than
its box and amounts broken across lines."""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import ViewportSize

from app.core.clock import SHANGHAI
from app.logistics.providers import kuaidi100
from tests.conftest import sqlite_copy
from tests.servers import served
from tests.web.browser import BOTH_SIZES, chromium, screen
from tests.web.test_browser import ARTIFACTS, BROWSER_TEST

ADMIN = "parcel-admin-" + uuid.uuid4().hex
SALT = "parcel-salt-" + uuid.uuid4().hex
PASSWORD = "s3cret-pass"

pytestmark = BROWSER_TEST


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """`shop serve` on a free port against a fresh SQLite file, taking Kuaidi100 pushes signed with SALT."""
    tmp = tmp_path_factory.mktemp("shop_server")
    url = sqlite_copy(sqlite_template, tmp / "shop.db")
    with served(url, SHOP_ADMIN_TOKEN=ADMIN, SHOP_MEDIA_ROOT=str(tmp / "media"), SHOP_KUAIDI100_SALT=SALT) as running:
        yield running.base


def _ok(r: httpx.Response) -> Any:
    assert r.status_code in (200, 201), r.text
    return r.json()


def _push(api: httpx.Client, number: str, steps: list[tuple[str, str, str, str]]) -> None:
    """Kuaidi100 pushes (Beijing time, statusCode, text, area), newest step first as it sends them."""
    param = json.dumps({"status": "polling", "message": "", "lastResult": {
        "nu": number, "com": "shunfeng", "state": steps[0][1][0], "ischeck": "0", "data": [
            {"time": t, "ftime": t, "statusCode": code, "context": text, "areaName": area}
            for t, code, text, area in steps]}}, ensure_ascii=False)
    _ok(api.post("/v1/logistics/kuaidi100/push", data={"param": param, "sign": kuaidi100.sign(param, SALT)}))


def _parcel(api: httpx.Client, size: str) -> tuple[str, str, str]:
    """A shop in Hangzhou sells a down jacket at ¥7,890.00 to a signed-in buyer, ships it by SF Express and the
    carrier pushes its journey, the middle step last. Returns (order id, the buyer's e-mail, the newest step's time)."""
    m = _ok(api.post("/v1/merchants", json={"name": "暖冬服饰旗舰店", "kind": "enterprise",
                                            "licence_no": "91350100M000100Y43", "contact_email": "shop@example.com"}))
    _ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"}))
    seller = {"Authorization": f"Bearer {m['api_key']}"}
    address = {"name": "王小明", "phone": "13912345678", "line1": "文三路 90 号", "district": "西湖区",
               "city": "杭州市", "province": "浙江省", "postal_code": "310012", "country": "CN"}
    wh = _ok(api.post("/v1/locations", headers=seller, json={"code": "HZ", "name": "杭州仓", "kind": "warehouse",
                                                             "address": address}))
    sku = f"JACKET-{size}"
    product = _ok(api.post("/v1/products", headers=seller, json={
        "title": "冬季连帽羽绒服 加厚保暖", "category": "apparel", "description": "九十鸭绒", "status": "active",
        "variants": [{"sku": sku, "price": 789_000, "attributes": {"颜色": "黑色"}}]}))
    _ok(api.put(f"/v1/locations/{wh['id']}/stock/{sku}", headers=seller, json={"on_hand": 5}))
    email = f"buyer-{size}@example.com"
    _ok(api.post("/v1/customers", json={"email": email, "password": PASSWORD, "name": "王小明"}))
    token = _ok(api.post("/v1/auth/token", data={"username": email, "password": PASSWORD}))["access_token"]
    order = _ok(api.post("/v1/checkout", headers={"Authorization": f"Bearer {token}"}, json={
        "lines": [{"variant_id": product["variants"][0]["id"], "quantity": 1}],
        "fulfilment": {"type": "delivery", "address": address}, "payment_method": "cod"}))["orders"][0]
    number = "SF1" + ("234567890123" if size == "phone" else "234567890124")
    _ok(api.post(f"/v1/orders/{order['id']}/shipments", headers=seller, json={"carrier": "SF", "tracking_no": number}))
    at = [_beijing(hours) for hours in (1, 6, 13, 18)]  # after the order was placed
    _push(api, number, [(at[1], "0", "快件已发往【上海浦东集散中心】", "浙江,杭州市"),
                        (at[0], "1", "顺丰速运 已收取快件，揽件员：陈师傅", "浙江,杭州市")])
    _push(api, number, [(at[3], "5", "快件交给【王师傅 13800000000】，正在派送途中", "上海,浦东新区"),
                        (at[2], "0", "快件到达【上海浦东集散中心】", "上海,浦东新区")])
    return str(order["id"]), email, at[3][:16]


def _beijing(hours: int) -> str:
    """Now plus `hours`, as Kuaidi100 writes a step's time (Beijing time, to the minute)."""
    return (datetime.now(SHANGHAI) + timedelta(hours=hours)).strftime("%Y-%m-%d %H:%M:00")


_screen = functools.partial(screen, prefix="parcel")


@BOTH_SIZES
async def test_a_buyer_sees_the_parcels_journey_and_confirms_receipt(shop_server: str, size: str,
                                                                      viewport: ViewportSize) -> None:

    ARTIFACTS.mkdir(exist_ok=True)
    with httpx.Client(base_url=shop_server, timeout=60) as api:
        order_id, email, newest = _parcel(api, size)
    async with chromium() as browser:
        context = await browser.new_context(base_url=shop_server, viewport=viewport, locale="zh-CN")
        page = await context.new_page()
        await page.goto(f"/account/login?next=/orders/{order_id}")
        await page.locator("form[action='/account/login'] input[name=email]").fill(email)
        await page.locator("form[action='/account/login'] input[name=password]").fill(PASSWORD)
        await page.locator("form[action='/account/login'] button[type=submit]").click()
        await page.get_by_test_id("journey").wait_for()
        assert "顺丰速运" in await page.get_by_test_id("carrier").inner_text()
        steps = await page.locator("[data-testid=journey] li").all_inner_texts()
        assert len(steps) == 4
        assert "正在派送途中" in steps[0] and newest in steps[0] and "派送中" in steps[0]
        assert "到达【上海浦东集散中心】" in steps[1] and "已发往" in steps[2] and "已收取快件" in steps[3]
        assert "¥7,890.00" in await page.get_by_test_id("order-lines").inner_text()
        await _screen(page, "1-journey", size)
        await page.get_by_role("button", name="确认收货").click()
        await page.get_by_text("已确认收货").first.wait_for()
        assert "买家确认收货" in await page.get_by_test_id("signed").inner_text()
        assert await page.get_by_role("button", name="确认收货").count() == 0
        assert await page.get_by_test_id("order-status").inner_text() == "已送达"
        await _screen(page, "2-signed", size)
