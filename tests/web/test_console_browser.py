"""The console's acceptance run in Chromium, as three people: the owner invites a clerk and a warehouse user; the
warehouse user ships 50 orders from one carrier CSV and prints their packing slips (pdftotext reads the Chinese);
the clerk collects a pick-up order at their store and cannot see another store's. Screenshots at 1280×800 and
390×844 land in tests/web/artifacts/."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import urlencode

import httpx
import pytest

from tests.web.browser import chromium
from tests.web.test_browser import ADMIN, ARGS, ARTIFACTS, CHROMIUM, server  # noqa: F401  (the module's server)

pytestmark = [pytest.mark.browser]

DESK = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _seed(api: httpx.Client) -> dict[str, object]:
    """A verified shop with two stores, 50 delivery orders to ship and a pick-up order at each store."""
    def ok(r: httpx.Response) -> dict[str, object]:
        assert r.status_code in (200, 201), r.text
        return dict(r.json())

    m = ok(api.post("/v1/merchants", json={"name": "暖冬服饰", "kind": "enterprise",
                                           "licence_no": "91350100M000100Y43", "contact_email": "shop@example.com"}))
    ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {ADMIN}"}))
    key = {"Authorization": f"Bearer {m['api_key']}"}
    addr = {"name": "张三", "phone": "13800138000", "line1": "淮海中路 999 号", "district": "徐汇区", "city": "上海",
            "province": "上海", "postal_code": "200031", "country": "CN"}
    wh = ok(api.post("/v1/locations", headers=key, json={"code": "WH", "name": "嘉定仓", "kind": "warehouse",
                                                         "address": addr}))
    xh = ok(api.post("/v1/locations", headers=key, json={"code": "XH", "name": "徐汇店", "kind": "store",
                                                         "address": addr}))
    ja = ok(api.post("/v1/locations", headers=key, json={"code": "JA", "name": "静安店", "kind": "store",
                                                         "address": {**addr, "line1": "南京西路 1618 号"}}))
    product = ok(api.post("/v1/products", headers=key, json={
        "title": "男士加厚羽绒服", "category": "apparel", "description": "加厚保暖", "status": "active",
        "variants": [{"sku": "DOWN-XL", "price": 129900}]}))
    variant = product["variants"][0]["id"]  # type: ignore[index]
    ok(api.put(f"/v1/locations/{wh['id']}/stock/DOWN-XL", headers=key, json={"on_hand": 500}))
    for store in (xh, ja):
        ok(api.put(f"/v1/locations/{store['id']}/stock/DOWN-XL", headers=key, json={"on_hand": 5}))
    numbers = []
    for i in range(50):
        order = ok(api.post("/v1/checkout", json={
            "lines": [{"variant_id": variant, "quantity": 1 + i % 3}], "email": f"buyer{i}@example.com",
            "payment_method": "cod", "fulfilment": {"type": "delivery", "address": {
                **addr, "name": f"顾客{i:02d}", "phone": f"1390000{i:04d}"}}}))["orders"]
        numbers.append(order[0]["number"])  # type: ignore[index]
    pickups = {}
    for name, store in (("xh", xh), ("ja", ja)):
        order = ok(api.post("/v1/checkout", json={
            "lines": [{"variant_id": variant, "quantity": 1}], "email": f"pickup-{name}@example.com",
            "payment_method": "cod", "fulfilment": {"type": "pickup", "location_id": store["id"]}}))["orders"]
        pickups[name] = order[0]  # type: ignore[index]
    return {"api_key": m["api_key"], "xh": xh["id"], "numbers": numbers, "pickups": pickups}


async def _pdftotext(pdf: bytes) -> str:
    proc = await asyncio.create_subprocess_exec("pdftotext", "-", "-", stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate(pdf)
    assert proc.returncode == 0
    return out.decode()


async def test_owner_invites_warehouse_ships_fifty_and_clerk_collects(server: str) -> None:  # noqa: F811

    ARTIFACTS.mkdir(exist_ok=True)
    with httpx.Client(base_url=server, timeout=60) as seeder:
        seed = _seed(seeder)
    pickups = seed["pickups"]
    assert isinstance(pickups, dict)
    async with chromium() as browser:
        # -- the owner, at a desk: signs in with the shop's key and invites two people
        owner_ctx = await browser.new_context(base_url=server, viewport=DESK, locale="zh-CN")
        owner = await owner_ctx.new_page()
        await owner.goto("/console/login")
        await owner.screenshot(path=ARTIFACTS / "console-login-desk.png")
        await owner.get_by_label("商家 API 密钥").fill(str(seed["api_key"]))
        await owner.get_by_label("商家 API 密钥").press("Enter")
        await owner.locator("svg.chart").wait_for()
        await owner.screenshot(path=ARTIFACTS / "console-dashboard-desk.png", full_page=True)
        links = {}
        for name, login, role, store in (("仓管小王", "wang@example.com", "warehouse", None),
                                         ("店员小李", "13800001111", "clerk", "徐汇店")):
            await owner.goto("/console/staff")
            await owner.get_by_label("姓名").fill(name)
            await owner.get_by_label("邮箱或手机号").fill(login)
            await owner.get_by_label("角色").select_option(role)
            if store:
                await owner.get_by_label("所属门店（店员必填）").select_option(label=store)
            await owner.get_by_role("button", name="生成邀请链接").click()
            links[role] = (await owner.get_by_test_id("invite-link").inner_text()).strip()
        await owner.screenshot(path=ARTIFACTS / "console-staff-desk.png", full_page=True)

        # -- the warehouse user: accepts, signs in, ships 50 orders from one CSV, prints their slips
        wh_ctx = await browser.new_context(base_url=server, viewport=DESK, locale="zh-CN")
        wh = await wh_ctx.new_page()
        await wh.goto(links["warehouse"])
        await wh.get_by_label("设置密码（至少 10 位）").fill("warehouse-pass-1")
        await wh.get_by_role("button", name="完成").click()
        await wh.get_by_text("账号已开通").wait_for()
        await wh.goto("/console/login")
        await wh.get_by_label("邮箱或手机号").fill("wang@example.com")
        await wh.get_by_label("密码", exact=True).fill("warehouse-pass-1")
        await wh.get_by_label("密码", exact=True).press("Enter")
        assert "仓管小王" in await wh.get_by_test_id("me").inner_text()
        await wh.goto("/console/shipping")
        numbers = seed["numbers"]
        assert isinstance(numbers, list)
        waybills = "订单号,快递公司,运单号\r\n" + "".join(
            f"{n},中通快递,7731{i:08d}\r\n" for i, n in enumerate(numbers))
        await wh.get_by_label("CSV 文件").set_input_files(
            files=[{"name": "中通面单.csv", "mimeType": "text/csv", "buffer": waybills.encode("gb18030")}])
        await wh.get_by_role("button", name="全部发货").click()
        await wh.get_by_text("发货成功 50 单，失败 0 单。").wait_for()
        assert await wh.locator('[data-ok="yes"]').count() == 50
        await wh.screenshot(path=ARTIFACTS / "console-bulk-ship-desk.png")
        ids = await wh.locator('form:has([data-testid="print-shipped"]) input[name="order_id"]').evaluate_all(
            "els => els.map(e => e.value)")
        token = await wh.locator('form:has([data-testid="print-shipped"]) input[name="csrf"]').input_value()
        assert len(ids) == 50
        pdf = await wh_ctx.request.post("/console/shipping/slips", headers={
            "content-type": "application/x-www-form-urlencoded"},
            data=urlencode([("csrf", token)] + [("order_id", i) for i in ids]))
        assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
        text = await _pdftotext(await pdf.body())
        assert text.count("发货单") == 50 and "顾客07" in text and "淮海中路" in text
        # the warehouse user cannot open the staff page
        assert (await wh.goto("/console/staff")).status == 403  # type: ignore[union-attr]
        await wh.goto("/console/orders?status=shipped")
        await wh.screenshot(path=ARTIFACTS / "console-orders-desk.png")

        # -- the clerk, on a phone at 徐汇店: sees only that store's pick-ups, collects one
        clerk_ctx = await browser.new_context(base_url=server, viewport=PHONE, locale="zh-CN")
        clerk = await clerk_ctx.new_page()
        await clerk.goto(links["clerk"])
        await clerk.get_by_label("设置密码（至少 10 位）").fill("clerk-pass-123")
        await clerk.get_by_role("button", name="完成").click()
        await clerk.goto("/console/login")
        await clerk.get_by_label("邮箱或手机号").fill("138-0000-1111")
        await clerk.get_by_label("密码", exact=True).fill("clerk-pass-123")
        await clerk.get_by_label("密码", exact=True).press("Enter")
        await clerk.goto("/console/orders")
        await clerk.screenshot(path=ARTIFACTS / "console-orders-phone.png", full_page=True)
        mine, theirs = pickups["xh"], pickups["ja"]
        assert await clerk.get_by_role("link", name=mine["number"]).count() == 1
        assert await clerk.get_by_role("link", name=theirs["number"]).count() == 0
        assert (await clerk.goto(f"/console/orders/{theirs['id']}")).status == 404  # type: ignore[union-attr]
        await clerk.goto(f"/console/orders/{mine['id']}")
        await clerk.get_by_label("顾客出示的取货码").fill(mine["pickup_code"])
        await clerk.get_by_role("button", name="确认已自提").click()
        await clerk.get_by_text("顾客已自提。").wait_for()
        assert await clerk.get_by_test_id("order-status").inner_text() == "已完成"
        assert "店员小李（店员）" in await clerk.get_by_test_id("timeline").inner_text()
        await clerk.screenshot(path=ARTIFACTS / "console-order-collected-phone.png", full_page=True)

        # -- the owner reads a shipped order at a desk, and the dashboard on a phone
        async with httpx.AsyncClient(base_url=server, timeout=30) as api:
            found = await api.get("/v1/orders", headers={"Authorization": f"Bearer {seed['api_key']}"},
                                  params={"status": "shipped", "limit": 1})
            shipped = found.json()["items"][0]
        await owner.goto(f"/console/orders/{shipped['id']}")
        assert "中通快递" in await owner.locator('[data-testid="shipment"]').inner_text()
        await owner.screenshot(path=ARTIFACTS / "console-order-desk.png", full_page=True)
        await owner.set_viewport_size(PHONE)
        await owner.screenshot(path=ARTIFACTS / "console-order-phone.png", full_page=True)
        await owner.goto("/console/")
        await owner.screenshot(path=ARTIFACTS / "console-dashboard-phone.png", full_page=True)
        # money is never broken across lines: every amount is one line box tall
        heights = await owner.locator(".money, td.k-money").evaluate_all(
            "els => els.map(e => e.getClientRects().length)")
        assert heights and all(h == 1 for h in heights)
        assert re.search(r"¥\d{1,3}(,\d{3})*\.\d{2}", await owner.locator("main").inner_text())
