"""In Chromium, on a phone (390×844) and a laptop (1280×800): a SKU sold again after a return shows its condition
label (二次销售) on the product page (C35). Screens are saved in tests/web/artifacts/ and checked for text wider than
its box and amounts broken across lines."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import ViewportSize

from tests import factories as f
from tests.conftest import sqlite_copy
from tests.servers import served
from tests.web.browser import BOTH_SIZES, chinese_page, screen
from tests.web.test_browser import BROWSER_TEST

ADMIN = "returns-admin-" + uuid.uuid4().hex

pytestmark = BROWSER_TEST


@pytest.fixture(scope="module")
def returned_product(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[tuple[str, str]]:
    """`shop serve` on a fresh SQLite file with one jacket: bought, returned, and labelled 二次销售 by its seller."""
    tmp = tmp_path_factory.mktemp("returns_server")
    url = sqlite_copy(sqlite_template, tmp / "shop.db")
    with served(url, SHOP_ADMIN_TOKEN=ADMIN, SHOP_MEDIA_ROOT=str(tmp / "media")) as running:
        yield running.base, _seed(running.base)


def _seed(base: str) -> str:
    with httpx.Client(base_url=base, timeout=60) as api:
        def ok(r: httpx.Response) -> Any:
            assert r.status_code in (200, 201), r.text
            return r.json()

        m = ok(api.post("/v1/merchants", json={"name": "好物服饰", "kind": "enterprise",
                                               "licence_no": "91350100M000100Y43", "contact_email": "s@example.com"}))
        ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"}))
        key = {"Authorization": f"Bearer {m['api_key']}"}
        wh = ok(api.post("/v1/locations", headers=key, json={"code": "WH", "name": "仓库", "kind": "warehouse",
                                                             "address": f.address()}))
        p = ok(api.post("/v1/products", headers=key, json={
            "title": "冬季连帽羽绒服 加厚保暖", "category": "apparel", "status": "active", "description": "保暖",
            "variants": [{"sku": "JACKET-1", "price": 789_000}]}))
        ok(api.put(f"/v1/locations/{wh['id']}/stock/JACKET-1", headers=key, json={"on_hand": 5}))
        ok(api.post("/v1/customers", json={"email": "b@example.com", "password": "s3cret-pass", "name": "李四"}))
        token = ok(api.post("/v1/auth/token", data={"username": "b@example.com", "password": "s3cret-pass"}))
        buyer = {"Authorization": f"Bearer {token['access_token']}"}
        order = ok(api.post("/v1/checkout", headers=buyer, json={
            "lines": [{"variant_id": p["variants"][0]["id"], "quantity": 1}], "payment_method": "cod",
            "fulfilment": f.delivery()}))["orders"][0]
        ok(api.post(f"/v1/orders/{order['id']}/shipments", headers=key,
                    json={"carrier": "SF", "tracking_no": "SF1234567890123"}))
        ok(api.post(f"/v1/orders/{order['id']}/deliver", headers=key))
        ok(api.post(f"/v1/orders/{order['id']}/returns", headers=buyer, json={
            "lines": [{"variant_id": p["variants"][0]["id"], "quantity": 1}], "reason": "尺码不合适"}))
        ok(api.patch(f"/v1/products/{p['id']}", headers=key,
                     json={"variants": [{"sku": "JACKET-1", "condition_label": "二次销售"}]}))
        return str(p["id"])


_screen = functools.partial(screen, prefix="returns")


@BOTH_SIZES
async def test_the_product_page_shows_the_condition_label_of_returned_goods(
        returned_product: tuple[str, str], size: str, viewport: ViewportSize) -> None:
    base, product_id = returned_product
    async with chinese_page(base, viewport) as page:
        await page.goto(f"/products/{product_id}")
        label = page.get_by_test_id("condition-label")
        assert await label.is_visible()
        assert (await label.inner_text()).replace(" ", "") == "商品状况:二次销售"
        await _screen(page, "1-product", size)
