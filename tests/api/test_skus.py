"""A SKU is part of the stock and availability URLs, so it may not hold a `/`: one that did could be created
but never stocked or looked up (`PUT /v1/locations/{id}/stock/SL%2FASH-1` was a 404)."""

from __future__ import annotations

import httpx

from tests import factories as f


async def test_skus_with_a_slash_are_refused_and_the_others_work_in_urls(client: httpx.AsyncClient):
    m = await f.merchant(client)
    store = await f.location(client, m, kind="store")
    r = await client.post("/v1/products", headers=m.headers, json=f.product_body(skus=("SL/ASH-1",)))
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["variants.0.sku"]
    product = await f.product(client, m, skus=("SL.ASH_1-b",))
    r = await client.patch(f"/v1/products/{product['id']}", headers=m.headers,
                           json={"variants": [{"sku": "SL/ASH-2", "price": 100}]})
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["variants.0.sku"]
    listed = await client.get("/v1/products", params={"merchant_id": m.id})
    assert [v["sku"] for p in listed.json()["items"] for v in p["variants"]] == ["SL.ASH_1-b"]

    await f.stock(client, m, store, "SL.ASH_1-b", 7)
    available = await client.get("/v1/inventory/SL.ASH_1-b", params={"merchant_id": m.id})
    assert available.status_code == 200 and available.json()["available"] == 7
