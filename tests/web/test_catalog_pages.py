"""The console's catalogue pages through real HTTP: product editor, bulk edit, collections, imports, stock moves.
Refused forms show what to fix and change nothing."""

from __future__ import annotations

import re
from typing import Any

import httpx

from tests import factories as f
from tests import pictures
from tests.web.helpers import assert_good_page, csrf


def _alert(html: str) -> str:
    """The text of the page's error box (what the merchant is told to fix), or '' when there is none."""
    found = re.search(r'<div class="errors" role="alert">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", " ", found.group(1)) if found else ""


async def _login(client: httpx.AsyncClient, m: f.MerchantCtx) -> None:
    login = (await client.get("/console/login")).text
    r = await client.post("/console/login", data={"csrf": csrf(login), "api_key": m.api_key})
    assert r.status_code == 303


async def _product(client: httpx.AsyncClient, m: f.MerchantCtx) -> dict[str, Any]:
    page = assert_good_page(await client.get("/console/catalog/products/new"))
    r = await client.post("/console/catalog/products/new", data={
        "csrf": csrf(page), "title": "纯棉T恤", "category": "apparel", "description": "100% 新疆棉",
        "option_name_0": "颜色", "option_values_0": "红色，黑色，白色", "option_name_1": "尺码",
        "option_values_1": "M, L, XL", "sku_prefix": "TS", "price": "79", "status": "active"})
    assert r.status_code == 303, r.text[:3000]
    pid = r.headers["location"].rsplit("/", 1)[1]
    return dict((await client.get(f"/v1/products/{pid}", headers=m.headers)).json())


async def test_a_merchant_builds_a_product_with_its_matrix_pictures_and_prices(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    store = await f.location(client, m, kind="store", name="徐汇店")
    assert (await client.get("/console/catalog/products")).headers["location"] == "/console/login"
    await _login(client, m)
    p = await _product(client, m)
    assert p["options"] == [{"name": "颜色", "values": ["红色", "黑色", "白色"]},
                            {"name": "尺码", "values": ["M", "L", "XL"]}]
    assert len(p["variants"]) == 9 and {v["price"] for v in p["variants"]} == {7900}
    edit_url = f"/console/catalog/products/{p['id']}"
    page = assert_good_page(await client.get(edit_url))
    assert "TS-V1-M" in page and 'value="79.00"' in page
    token = csrf(page)
    # Three pictures in one upload; then one moves to the front and gets its words.
    files = [("files", (f"{i}.png", pictures.png(pictures.quadrants(300 + i * 10, 300)), "image/png"))
             for i in range(3)]
    r = await client.post(f"{edit_url}/media", data={"csrf": token, "alt": "正面"}, files=files)
    assert r.status_code == 303, r.text[:2000]
    media = (await client.get(f"/v1/products/{p['id']}")).json()["media"]
    assert len(media) == 3
    r = await client.post(f"{edit_url}/media/{media[2]['id']}", data={"csrf": token, "action": "up",
                                                                      "alt": "背面"})
    assert r.status_code == 303
    after = (await client.get(f"/v1/products/{p['id']}")).json()["media"]
    assert [x["id"] for x in after] == [media[0]["id"], media[2]["id"], media[1]["id"]]
    assert after[1]["alt"] == "背面"
    # Bulk price and stock fill, one picture for a variant, a barcode and a weight.
    form: dict[str, str] = {"csrf": token, "fill_price": "1,299.50", "fill_stock": "20", "location_id": store["id"]}
    for i in range(len(p["variants"])):
        form |= {f"price_{i}": "79.00", f"barcode_{i}": "", f"weight_{i}": "", f"image_{i}": ""}
    form |= {"barcode_0": "6901234567892", "weight_0": "180", "image_0": media[1]["id"]}
    r = await client.post(f"{edit_url}/variants", data=form)
    assert r.status_code == 303, r.text[:3000]
    got = (await client.get(f"/v1/products/{p['id']}")).json()
    assert {v["price"] for v in got["variants"]} == {129950}
    first = got["variants"][0]
    assert first["barcode"] == "6901234567892" and first["weight"] == 180
    assert [x["id"] for x in first["media"]] == [media[1]["id"]]
    stock = (await client.get(f"/v1/inventory/{first['sku']}", params={"merchant_id": m.id})).json()
    assert stock["available"] == 20
    page = assert_good_page(await client.get(edit_url))
    assert 'value="1299.50"' in page  # the editor's inputs take yuan
    # A new value: its variants appear, priced from the fill.
    r = await client.post(f"{edit_url}/options", data={
        "csrf": token, "option_name_0": "颜色", "option_values_0": "红色，黑色，白色，蓝色", "option_name_1": "尺码",
        "option_values_1": "M，L，XL", "fill_price": "88", "sku_prefix": "TS"})
    assert r.status_code == 303, r.text[:3000]
    got = (await client.get(f"/v1/products/{p['id']}")).json()
    assert len(got["variants"]) == 12
    assert sorted(v["price"] for v in got["variants"] if v["attributes"]["颜色"] == "蓝色") == [8800] * 3


async def test_refused_editor_forms_say_what_to_fix_and_change_nothing(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    await _login(client, m)
    p = await _product(client, m)
    edit_url = f"/console/catalog/products/{p['id']}"
    token = csrf((await client.get(edit_url)).text)
    before = (await client.get(f"/v1/products/{p['id']}", headers=m.headers)).json()
    form = {"csrf": token, "fill_price": "abc"}
    r = await client.post(f"{edit_url}/variants", data=form)
    assert r.status_code == 422 and "统一价格：abc 不是金额" in _alert(r.text)
    r = await client.post(f"{edit_url}/variants", data={"csrf": token, "price_0": "-5"})
    assert r.status_code == 422 and f"{p['variants'][0]['sku']} 的价格：请填写金额" in _alert(r.text)
    r = await client.post(edit_url, data={"csrf": token, "title": "", "category": "apparel", "status": "active"})
    assert r.status_code == 422 and "标题：不能为空" in _alert(r.text)
    r = await client.post(f"{edit_url}/options", data={"csrf": token, "option_name_0": "颜色",
                                                       "option_values_0": "红色，黑色，白色，绿色",
                                                       "option_name_1": "尺码", "option_values_1": "M，L，XL"})
    assert r.status_code == 422 and "新规格价格：" in _alert(r.text)
    r = await client.post(f"{edit_url}/media", data={"csrf": token},
                          files=[("files", ("x.png", b"not a picture", "image/png"))])
    assert r.status_code == 422 and "x.png" in _alert(r.text)
    assert (await client.get(f"/v1/products/{p['id']}", headers=m.headers)).json() == before
    # Another merchant's product is not found; a form without its token is refused.
    other = await f.merchant(client)
    theirs = await f.product(client, other)
    assert (await client.get(f"/console/catalog/products/{theirs['id']}")).status_code == 404
    r = await client.post(f"/console/catalog/products/{theirs['id']}/status/archived", data={"csrf": token})
    assert r.status_code == 404
    assert (await client.post(f"{edit_url}/status/archived", data={})).status_code == 403
    assert (await client.get(f"/v1/products/{theirs['id']}")).json()["status"] == "active"


async def test_archive_duplicate_and_bulk_edit_from_the_list(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    await _login(client, m)
    p = await _product(client, m)
    other = await f.product(client, m, price=10000)
    edit_url = f"/console/catalog/products/{p['id']}"
    token = csrf((await client.get(edit_url)).text)
    r = await client.post(f"{edit_url}/duplicate", data={"csrf": token})
    assert r.status_code == 303
    copy = (await client.get(r.headers["location"].replace("/console/catalog", "/v1"), headers=m.headers)).json()
    assert copy["status"] == "draft" and copy["variants"][0]["sku"].endswith("-COPY")
    assert (await client.post(f"{edit_url}/status/archived", data={"csrf": token})).status_code == 303
    assert (await client.get(f"/v1/products/{p['id']}")).status_code == 404
    listing = assert_good_page(await client.get("/console/catalog/products"))
    assert "已归档" in listing and "¥100.00" in listing
    r = await client.post("/console/catalog/products/bulk", data={
        "csrf": csrf(listing), "product_id": [p["id"], other["id"]], "status": "active", "price_percent": "-10"})
    assert r.status_code == 303 and r.headers["location"].endswith("done=2")
    assert (await client.get(f"/v1/products/{other['id']}")).json()["variants"][0]["price"] == 9000
    assert (await client.get(f"/v1/products/{p['id']}")).json()["variants"][0]["price"] == 7110
    bad = await client.post("/console/catalog/products/bulk", data={
        "csrf": csrf(listing), "product_id": [other["id"]], "price_percent": "十"})
    assert bad.status_code == 422 and "价格调整：请填写数字" in _alert(bad.text)
    none = await client.post("/console/catalog/products/bulk", data={"csrf": csrf(listing), "status": "draft"})
    assert none.status_code == 422 and "所选商品：至少选一项" in _alert(none.text)
    assert (await client.get(f"/v1/products/{other['id']}")).json()["variants"][0]["price"] == 9000


async def test_list_pages_to_the_end(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    await _login(client, m)
    made = {(await f.product(client, m, title=f"商品{i:02d}"))["id"] for i in range(53)}
    seen: set[str] = set()
    url: str | None = "/console/catalog/products"
    while url:
        page = assert_good_page(await client.get(url))
        seen |= set(re.findall(r'name="product_id" value="([^"]+)"', page))
        found = re.search(r'rel="next" href="([^"]+)"', page)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert seen == made


async def test_collections_pages(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    await _login(client, m)
    a = await f.product(client, m, title="羽绒服", price=59900)
    b = await f.product(client, m, title="羽绒马甲", price=29900)
    page = assert_good_page(await client.get("/console/catalog/collections"))
    bad = await client.post("/console/catalog/collections", data={"csrf": csrf(page), "title": "冬季", "kind": "rule"})
    assert bad.status_code == 422 and "条件：" in _alert(bad.text)
    r = await client.post("/console/catalog/collections", data={
        "csrf": csrf(page), "title": "冬季精选", "kind": "rule", "keyword": "羽绒", "price_max": "400"})
    assert r.status_code == 303
    rule_page = assert_good_page(await client.get(r.headers["location"]))
    assert "羽绒马甲" in rule_page and "羽绒服" not in rule_page.replace("羽绒马甲", "")
    assert "价格 –¥400.00" in rule_page
    r = await client.post("/console/catalog/collections", data={"csrf": csrf(page), "title": "店长推荐",
                                                                "kind": "manual"})
    url = r.headers["location"]
    manual = assert_good_page(await client.get(url))
    r = await client.post(url, data={"csrf": csrf(manual), "action": "add", "product_id": [b["id"], a["id"]]})
    assert r.status_code == 303
    cid = url.rsplit("/", 1)[1]
    got = (await client.get(f"/v1/collections/{cid}/products")).json()["items"]
    assert [p["id"] for p in got] == [b["id"], a["id"]]
    r = await client.post(url, data={"csrf": csrf(manual), "action": "remove", "product_id": b["id"]})
    assert [p["id"] for p in (await client.get(f"/v1/collections/{cid}/products")).json()["items"]] == [a["id"]]
    listing = assert_good_page(await client.get("/console/catalog/collections"))
    assert "店长推荐" in listing and "冬季精选" in listing


async def test_import_page_shows_the_jobs_outcome(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    await _login(client, m)
    page = assert_good_page(await client.get("/console/catalog/imports"))
    csv = ("product,title,category,status,description,sku,price,option1_name,option1_value\n"
           ",五常大米,agri,active,新米,RICE-5,59.90,规格,5kg\n"
           ",东北大豆,agri,active,,BEAN-1,abc,规格,1kg\n").encode("gbk")
    r = await client.post("/console/catalog/imports", data={"csrf": csrf(page), "kind": "products"},
                          files={"file": ("货品.csv", csv, "text/csv")})
    assert r.status_code == 303, r.text[:2000]
    job = assert_good_page(await client.get(r.headers["location"]))
    assert "错误行" in job and "price" in job
    assert (await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"] == []
    empty = await client.post("/console/catalog/imports", data={"csrf": csrf(page), "kind": "products"})
    assert empty.status_code == 422
    exported = await client.get("/console/catalog/exports/products.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")


async def test_stock_moves_page(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=30, store_on_hand=5)
    await _login(client, shop.m)
    page = assert_good_page(await client.get("/console/catalog/stock"))
    token = csrf(page)
    r = await client.post("/console/catalog/stock/adjust", data={
        "csrf": token, "location_id": shop.warehouse["id"], "sku": shop.sku, "quantity": "-3", "reason": "damaged",
        "note": "运输破损"})
    assert r.status_code == 303, r.text[:2000]
    r = await client.post("/console/catalog/stock/transfer", data={
        "csrf": token, "from_location_id": shop.warehouse["id"], "to_location_id": shop.store["id"],
        "lines": f"{shop.sku} 7"})
    assert r.status_code == 303, r.text[:2000]
    page = assert_good_page(await client.get("/console/catalog/stock"))
    assert "在途" in page and "损坏" in page
    transfer_id = re.search(r'name="transfer_id" value="([^"]+)"', page)
    assert transfer_id
    r = await client.post("/console/catalog/stock/receive", data={"csrf": token, "transfer_id": transfer_id.group(1)})
    assert r.status_code == 303
    r = await client.post("/console/catalog/stock/threshold", data={
        "csrf": token, "location_id": shop.store["id"], "sku": shop.sku, "low_stock": "50"})
    assert r.status_code == 303
    page = assert_good_page(await client.get("/console/catalog/stock"))
    assert "已收货" in page and 'class="low"' in page
    levels = (await client.get(f"/v1/inventory/{shop.sku}", params={"merchant_id": shop.m.id},
                               headers=shop.m.headers)).json()["locations"]
    on_hand = {loc["location_id"]: loc["on_hand"] for loc in levels}
    assert on_hand == {shop.warehouse["id"]: 20, shop.store["id"]: 12}
    bad = await client.post("/console/catalog/stock/adjust", data={
        "csrf": token, "location_id": shop.warehouse["id"], "sku": shop.sku, "quantity": "0", "reason": "damaged"})
    assert bad.status_code == 422 and "quantity cannot be 0" in _alert(bad.text)
    short = await client.post("/console/catalog/stock/transfer", data={
        "csrf": token, "from_location_id": shop.warehouse["id"], "to_location_id": shop.store["id"],
        "lines": f"{shop.sku} 999"})
    assert short.status_code == 422 and shop.sku in _alert(short.text)
    levels = (await client.get(f"/v1/inventory/{shop.sku}", params={"merchant_id": shop.m.id},
                               headers=shop.m.headers)).json()["locations"]
    assert {loc["location_id"]: loc["on_hand"] for loc in levels} == on_hand


async def test_a_collection_has_a_storefront_page(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    on_sale = await f.product(client, m, title="红富士苹果", price=1_289_900)
    draft = await f.product(client, m, title="未上架", status="draft")
    up = await client.post(f"/v1/products/{on_sale['id']}/media", headers=m.headers,
                           files={"file": ("a.png", pictures.png(), "image/png")}, data={"alt": "苹果"})
    assert up.status_code == 201
    c = (await client.post("/v1/collections", headers=m.headers, json={
        "title": "当季水果", "product_ids": [on_sale["id"], draft["id"]]})).json()
    page = assert_good_page(await client.get(f"/collections/{c['id']}"))
    assert "当季水果" in page and "红富士苹果" in page and "未上架" not in page
    assert "¥12,899.00" in page and up.json()["renditions"]["medium"] in page
    assert (await client.get("/collections/col_nope")).status_code == 404
