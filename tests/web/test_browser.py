"""End to end in a real browser: headless Chromium (Debian's package) driving `shop serve`.

A shopper searches in Chinese, buys for store pick-up paying cash and sees the pickup code; the store's
POS collects it through the API; the merchant logs into the console and sees the order completed and
the channel-share chart; a community leader marks a group-buy collected. Screenshots land in
tests/web/artifacts/ (`UPDATE_SCREENSHOTS=1` also refreshes the README's two in docs/screenshots/).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from app.core.clock import SHANGHAI
from tests.conftest import sqlite_copy
from tests.servers import served

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).parent / "artifacts"
ADMIN = "browser-admin-" + uuid.uuid4().hex

# The marks of every browser test module: CI always runs them; elsewhere they need Debian's Chromium.
BROWSER_TEST = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and os.environ.get("CI") != "true",
                       reason="Chromium is not installed (apt-get install chromium); CI always runs this"),
]
pytestmark = BROWSER_TEST


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[str]:
    """`shop serve` on a free port against a fresh, migrated SQLite file."""
    url = sqlite_copy(sqlite_template, tmp_path_factory.mktemp("browser") / "shop.db")
    with served(url, SHOP_ADMIN_TOKEN=ADMIN) as running:
        yield running.base


def _seed(api: httpx.Client) -> dict[str, str]:
    """A verified merchant with a store (徐汇店), a down jacket in stock there and a pickup point with a leader."""
    def ok(r: httpx.Response) -> dict[str, object]:
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    m = ok(api.post("/v1/merchants", json={"name": "暖冬服饰", "kind": "enterprise",
                                           "licence_no": "91350100M000100Y43", "contact_email": "shop@example.com"}))
    ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"}))
    key = {"Authorization": f"Bearer {m['api_key']}"}
    addr = {"name": "张三", "phone": "13800138000", "line1": "淮海中路 999 号", "district": "徐汇区", "city": "上海",
            "postal_code": "200031", "country": "CN"}
    store = ok(api.post("/v1/locations", headers=key, json={"code": "XH", "name": "徐汇店", "kind": "store",
                                                            "address": addr}))
    product = ok(api.post("/v1/products", headers=key, json={
        "title": "男士羽绒服", "category": "apparel", "description": "加厚保暖，轻便", "status": "active",
        "variants": [{"sku": "DOWN-L", "price": 39900, "attributes": {"尺码": "L"}}]}))
    rice = ok(api.post("/v1/products", headers=key, json={
        "title": "五常大米 5kg", "category": "agri", "description": "新米", "status": "active",
        "variants": [{"sku": "RICE-5", "price": 5990}]}))
    for sku in ("DOWN-L", "RICE-5"):
        ok(api.put(f"/v1/locations/{store['id']}/stock/{sku}", headers=key, json={"on_hand": 10}))
    device = ok(api.post(f"/v1/locations/{store['id']}/devices", headers=key, json={"name": "收银台 1"}))
    till = {"Authorization": f"Bearer {device['token']}"}
    now = datetime.now(UTC)
    ok(api.post("/v1/pos/events", headers={**till, "Idempotency-Key": uuid.uuid4().hex}, json={"events": [
        {"event_id": uuid.uuid4().hex, "type": "sale", "sku": "DOWN-L", "quantity": 1,
         "occurred_at": now.isoformat()}]}))
    point = ok(api.post("/v1/community/pickup-points", headers=key, json={
        "name": "幸福小区自提点", "address": addr, "leader_name": "王团长", "leader_phone": "13900139000",
        "commission_rate": 500}))
    closes = now + timedelta(minutes=5)
    pickup_day = closes.astimezone(SHANGHAI).date().isoformat()
    variants = rice["variants"]
    assert isinstance(variants, list)
    gb = ok(api.post("/v1/community/group-buys", headers=key, json={
        "variant_id": variants[0]["id"], "price": 4990, "min_quantity": 1, "max_quantity": 50,
        "closes_at": closes.isoformat(), "pickup_date": pickup_day}))
    ok(api.post("/v1/customers", json={"email": "li@example.com", "password": "s3cret-pass", "name": "李四"}))
    tok = ok(api.post("/v1/auth/token", data={"username": "li@example.com", "password": "s3cret-pass"}))
    joined = ok(api.post(f"/v1/community/group-buys/{gb['id']}/join",
                         headers={"Authorization": f"Bearer {tok['access_token']}",
                                  "Idempotency-Key": uuid.uuid4().hex},
                         json={"quantity": 2, "pickup_point_id": point["id"], "payment_method": "cod"}))
    ok(api.post(f"/v1/community/group-buys/{gb['id']}/close", headers=key))
    order = joined.get("order", joined)
    assert isinstance(order, dict)
    return {"api_key": str(m["api_key"]), "till": str(device["token"]), "product_id": str(product["id"]),
            "leader_token": str(point["leader_token"]), "gb_code": str(order["pickup_code"]),
            "gb_order": str(order["id"]), "pickup_day": pickup_day}


async def test_shop_collect_console_and_leader_in_a_browser(server: str) -> None:
    from tests.web.browser import chromium  # that module imports this one

    ARTIFACTS.mkdir(exist_ok=True)
    with httpx.Client(base_url=server, timeout=30) as seeder:
        seed = _seed(seeder)
    async with httpx.AsyncClient(base_url=server, timeout=30) as api:
        async with chromium() as browser:
            # -- the shopper, on a phone-sized screen
            phone = await browser.new_context(base_url=server, viewport={"width": 390, "height": 844},
                                              locale="zh-CN")
            page = await phone.new_page()
            await page.goto("/")
            await page.screenshot(path=ARTIFACTS / "storefront-home.png")
            await page.get_by_label("搜索").first.fill("羽绒")
            await page.get_by_role("button", name="搜索").click()
            await page.get_by_role("link", name="男士羽绒服").click()
            await page.get_by_text("有货 · 可到店自提: 徐汇店").wait_for()
            await page.screenshot(path=ARTIFACTS / "product.png", full_page=True)
            await page.get_by_role("button", name="加入购物车").click()
            await page.get_by_role("status").wait_for()
            await page.goto("/cart")
            await page.get_by_role("link", name="去结算").click()
            await page.get_by_label("电子邮箱").fill("guest@example.com")
            await page.get_by_label("到店自提").check()
            await page.get_by_label("自提门店").select_option(label="徐汇店")
            await page.get_by_label("货到付款 / 到店付款").check()
            await page.screenshot(path=ARTIFACTS / "checkout.png", full_page=True)
            await page.get_by_role("button", name=re.compile("提交订单")).click()
            code = (await page.get_by_test_id("pickup-code").inner_text()).strip()
            assert re.fullmatch(r"\w{4,12}", code)
            await page.screenshot(path=ARTIFACTS / "order-pickup-code.png", full_page=True)
            order_id = page.url.split("/orders/")[1].split("?")[0]

            # -- the store's till collects it (POS API)
            till = {"Authorization": f"Bearer {seed['till']}"}
            r = await api.post(f"/v1/orders/{order_id}/collect", headers=till, json={"pickup_code": code})
            assert r.status_code == 200 and r.json()["status"] == "completed", r.text
            await page.reload()
            assert await page.get_by_test_id("order-status").inner_text() == "已完成"

            # -- the merchant, on a laptop
            laptop = await browser.new_context(base_url=server, viewport={"width": 1100, "height": 800})
            console = await laptop.new_page()
            await console.goto("/console/")
            await console.get_by_label("商家 API 密钥").fill(seed["api_key"])
            await console.get_by_label("商家 API 密钥").press("Enter")
            chart = console.locator("svg.chart")
            await chart.wait_for()
            assert await console.locator("svg.chart rect.bar-online").count() > 1
            assert await console.locator("svg.chart rect.bar-offline").count() > 1
            await console.screenshot(path=ARTIFACTS / "console-dashboard.png", full_page=True)
            await console.goto(f"/console/orders/{order_id}")
            assert await console.get_by_test_id("order-status").inner_text() == "已完成"
            await console.goto("/console/stock")
            await console.screenshot(path=ARTIFACTS / "console-stock.png", full_page=True)

            # -- the community leader
            leader = await (await browser.new_context(base_url=server, viewport={"width": 390, "height": 844})
                            ).new_page()
            await leader.goto("/leader/")
            await leader.get_by_label("团长令牌").fill(seed["leader_token"])
            await leader.get_by_role("button", name="登录").click()
            await leader.goto(f"/leader/?date={seed['pickup_day']}")
            await leader.get_by_text("待取货").wait_for()
            await leader.get_by_label("取货码").fill(seed["gb_code"])
            await leader.get_by_role("button", name="确认取货").click()
            await leader.get_by_role("status").wait_for()
            assert await leader.locator(f'[data-order="{seed["gb_order"]}"]').get_by_text("已取货").count() == 1
            await leader.screenshot(path=ARTIFACTS / "leader.png", full_page=True)
        r = await api.get(f"/v1/orders/{seed['gb_order']}", headers={"Authorization": f"Bearer {seed['api_key']}"})
        assert r.json()["status"] == "completed"
    # The README's pictures: written when missing or on request, so a test run leaves tracked files alone.
    docs = ROOT / "docs" / "screenshots"
    docs.mkdir(parents=True, exist_ok=True)
    for source, target in (("order-pickup-code.png", "storefront.png"), ("console-dashboard.png", "console.png")):
        if os.environ.get("UPDATE_SCREENSHOTS") == "1" or not (docs / target).exists():
            shutil.copyfile(ARTIFACTS / source, docs / target)
