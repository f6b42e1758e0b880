"""In Chromium: a merchant builds a product in the console — 2 options × 3 values, 3 pictures, one price and one
stock count for all — puts it in a collection, and sees it on the storefront with its pictures.

Screenshots of each step land in tests/web/artifacts/ at 1280×800 (laptop) and 390×844 (phone).
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from app.demo.pictures import COLOURS, Sketch, draw
from tests.web.browser import chromium
from tests.web.test_browser import ADMIN, ARGS, ARTIFACTS, BROWSER_TEST, CHROMIUM, server  # noqa: F401  (server: the fixture)

pytestmark = BROWSER_TEST

SIZES = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


def _seed(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30) as api:
        r = api.post("/v1/merchants", json={"name": "棉语服饰", "kind": "enterprise",
                                            "licence_no": "91350100M000100Y43", "contact_email": "mianyu@example.com"})
        assert r.status_code == 201, r.text
        m = r.json()
        assert api.post(f"/v1/admin/merchants/{m['id']}/verify",
                        headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200
        key = {"Authorization": f"Bearer {m['api_key']}"}
        addr = {"name": "王店长", "phone": "021-64000000", "line1": "漕溪北路 88 号", "district": "徐汇区",
                "city": "上海", "postal_code": "200030", "country": "CN"}
        r = api.post("/v1/locations", headers=key, json={"code": "WH1", "name": "上海仓", "kind": "warehouse",
                                                          "address": addr})
        assert r.status_code == 201, r.text
        return {"api_key": m["api_key"], "merchant_id": m["id"]}


def _pictures(folder: Path) -> list[Path]:
    """Three T-shirts (red, black, white), drawn by the project's own picture code: nothing downloaded."""
    paths = []
    for name in ("红色", "黑色", "白色"):
        path = folder / f"tshirt-{len(paths) + 1}.png"
        path.write_bytes(draw(Sketch("top", COLOURS[name])))
        paths.append(path)
    return paths


async def _no_wrapped_money(page: object) -> list[str]:
    """Prices (¥…) whose text runs over more than one line box: a number broken across lines."""
    return await page.evaluate("""() => [...document.querySelectorAll('.money, .price')].filter(el => {
        const r = document.createRange(); r.selectNodeContents(el);
        return r.getClientRects().length > 1 && /¥/.test(el.textContent);
    }).map(el => el.textContent)""")  # type: ignore[attr-defined, no-any-return]


async def test_merchant_builds_a_product_and_sees_it_in_the_shop(server: str, tmp_path: Path) -> None:  # noqa: F811

    ARTIFACTS.mkdir(exist_ok=True)
    seed = _seed(server)
    files = _pictures(tmp_path)
    async with chromium() as browser:
        laptop = await browser.new_context(base_url=server, viewport=SIZES["laptop"], locale="zh-CN")
        page = await laptop.new_page()
        await page.goto("/console/login")
        await page.get_by_label("商家 API 密钥").fill(seed["api_key"])
        await page.get_by_label("商家 API 密钥").press("Enter")  # the page has a staff and an owner sign-in
        await page.wait_for_url("**/console/")

        # -- a new product: 颜色 × 尺码, three values each
        await page.goto("/console/catalog/products/new")
        await page.get_by_label("标题").fill("纯棉圆领T恤 男女同款")
        await page.get_by_label("分类").select_option(label="服装鞋帽")
        await page.get_by_label("描述").fill("新疆长绒棉，200g 重磅，不易变形。")
        await page.get_by_label("规格名称 1").fill("颜色")
        await page.get_by_label("规格值（用逗号分隔）").nth(0).fill("红色，黑色，白色")
        await page.get_by_label("规格名称 2").fill("尺码")
        await page.get_by_label("规格值（用逗号分隔）").nth(1).fill("M，L，XL")
        await page.get_by_label("SKU 前缀").fill("MY-TS")
        await page.get_by_label("价格（元）").fill("79")
        await page.get_by_label("状态").select_option(label="上架")
        await page.screenshot(path=ARTIFACTS / "catalog-new-laptop.png", full_page=True)
        await page.get_by_role("button", name="创建").click()
        await page.get_by_role("heading", name="编辑商品").wait_for()
        product_id = page.url.rstrip("/").split("/")[-1].split("?")[0]
        assert await page.locator("table.vtable tbody tr").count() == 9

        # -- three pictures at once
        await page.get_by_label("选择图片").set_input_files([str(p) for p in files])
        await page.get_by_label("图片说明", exact=True).fill("纯棉T恤 正面")
        await page.get_by_role("button", name="上传图片").click()
        await page.get_by_role("status").wait_for()
        assert await page.locator("ul.pics li.pic img").count() == 3

        # -- one price and one stock count for all nine, and a picture for the black ones
        await page.get_by_label("统一价格（元）").fill("89.90")
        await page.get_by_label("统一库存（件）").fill("50")
        for i in (3, 4, 5):  # 黑色 M, L, XL
            await page.locator(f'select[name="image_{i}"]').select_option(index=2)
        await page.get_by_role("button", name="保存规格明细").click()
        await page.get_by_role("status").wait_for()
        prices = await page.locator("table.vtable input[name^='price_']").evaluate_all(
            "els => els.map(e => e.value)")
        assert prices == ["89.90"] * 9
        await page.screenshot(path=ARTIFACTS / "catalog-edit-laptop.png", full_page=True)

        # -- into a collection the shop can link to
        await page.goto("/console/catalog/collections")
        await page.get_by_label("标题").fill("夏季T恤")
        await page.get_by_role("button", name="创建").click()
        await page.get_by_role("heading", name="夏季T恤").wait_for()
        await page.get_by_label(re.compile("纯棉圆领T恤")).check()
        await page.get_by_role("button", name="加入商品").click()
        await page.locator("ul.members").get_by_role("link", name=re.compile("纯棉圆领T恤")).wait_for()
        collection_id = page.url.rstrip("/").split("/")[-1].split("?")[0]
        await page.goto("/console/catalog/products")
        assert "¥89.90 起" in await page.locator("table.plist").inner_text()
        await page.get_by_label("全选").check()
        assert await page.locator('input[name="product_id"]:checked').count() == 1
        await page.screenshot(path=ARTIFACTS / "catalog-list-laptop.png", full_page=True)
        assert await _no_wrapped_money(page) == []

        # -- the same pages on a phone
        phone_ctx = await browser.new_context(base_url=server, viewport=SIZES["phone"], locale="zh-CN",
                                              storage_state=await laptop.storage_state())
        phone = await phone_ctx.new_page()
        for name, url in (("list", "/console/catalog/products"),
                          ("edit", f"/console/catalog/products/{product_id}"),
                          ("collection", f"/console/catalog/collections/{collection_id}")):
            await phone.goto(url)
            await phone.screenshot(path=ARTIFACTS / f"catalog-{name}-phone.png", full_page=True)
            assert await _no_wrapped_money(phone) == []

        # -- the shopper sees it with its pictures
        for size, viewport in SIZES.items():
            shop = await (await browser.new_context(base_url=server, viewport=viewport, locale="zh-CN")).new_page()
            await shop.goto(f"/collections/{collection_id}")
            card = shop.locator("li.card").filter(has_text="纯棉圆领T恤")
            await card.wait_for()
            assert "¥89.90" in await card.inner_text()
            loaded = await card.locator("img").evaluate("img => img.complete && img.naturalWidth > 0")
            assert loaded
            await shop.screenshot(path=ARTIFACTS / f"catalog-collection-shop-{size}.png", full_page=True)
            await card.get_by_role("link").click()
            await shop.get_by_role("heading", name="纯棉圆领T恤 男女同款").wait_for()
            await shop.screenshot(path=ARTIFACTS / f"catalog-product-shop-{size}.png", full_page=True)
    async with httpx.AsyncClient(base_url=server, timeout=30) as api:
        p = (await api.get(f"/v1/products/{product_id}")).json()
        assert len(p["media"]) == 3 and {v["price"] for v in p["variants"]} == {8990}
        black = [v for v in p["variants"] if v["attributes"]["颜色"] == "黑色"]
        assert all(v["media"] and v["media"][0]["id"] == p["media"][1]["id"] for v in black)
        stock = await api.get(f"/v1/inventory/{p['variants'][0]['sku']}", params={"merchant_id": seed["merchant_id"]})
        assert stock.json()["available"] == 50
