"""Options and variants through the HTTP API: the matrix grows with a value, the storefront picks a variant."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories as f
from tests import pictures


def _matrix_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "纯棉T恤 Cotton T-shirt", "category": "apparel", "status": "active",
        "options": [{"name": "颜色", "values": ["红色", "黑色"]}, {"name": "尺码", "values": ["M", "L", "XL"]}],
        "variants": [{"sku": f"TS-{c}-{s}", "price": 7900, "attributes": {"颜色": cn, "尺码": s},
                      "barcode": f"69012345{i:05d}", "weight": 180}
                     for i, (c, cn, s) in enumerate((c, cn, s) for c, cn in (("R", "红色"), ("B", "黑色"))
                                                    for s in ("M", "L", "XL"))]}
    body.update(over)
    return body


async def test_a_product_with_two_options_by_three_values(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    r = await client.post("/v1/products", headers=m.headers, json=_matrix_body())
    assert r.status_code == 201, r.text
    p = r.json()
    assert p["options"] == [{"name": "颜色", "values": ["红色", "黑色"]}, {"name": "尺码", "values": ["M", "L", "XL"]}]
    assert len(p["variants"]) == 6 and p["variants"][0]["barcode"] == "6901234500000"
    assert p["variants"][0]["weight"] == 180
    assert (await client.get(f"/v1/products/{p['id']}")).json() == p
    listed = (await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"]
    assert listed == [{**p, "is_ad": False}]  # a listing item is the product as read, and says it is no ad (C12)
    # The storefront picks by option values.
    got = await client.get(f"/v1/products/{p['id']}/variant", params=[("option", "颜色:黑色"), ("option", "尺码:L")])
    assert got.status_code == 200 and got.json()["sku"] == "TS-B-L"
    none = await client.get(f"/v1/products/{p['id']}/variant", params=[("option", "颜色:蓝色")])
    assert none.status_code == 404
    bad = await client.get(f"/v1/products/{p['id']}/variant", params=[("option", "颜色")])
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "option.0"


async def test_variants_must_fit_the_options(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    body = _matrix_body()
    body["variants"][1]["attributes"] = {"颜色": "蓝色", "尺码": "L"}
    body["variants"][2]["attributes"] = {"颜色": "红色", "尺码": "M"}
    r = await client.post("/v1/products", headers=m.headers, json=body)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["variants.1.attributes", "variants.2.attributes"]
    dup = _matrix_body(options=[{"name": "颜色", "values": ["红色"]}, {"name": "颜色", "values": ["黑色"]}])
    assert (await client.post("/v1/products", headers=m.headers, json=dup)).status_code == 422
    assert (await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"] == []


async def test_the_old_contract_still_works_and_gets_options(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    p = await f.product(client, m, skus=("OLD-1", "OLD-2"))
    assert p["options"] == [{"name": "size", "values": ["L"]}]  # both variants say size L
    assert p["variants"][0]["attributes"] == {"size": "L"} and p["variants"][0]["barcode"] is None


async def test_adding_a_value_makes_its_variants_appear(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    p = (await client.post("/v1/products", headers=m.headers, json=_matrix_body())).json()
    path = f"/v1/products/{p['id']}/options"
    grown = {"options": [{"name": "颜色", "values": ["红色", "黑色", "白色"]},
                         {"name": "尺码", "values": ["M", "L", "XL"]}]}
    missing_price = await client.put(path, headers=m.headers, json=grown)
    assert missing_price.status_code == 422 and missing_price.json()["errors"][0]["field"] == "fill"
    r = await client.put(path, headers=m.headers, json={**grown, "fill": {"price": 8900, "sku_prefix": "TS"}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert len(out["variants"]) == 9
    new = [v for v in out["variants"] if v["attributes"]["颜色"] == "白色"]
    assert sorted(v["sku"] for v in new) == ["TS-V3-L", "TS-V3-M", "TS-V3-XL"]
    assert {v["price"] for v in new} == {8900}
    # A new option: every variant takes its first value; nothing else appears while it has one value.
    r = await client.put(path, headers=m.headers, json={"options": [*grown["options"],
                                                                   {"name": "材质", "values": ["棉"]}]})
    assert r.status_code == 200 and len(r.json()["variants"]) == 9
    assert {v["attributes"]["材质"] for v in r.json()["variants"]} == {"棉"}
    # A value still used by variants cannot go.
    shrink = {"options": [{"name": "颜色", "values": ["红色", "黑色"]}, {"name": "尺码", "values": ["M", "L", "XL"]},
                          {"name": "材质", "values": ["棉"]}]}
    refused = await client.put(path, headers=m.headers, json=shrink)
    assert refused.status_code == 409 and "TS-V3-M" in refused.json()["detail"]
    other = await f.merchant(client)
    assert (await client.put(path, headers=other.headers, json=shrink)).status_code == 404


async def test_bulk_price_and_a_variants_picture(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    p = (await client.post("/v1/products", headers=m.headers, json=_matrix_body())).json()
    pic = await client.post(f"/v1/products/{p['id']}/media", headers=m.headers,
                            files={"file": ("black.png", pictures.png(pictures.quadrants(300, 300)))})
    media_id = pic.json()["id"]
    black = [v["sku"] for v in p["variants"] if v["attributes"]["颜色"] == "黑色"]
    r = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"variants": [
        {"sku": sku, "price": 6900, "image_id": media_id} for sku in black]})
    assert r.status_code == 200, r.text
    out = r.json()
    for v in out["variants"]:
        is_black = v["sku"] in black
        assert v["price"] == (6900 if is_black else 7900)
        assert [x["id"] for x in v["media"]] == ([media_id] if is_black else [])
    assert out["options"] == p["options"]
    wrong = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"variants": [
        {"sku": black[0], "image_id": "med_nope"}]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "variants.0.image_id"
