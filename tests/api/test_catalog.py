import httpx

from tests import factories as f


async def test_create_and_read_a_product(client: httpx.AsyncClient):
    m = await f.merchant(client)
    body = f.product_body(title="男士羽绒服 Men's Down Jacket", skus=("DJ-1-L", "DJ-1-XL"),
                          price=59900)
    body["variants"][0]["wholesale"] = {"moq": 10, "pack_size": 5,
                                        "tiers": [{"min_qty": 10, "unit_price": 50000},
                                                  {"min_qty": 100, "unit_price": 45000}]}
    r = await client.post("/v1/products", headers=m.headers, json=body)
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["merchant_id"] == m.id and p["status"] == "active"
    assert [v["sku"] for v in p["variants"]] == ["DJ-1-L", "DJ-1-XL"]
    assert p["variants"][0]["wholesale"]["tiers"][1] == {"min_qty": 100, "unit_price": 45000}
    assert p["variants"][1]["wholesale"] is None
    got = await client.get(f"/v1/products/{p['id']}")
    assert got.status_code == 200 and got.json() == p


async def test_chinese_substring_search(client: httpx.AsyncClient):
    m = await f.merchant(client)
    jacket = await f.product(client, m, title="男士羽绒服 Men's Down Jacket")
    await f.product(client, m, title="有机大米 Organic Rice", category="agri")
    await f.product(client, m, title="女士连衣裙 Dress", description="夏季 cotton")
    r = await client.get("/v1/products", params={"q": "羽绒"})
    assert [p["id"] for p in r.json()["items"]] == [jacket["id"]]
    for q, n in [("羽", 1), ("绒服", 1), ("JACKET", 1), ("down jack", 1), ("羽绒 rice", 0), ("大米", 1),
                 ("cotton", 1), ("羽毛", 0), ("%", 0), ("_", 0), ("' OR 1=1 --", 0)]:
        got = await client.get("/v1/products", params={"q": q})
        assert got.status_code == 200
        assert len(got.json()["items"]) == n, q


async def test_listing_filters_and_paginates(client: httpx.AsyncClient):
    a = await f.merchant(client)
    b = await f.merchant(client)
    mine = [await f.product(client, a) for _ in range(5)]
    await f.product(client, b, category="books-media")
    page1 = await client.get("/v1/products", params={"merchant_id": a.id, "limit": 2})
    assert page1.status_code == 200
    ids = [p["id"] for p in page1.json()["items"]]
    cursor = page1.json()["next_cursor"]
    while cursor:
        nxt = await client.get("/v1/products", params={"merchant_id": a.id, "limit": 2, "cursor": cursor})
        ids += [p["id"] for p in nxt.json()["items"]]
        cursor = nxt.json()["next_cursor"]
    assert ids == [p["id"] for p in reversed(mine)]  # newest first, each exactly once
    books = await client.get("/v1/products", params={"category": "books-media"})
    assert [p["merchant_id"] for p in books.json()["items"]] == [b.id]
    bad = await client.get("/v1/products", params={"cursor": "!!!"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "cursor"


async def test_drafts_and_suspended_merchants_are_hidden(client: httpx.AsyncClient, admin_headers):
    m = await f.merchant(client)
    draft = await f.product(client, m, status="draft", title="草稿 draft")
    live = await f.product(client, m, title="上架 live")
    assert (await client.get(f"/v1/products/{draft['id']}")).status_code == 404
    assert (await client.get(f"/v1/products/{draft['id']}", headers=m.headers)).status_code == 200
    ids = [p["id"] for p in (await client.get("/v1/products")).json()["items"]]
    assert ids == [live["id"]]
    await client.post(f"/v1/admin/merchants/{m.id}/suspend", headers=admin_headers, json={"reason": "fraud"})
    assert (await client.get(f"/v1/products/{live['id']}")).status_code == 404
    assert (await client.get("/v1/products")).json()["items"] == []
    pending = await f.merchant(client, verify=False)
    await f.product(client, pending, title="待审核 pending", status="draft")
    assert (await client.get("/v1/products")).json()["items"] == []


async def test_patch_changes_only_what_was_sent(client: httpx.AsyncClient):
    m = await f.merchant(client)
    p = await f.product(client, m, title="旧标题 old", skus=("P-1",), price=1000)
    r = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={
        "title": "新款羽绒服 new", "variants": [{"sku": "P-1", "price": 1200}, {"sku": "P-2", "price": 1500}]})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["title"] == "新款羽绒服 new" and out["description"] == p["description"]
    assert {v["sku"]: v["price"] for v in out["variants"]} == {"P-1": 1200, "P-2": 1500}
    found = await client.get("/v1/products", params={"q": "羽绒"})
    assert [x["id"] for x in found.json()["items"]] == [p["id"]]
    assert (await client.get("/v1/products", params={"q": "旧标题"})).json()["items"] == []
    null = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"title": None})
    assert null.status_code == 422


async def test_skus_are_unique_per_merchant(client: httpx.AsyncClient):
    a = await f.merchant(client)
    b = await f.merchant(client)
    await f.product(client, a, skus=("SAME",))
    dup = await client.post("/v1/products", headers=a.headers, json=f.product_body(skus=("NEW", "SAME")))
    assert dup.status_code == 422
    assert dup.json()["errors"] == [{"field": "variants.1.sku", "message": "sku 'SAME' already exists"}]
    other = await client.post("/v1/products", headers=b.headers, json=f.product_body(skus=("SAME",)))
    assert other.status_code == 201


async def test_categories_listed(client: httpx.AsyncClient):
    slugs = [c["slug"] for c in (await client.get("/v1/categories")).json()]
    assert {"apparel", "appliances", "home", "books-media", "agri", "daily-goods", "production-materials",
            "fresh", "services"} <= set(slugs)


async def test_search_finds_every_match_and_pages_through_them(client: httpx.AsyncClient):
    """A rare word finds its one product among many; a common one pages through all its matches, each once."""
    m = await f.merchant(client)
    rare = await f.product(client, m, title="稀有羽绒 rare find")
    common = [await f.product(client, m, title=f"普通款 plain item {i}") for i in range(5)]
    assert [p["id"] for p in (await client.get("/v1/products", params={"q": "稀有"})).json()["items"]] == [rare["id"]]
    assert [p["id"] for p in (await client.get("/v1/products", params={"q": "rare"})).json()["items"]] == [rare["id"]]
    ids: list[str] = []
    cursor = None
    while True:
        params = {"q": "普通", "limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/products", params=params)).json()
        assert len(page["items"]) <= 2
        ids += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(ids) == sorted(p["id"] for p in common) and len(ids) == len(set(ids))
    assert (await client.get("/v1/products", params={"q": "nothing-like-this"})).json()["items"] == []
