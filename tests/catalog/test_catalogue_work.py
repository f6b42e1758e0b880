"""Archive, duplicate and bulk-edit products through the HTTP API, on both databases."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories as f
from tests import pictures


def _matrix(prefix: str, price: int = 7890) -> dict[str, Any]:
    return {"title": "纯棉T恤", "category": "apparel", "status": "active", "description": "100% 棉",
            "options": [{"name": "颜色", "values": ["红色", "黑色"]}, {"name": "尺码", "values": ["M", "L"]}],
            "variants": [{"sku": f"{prefix}-{c}-{s}", "price": price, "attributes": {"颜色": cn, "尺码": s},
                          "barcode": "6901234567892", "weight": 200,
                          "wholesale": {"moq": 10, "pack_size": 1, "tiers": [{"min_qty": 10, "unit_price": 6000}]}}
                         for c, cn in (("R", "红色"), ("B", "黑色")) for s in ("M", "L")]}


async def test_archive_takes_a_product_off_sale_and_back(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    p = await f.product(client, m)
    r = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"status": "archived"})
    assert r.status_code == 200 and r.json()["status"] == "archived"
    assert (await client.get(f"/v1/products/{p['id']}")).status_code == 404
    assert (await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"] == []
    # The owner still sees it, and brings it back.
    assert (await client.get(f"/v1/products/{p['id']}", headers=m.headers)).json()["status"] == "archived"
    back = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"status": "active"})
    assert back.json()["status"] == "active"
    assert (await client.get(f"/v1/products/{p['id']}")).status_code == 200
    bad = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"status": "deleted"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "status"


async def test_duplicate_copies_variants_tiers_and_pictures_as_a_draft(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    p = (await client.post("/v1/products", headers=m.headers, json=_matrix("TS"))).json()
    red = [v["id"] for v in p["variants"] if v["attributes"]["颜色"] == "红色"]
    up = await client.post(f"/v1/products/{p['id']}/media", headers=m.headers,
                           files={"file": ("a.png", pictures.png(), "image/png")},
                           data={"alt": "红色正面", "variant_id": red[0]})
    assert up.status_code == 201, up.text
    r = await client.post(f"/v1/products/{p['id']}/duplicate", headers=m.headers, json={"sku_suffix": "-2"})
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["id"] != p["id"] and copy["status"] == "draft" and copy["title"] == p["title"]
    assert copy["options"] == p["options"]
    assert sorted(v["sku"] for v in copy["variants"]) == sorted(v["sku"] + "-2" for v in p["variants"])
    assert {v["price"] for v in copy["variants"]} == {7890}
    assert all(v["barcode"] is None and v["weight"] == 200 for v in copy["variants"])
    assert copy["variants"][0]["wholesale"] == {"moq": 10, "pack_size": 1,
                                                "tiers": [{"min_qty": 10, "unit_price": 6000}]}
    assert [x["alt"] for x in copy["media"]] == ["红色正面"]
    assert copy["media"][0]["url"] == up.json()["url"]  # the same stored picture, not processed again
    shown = [v["sku"] for v in copy["variants"] if v["media"]]
    assert shown == ["TS-R-M-2"]
    # The original is untouched; without a body the suffix is -COPY; a suffix already used is named.
    assert len((await client.get(f"/v1/products/{p['id']}", headers=m.headers)).json()["variants"]) == 4
    default = await client.post(f"/v1/products/{p['id']}/duplicate", headers=m.headers)
    assert default.status_code == 201 and default.json()["variants"][0]["sku"].endswith("-COPY")
    again = await client.post(f"/v1/products/{p['id']}/duplicate", headers=m.headers, json={"sku_suffix": "-2"})
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "sku_suffix"
    slash = await client.post(f"/v1/products/{p['id']}/duplicate", headers=m.headers, json={"sku_suffix": "/x"})
    assert slash.status_code == 422 and slash.json()["errors"][0]["field"] == "sku_suffix"
    mine = (await client.get("/v1/products", headers=m.headers, params={"merchant_id": m.id})).json()["items"]
    assert len(mine) == 3


async def test_duplicate_of_another_merchants_product_is_404(client: httpx.AsyncClient) -> None:
    a, b = await f.merchant(client), await f.merchant(client)
    p = await f.product(client, a)
    r = await client.post(f"/v1/products/{p['id']}/duplicate", headers=b.headers)
    assert r.status_code == 404
    assert len((await client.get("/v1/products", params={"merchant_id": b.id}, headers=b.headers)).json()["items"]) == 0


async def test_bulk_edit_prices_status_and_category_in_one_go(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    p1 = (await client.post("/v1/products", headers=m.headers, json=_matrix("A", price=7890))).json()
    p2 = await f.product(client, m, price=999, status="draft")
    r = await client.post("/v1/products/bulk-edit", headers=m.headers, json={
        "product_ids": [p1["id"], p2["id"]], "price_percent": -10, "category": "home", "status": "active"})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["updated"] == 2 and [p["id"] for p in out["items"]] == [p1["id"], p2["id"]]
    got1 = (await client.get(f"/v1/products/{p1['id']}")).json()
    got2 = (await client.get(f"/v1/products/{p2['id']}")).json()
    assert {v["price"] for v in got1["variants"]} == {7101}  # ¥78.90 less 10 % = ¥71.01
    assert got2["variants"][0]["price"] == 899  # 899.1 -> 899
    assert got1["category"] == got2["category"] == "home" and got2["status"] == "active"
    up = await client.post("/v1/products/bulk-edit", headers=m.headers,
                           json={"product_ids": [p2["id"]], "price_percent": "5.5"})
    assert (await client.get(f"/v1/products/{p2['id']}")).json()["variants"][0]["price"] == 948  # 948.445
    assert up.status_code == 200
    archived = await client.post("/v1/products/bulk-edit", headers=m.headers,
                                 json={"product_ids": [p1["id"], p2["id"]], "status": "archived"})
    assert archived.status_code == 200
    assert (await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"] == []


async def test_bulk_edit_refuses_whole_when_one_id_is_bad(client: httpx.AsyncClient) -> None:
    m, other = await f.merchant(client), await f.merchant(client)
    mine = await f.product(client, m, price=1000)
    theirs = await f.product(client, other, price=1000)
    before = (await client.get(f"/v1/products/{mine['id']}")).json()
    r = await client.post("/v1/products/bulk-edit", headers=m.headers, json={
        "product_ids": [mine["id"], theirs["id"], "prd_nope"], "price_percent": 20, "status": "archived"})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["product_ids.1", "product_ids.2"]
    assert (await client.get(f"/v1/products/{mine['id']}")).json() == before
    assert (await client.get(f"/v1/products/{theirs['id']}")).json()["variants"][0]["price"] == 1000
    for body, field in (({"product_ids": [mine["id"]]}, ""),
                        ({"product_ids": [mine["id"]], "price_percent": -100}, "price_percent"),
                        ({"product_ids": [mine["id"]], "price_percent": "1.234"}, "price_percent"),
                        ({"product_ids": [mine["id"]], "category": "toys"}, "category"),
                        ({"product_ids": [], "status": "draft"}, "product_ids")):
        bad = await client.post("/v1/products/bulk-edit", headers=m.headers, json=body)
        assert bad.status_code == 422, body
        if field:
            assert bad.json()["errors"][0]["field"] == field, bad.json()
    huge = await f.product(client, m, price=900_000_000_000)
    over = await client.post("/v1/products/bulk-edit", headers=m.headers,
                             json={"product_ids": [mine["id"], huge["id"]], "price_percent": 1000})
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "price_percent"
    assert (await client.get(f"/v1/products/{mine['id']}")).json() == before
    anon = await client.post("/v1/products/bulk-edit", json={"product_ids": [mine["id"]], "status": "draft"})
    assert anon.status_code == 401
