"""Search as a shopper, a merchant and the operator see it: ranking signals, sorts, facets, suggestions,
synonyms, dictionary words, zero results, imports, bad input. Both databases."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx

from app.catalog import transfer
from app.catalog.search import service as search_service
from app.catalog.search.suggestions import Suggestions
from tests import factories as f


async def _ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    r = await client.get("/v1/products", params=params)
    assert r.status_code == 200, r.text
    return [p["id"] for p in r.json()["items"]]


async def _refresh_signals(app: Any) -> None:
    """What the `search_signals` job does every minute in `shop serve`."""
    async with app.state.sessionmaker() as session:
        await search_service.refresh_signals(session)


async def test_in_stock_then_sales_break_ties_between_equal_matches(client: httpx.AsyncClient, app: Any):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    sold = await f.product(client, m, title="保温杯 经典款", skus=("CUP-SOLD",), price=5000)
    stocked = await f.product(client, m, title="保温杯 简约款", skus=("CUP-IN",), price=5000)
    empty = await f.product(client, m, title="保温杯 时尚款", skus=("CUP-OUT",), price=5000)
    # newest first while nothing tells them apart
    assert await _ids(client, q="保温杯") == [empty["id"], stocked["id"], sold["id"]]
    await f.stock(client, m, wh, "CUP-IN", 5)
    await f.stock(client, m, wh, "CUP-SOLD", 10)
    r = await client.post("/v1/checkout", json=f.checkout_body([(sold["variants"][0]["id"], 3)]),
                          headers={"Idempotency-Key": "search-sales-1"})
    assert r.status_code == 201, r.text
    await _refresh_signals(app)
    # both in stock; the one that sold comes first; the one without stock last
    assert await _ids(client, q="保温杯") == [sold["id"], stocked["id"], empty["id"]]
    assert (await _ids(client, sort="sales"))[0] == sold["id"]
    await f.stock(client, m, wh, "CUP-SOLD", 0)
    await f.stock(client, m, wh, "CUP-OUT", 1)
    await _refresh_signals(app)
    # sold out now: behind both that have stock, whatever it sold
    assert (await _ids(client, q="保温杯"))[-1] == sold["id"]


async def test_sorts_page_through_every_match_once(client: httpx.AsyncClient):
    m = await f.merchant(client)
    made = [await f.product(client, m, title=f"陶瓷花瓶 {i}号", skus=(f"VASE-{i}",), price=price)
            for i, price in enumerate([3000, 1000, 5000, 2000, 4000])]
    await f.product(client, m, title="玻璃杯", skus=("GLASS",), price=100)
    by_price = [p["id"] for p in sorted(made, key=lambda p: p["variants"][0]["price"])]
    for sort, expected in [("price_asc", by_price), ("price_desc", by_price[::-1]),
                           ("newest", [p["id"] for p in reversed(made)])]:
        seen: list[str] = []
        cursor = None
        while True:
            params = {"q": "花瓶", "sort": sort, "limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await client.get("/v1/products", params=params)).json()
            seen += [p["id"] for p in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert seen == expected, sort


async def test_facets_count_every_match_and_filter_by_any_of_them(client: httpx.AsyncClient):
    a = await f.merchant(client)
    b = await f.merchant(client)

    async def item(m: f.MerchantCtx, title: str, category: str, price: int, colours: list[str]) -> str:
        body = f.product_body(title=title, category=category, price=price)
        body["variants"] = [{"sku": f"{title.split()[-1]}-{n}", "price": price, "attributes": {"颜色": c}}
                            for n, c in enumerate(colours)]
        r = await client.post("/v1/products", headers=m.headers, json=body)
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    red_coat = await item(a, "呢子大衣 red", "apparel", 39900, ["红色", "黑色"])
    black_coat = await item(a, "羊绒大衣 black", "apparel", 129900, ["黑色"])
    rug = await item(b, "大衣柜 地毯 rug", "home", 4900, ["红色"])
    await item(b, "餐桌 table", "home", 89900, ["白色"])
    r = await client.get("/v1/products", params={"q": "大衣", "facets": "category,price,merchant,option.颜色"})
    assert r.status_code == 200, r.text
    facets = r.json()["facets"]
    assert facets["category"] == [{"value": "apparel", "count": 2}, {"value": "home", "count": 1}]
    assert facets["merchant"] == [{"value": a.id, "count": 2}, {"value": b.id, "count": 1}]
    assert facets["price"] == [{"min": 0, "max": 5000, "count": 1}, {"min": 20000, "max": 50000, "count": 1},
                               {"min": 100000, "max": 200000, "count": 1}]
    assert facets["option.颜色"] == [{"value": "红色", "count": 2}, {"value": "黑色", "count": 2}]
    assert "facets" not in (await client.get("/v1/products", params={"q": "大衣"})).json()
    assert set(await _ids(client, q="大衣", category="apparel")) == {red_coat, black_coat}
    assert await _ids(client, q="大衣", option="颜色:红色", merchant_id=a.id) == [red_coat]
    assert set(await _ids(client, q="大衣", option="颜色:红色")) == {red_coat, rug}
    assert await _ids(client, q="大衣", price_min=100000) == [black_coat]
    assert await _ids(client, q="大衣", price_max=5000) == [rug]
    narrowed = (await client.get("/v1/products", params={"q": "大衣", "category": "home",
                                                         "facets": "category"})).json()["facets"]
    assert narrowed == {"category": [{"value": "home", "count": 1}]}
    # facets without q: over the whole visible catalogue
    everything = (await client.get("/v1/products", params={"facets": "merchant"})).json()["facets"]
    assert everything["merchant"] == [{"value": a.id, "count": 2}, {"value": b.id, "count": 2}]


async def test_suggestions_by_prefix_pinyin_and_initials(client: httpx.AsyncClient):
    m = await f.merchant(client)
    await f.product(client, m, title="男士羽绒服 加厚")
    await f.product(client, m, title="羽绒被 双人")
    await f.product(client, m, title="Outdoor Jacket 冲锋衣")
    for q, wanted in [("羽绒", "羽绒服"), ("yur", "羽绒服"), ("yrf", "羽绒服"), ("yurongb", "羽绒被"),
                      ("chongf", "冲锋衣"), ("cfy", "冲锋衣"), ("jack", "jacket"), ("nan", "男士")]:
        r = await client.get("/v1/search/suggest", params={"q": q})
        assert r.status_code == 200, r.text
        assert wanted in r.json()["suggestions"], (q, r.json())
    assert "羽绒被" not in (await client.get("/v1/search/suggest", params={"q": "yrf"})).json()["suggestions"]
    assert (await client.get("/v1/search/suggest", params={"q": "%"})).json() == {"suggestions": []}
    assert (await client.get("/v1/search/suggest", params={"q": "x" * 41})).status_code == 422


async def test_suggestions_take_up_new_words_once_their_interval_has_passed(client: httpx.AsyncClient, app: Any):
    now = [0.0]
    app.state.suggestions = Suggestions(10, clock=lambda: now[0])
    m = await f.merchant(client)
    await f.product(client, m, title="羽绒服 男款")

    async def suggested(q: str) -> list[str]:
        r = await client.get("/v1/search/suggest", params={"q": q})
        assert r.status_code == 200, r.text
        return list(r.json()["suggestions"])

    assert await suggested("yu") == ["羽绒", "羽绒服"]  # read from the database by the first suggestion
    await f.product(client, m, title="羽毛球拍")
    await f.product(client, m, title="羽毛球 十只装")
    now[0] = 9.9
    assert "羽毛球" not in await suggested("yu")  # answered from memory: no query for the words
    now[0] = 10.0
    assert "羽毛球" not in await suggested("yu")  # the old words answer while the new ones are read
    await app.state.suggestions.close()  # that read finished
    # the words of two listings first, then shorter words first
    assert await suggested("yu") == ["羽毛", "羽毛球", "羽绒", "羽绒服", "羽毛球拍"]
    assert await suggested("ymq") == ["羽毛球", "羽毛球拍"] and await suggested("羽毛球") == ["羽毛球", "羽毛球拍"]


async def test_zero_results_are_listed_for_the_operator_with_did_you_mean(client: httpx.AsyncClient,
                                                                           admin_headers: dict[str, str]):
    m = await f.merchant(client)
    assert await _ids(client, q="jackte") == []
    assert await _ids(client, q="JACKTE") == []
    assert await _ids(client, q="zzqqxx") == []
    jacket = await f.product(client, m, title="Outdoor Jacket 冲锋衣")
    assert await _ids(client, q="jackte") == [jacket["id"]]  # corrected: found, so not a miss
    assert (await client.get("/v1/admin/search/misses", headers=m.headers)).status_code == 403
    r = await client.get("/v1/admin/search/misses", headers=admin_headers)
    assert r.status_code == 200, r.text
    items = [(i["query"], i["count"], i["did_you_mean"]) for i in r.json()["items"]]
    assert items == [("jackte", 2, "jacket"), ("zzqqxx", 1, None)]


async def test_a_merchants_synonyms_find_its_own_products_only(client: httpx.AsyncClient):
    mine = await f.merchant(client)
    other = await f.merchant(client)
    hoodie = await f.product(client, mine, title="运动卫衣 加绒")
    await f.product(client, other, title="卫衣 连帽")
    assert await _ids(client, q="hoodie") == []
    r = await client.put("/v1/search/synonyms", headers=mine.headers, json={"groups": [["卫衣", "hoodie"]]})
    assert r.status_code == 200 and r.json() == {"groups": [["卫衣", "hoodie"]]}
    assert (await client.get("/v1/search/synonyms", headers=mine.headers)).json() == {"groups": [["卫衣", "hoodie"]]}
    assert (await client.get("/v1/search/synonyms", headers=other.headers)).json() == {"groups": []}
    assert await _ids(client, q="hoodie") == [hoodie["id"]]
    bad = await client.put("/v1/search/synonyms", headers=mine.headers, json={"groups": [["卫衣"]]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].startswith("groups.0")
    assert (await client.put("/v1/search/synonyms", json={"groups": []})).status_code == 401


async def test_a_dictionary_word_keeps_a_brand_whole(client: httpx.AsyncClient):
    m = await f.merchant(client)
    brand = await f.product(client, m, title="花西子 空气蜜粉", category="daily-goods")
    lookalike = await f.product(client, m, title="西子湖畔 花茶 礼盒", category="agri")
    before = await _ids(client, q="花西子")
    assert set(before) == {brand["id"], lookalike["id"]}  # cut into 花 + 西子, the look-alike matches too
    r = await client.put("/v1/search/dictionary", headers=m.headers, json={"words": ["花西子", "花西子"]})
    assert r.status_code == 200 and r.json() == {"words": ["花西子"]}
    assert await _ids(client, q="花西子") == [brand["id"]]
    bad = await client.put("/v1/search/dictionary", headers=m.headers, json={"words": ["--"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "words"


async def test_every_write_keeps_the_index_current(client: httpx.AsyncClient):
    m = await f.merchant(client)
    p = await f.product(client, m, title="旧标题 old", skus=("W-1",), price=1000)
    assert await _ids(client, q="jiubiaoti") == [p["id"]]
    r = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={
        "title": "新款冲锋衣", "variants": [{"sku": "W-1", "price": 150000}]})
    assert r.status_code == 200, r.text
    assert await _ids(client, q="jiubiaoti") == []
    assert await _ids(client, q="cfy") == [p["id"]]
    assert await _ids(client, q="冲锋衣", price_min=150000) == [p["id"]]
    r = await client.put(f"/v1/products/{p['id']}/options", headers=m.headers, json={
        "options": [{"name": "颜色", "values": ["墨绿色"]}]})
    assert r.status_code == 200, r.text
    assert await _ids(client, q="墨绿色") == [p["id"]]
    assert await _ids(client, q="W-1") == [p["id"]]


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=transfer.COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


async def test_an_import_leaves_every_product_searchable(client: httpx.AsyncClient):
    m = await f.merchant(client)
    words = ["苹果", "香蕉", "橙子", "葡萄", "西瓜", "草莓", "樱桃", "芒果", "菠萝", "柠檬"]
    rows = [{"product": f"p{i}", "title": f"{words[i % 10]}礼盒 编号{i}", "category": "agri", "status": "active",
             "sku": f"IMP-{i}", "price": "19.90", "description": f"产地直发 lot{i}x"} for i in range(200)]
    r = await client.post("/v1/imports/products", headers={**m.headers, "content-type": "text/csv"},
                          content=_csv(rows).encode())
    assert r.status_code == 202, r.text
    job = (await client.get(f"/v1/imports/{r.json()['id']}", headers=m.headers)).json()
    assert job["status"] == "succeeded", job
    for i in range(0, 200, 7):
        assert len(await _ids(client, q=f"lot{i}x")) == 1, i
        assert len(await _ids(client, q=f"IMP-{i}")) == 1, i
    assert len(await _ids(client, q="草莓", limit=500)) == 20
    assert len(await _ids(client, q="caomei", limit=500)) == 20


async def test_bad_search_input_is_a_problem_naming_the_field(client: httpx.AsyncClient):
    for params, field in [({"facets": "colour"}, "facets"), ({"sort": "cheapest"}, "sort"),
                          ({"price_min": 500, "price_max": 100}, "price_max"), ({"price_min": -1}, "price_min"),
                          ({"q": "x", "cursor": "bm90LWFuLW9mZnNldA"}, "cursor"), ({"option": "颜色"}, "option.0"),
                          ({"q": "x" * 201}, "q")]:
        r = await client.get("/v1/products", params=params)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["errors"][0]["field"] == field, (params, r.json())
    for q in ["%", "_", "' OR 1=1 --", '"', "*", "a:*", "NEAR(", "{title}:x", "\\"]:
        r = await client.get("/v1/products", params={"q": q})
        assert r.status_code == 200 and r.json()["items"] == [], (q, r.text)
