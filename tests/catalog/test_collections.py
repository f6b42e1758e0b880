"""Collections through the HTTP API on both databases: manual and by rule, the public read, campaigns."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests import factories as f


async def test_a_manual_collection_keeps_the_merchants_order_and_pages(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    ps = [await f.product(client, m, title=f"春季新品 {i}") for i in range(5)]
    draft = await f.product(client, m, status="draft")
    order = [ps[3]["id"], ps[0]["id"], draft["id"], ps[4]["id"]]
    r = await client.post("/v1/collections", headers=m.headers,
                          json={"title": "春季上新", "description": "新到的", "product_ids": order})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["kind"] == "manual" and c["rule"] is None and c["product_count"] == 4
    # The public sees the ones on sale, in the merchant's order, page by page.
    first = (await client.get(f"/v1/collections/{c['id']}/products", params={"limit": 2})).json()
    assert [p["id"] for p in first["items"]] == [ps[3]["id"], ps[0]["id"]] and first["next_cursor"]
    rest = (await client.get(f"/v1/collections/{c['id']}/products",
                             params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [p["id"] for p in rest["items"]] == [ps[4]["id"]] and rest["next_cursor"] is None
    assert (await client.get(f"/v1/collections/{c['id']}")).json()["product_count"] == 3
    owner = (await client.get(f"/v1/collections/{c['id']}/products", headers=m.headers)).json()
    assert [p["id"] for p in owner["items"]] == order
    # Adding keeps places; removing one; the list of the merchant's collections.
    add = await client.post(f"/v1/collections/{c['id']}/products", headers=m.headers,
                            json={"product_ids": [ps[1]["id"], ps[3]["id"]]})
    assert add.status_code == 200 and add.json()["product_count"] == 5
    assert (await client.delete(f"/v1/collections/{c['id']}/products/{ps[0]['id']}", headers=m.headers)
            ).status_code == 204
    owner = (await client.get(f"/v1/collections/{c['id']}/products", headers=m.headers)).json()
    assert [p["id"] for p in owner["items"]] == [ps[3]["id"], draft["id"], ps[4]["id"], ps[1]["id"]]
    listed = (await client.get("/v1/collections", params={"merchant_id": m.id})).json()
    assert [x["id"] for x in listed["items"]] == [c["id"]]
    assert (await client.get("/v1/collections", headers=m.headers)).json()["items"][0]["product_count"] == 4


async def test_a_rule_collection_follows_the_catalogue(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    cheap = await f.product(client, m, title="羽绒马甲", price=9900)
    dear = await f.product(client, m, title="羽绒服 长款", price=59900)
    await f.product(client, m, title="羽绒被", category="home", price=29900)
    await f.product(client, m, title="棉衣", price=19900)
    r = await client.post("/v1/collections", headers=m.headers, json={
        "title": "羽绒专区", "kind": "rule", "rule": {"category": "apparel", "keyword": "羽绒", "price_max": 60000}})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["rule"] == {"category": "apparel", "keyword": "羽绒", "price_max": 60000} and c["product_count"] == 2
    got = (await client.get(f"/v1/collections/{c['id']}/products")).json()["items"]
    assert [p["id"] for p in got] == [dear["id"], cheap["id"]]  # newest first
    # A new product that fits appears; a narrower rule drops one.
    later = await f.product(client, m, title="轻薄羽绒服", price=39900)
    got = (await client.get(f"/v1/collections/{c['id']}/products")).json()["items"]
    assert [p["id"] for p in got] == [later["id"], dear["id"], cheap["id"]]
    r = await client.patch(f"/v1/collections/{c['id']}", headers=m.headers,
                           json={"rule": {"category": "apparel", "price_min": 20000}})
    assert r.status_code == 200 and r.json()["product_count"] == 2
    # Products are not added by hand to a rule collection.
    add = await client.post(f"/v1/collections/{c['id']}/products", headers=m.headers,
                            json={"product_ids": [cheap["id"]]})
    assert add.status_code == 409


async def test_refused_input_names_the_field_and_changes_nothing(client: httpx.AsyncClient) -> None:
    m, other = await f.merchant(client), await f.merchant(client)
    mine = await f.product(client, m)
    theirs = await f.product(client, other)
    cases = [
        ({"title": "", "product_ids": []}, "title"),
        ({"title": "x", "product_ids": [mine["id"], theirs["id"]]}, "product_ids.1"),
        ({"title": "x", "kind": "rule"}, ""),
        ({"title": "x", "kind": "rule", "rule": {}}, "rule"),
        ({"title": "x", "kind": "rule", "rule": {"price_min": 500, "price_max": 100}}, "rule"),
        ({"title": "x", "kind": "rule", "rule": {"category": "toys"}}, "rule.category"),
        ({"title": "x", "kind": "rule", "rule": {"price_max": -1}}, "rule.price_max"),
    ]
    for body, field in cases:
        r = await client.post("/v1/collections", headers=m.headers, json=body)
        assert r.status_code == 422, body
        if field:
            assert r.json()["errors"][0]["field"] == field, r.json()
    assert (await client.get("/v1/collections", headers=m.headers)).json()["items"] == []
    c = (await client.post("/v1/collections", headers=m.headers, json={"title": "好物",
                                                                       "product_ids": [mine["id"]]})).json()
    bad = await client.post(f"/v1/collections/{c['id']}/products", headers=m.headers,
                            json={"product_ids": [theirs["id"]]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "product_ids.0"
    null = await client.patch(f"/v1/collections/{c['id']}", headers=m.headers, json={"title": None})
    assert null.status_code == 422 and null.json()["errors"][0]["field"] == "title"
    rule_on_manual = await client.patch(f"/v1/collections/{c['id']}", headers=m.headers,
                                        json={"rule": {"category": "home"}})
    assert rule_on_manual.status_code == 422 and rule_on_manual.json()["errors"][0]["field"] == "rule"
    after = (await client.get(f"/v1/collections/{c['id']}", headers=m.headers)).json()
    assert after["title"] == "好物" and after["product_count"] == 1
    # Another merchant cannot see its products as owner, change or delete it.
    assert (await client.patch(f"/v1/collections/{c['id']}", headers=other.headers,
                               json={"title": "偷"})).status_code == 404
    assert (await client.delete(f"/v1/collections/{c['id']}", headers=other.headers)).status_code == 404
    assert (await client.post(f"/v1/collections/{c['id']}/products", headers=other.headers,
                              json={"product_ids": [theirs["id"]]})).status_code == 404
    assert (await client.post("/v1/collections", json={"title": "x"})).status_code == 401
    assert (await client.get("/v1/collections")).status_code == 422
    # Deleting it leaves its products.
    assert (await client.delete(f"/v1/collections/{c['id']}", headers=m.headers)).status_code == 204
    assert (await client.get(f"/v1/collections/{c['id']}")).status_code == 404
    assert (await client.get(f"/v1/products/{mine['id']}")).status_code == 200


async def test_a_suspended_merchants_collections_are_not_public(client: httpx.AsyncClient,
                                                               admin_headers: dict[str, str]) -> None:
    m = await f.merchant(client)
    p = await f.product(client, m)
    c = (await client.post("/v1/collections", headers=m.headers, json={"title": "精选",
                                                                       "product_ids": [p["id"]]})).json()
    assert (await client.post(f"/v1/admin/merchants/{m.id}/suspend", headers=admin_headers)).status_code == 200
    assert (await client.get(f"/v1/collections/{c['id']}")).status_code == 404
    assert (await client.get("/v1/collections", params={"merchant_id": m.id})).json()["items"] == []


async def test_a_campaign_takes_the_products_of_a_collection(client: httpx.AsyncClient) -> None:
    m, other = await f.merchant(client), await f.merchant(client)
    a, b = await f.product(client, m, price=1000), await f.product(client, m, price=2000)
    c = (await client.post("/v1/collections", headers=m.headers,
                           json={"title": "双十二", "product_ids": [a["id"], b["id"]]})).json()
    theirs = (await client.post("/v1/collections", headers=other.headers, json={"title": "别人的"})).json()
    now = datetime.now(UTC)
    body = {"slug": "shuang-12", "title": "双十二", "starts_at": (now + timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=3)).isoformat()}
    bad = await client.post("/v1/campaigns", headers=m.headers,
                            json={**body, "collection_ids": [c["id"], theirs["id"]]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "collection_ids.1"
    assert (await client.get("/v1/campaigns/shuang-12")).status_code == 404
    r = await client.post("/v1/campaigns", headers=m.headers, json={**body, "collection_ids": [c["id"]]})
    assert r.status_code == 201, r.text
    assert sorted(p["id"] for p in r.json()["products"]) == sorted([a["id"], b["id"]])
    public = (await client.get("/v1/campaigns/shuang-12")).json()
    assert sorted(p["id"] for p in public["products"]) == sorted([a["id"], b["id"]])
