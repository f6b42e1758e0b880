"""Merchant B must never see or change merchant A's data: every A-owned resource answers B with 404."""

import httpx

from tests import factories as f


async def test_other_merchant_gets_404_on_every_owned_resource(client: httpx.AsyncClient):
    a = await f.merchant(client)
    b = await f.merchant(client)
    store = await f.location(client, a, kind="store")
    device = (await client.post(f"/v1/locations/{store['id']}/devices", headers=a.headers,
                                json={"name": "till"})).json()
    draft = await f.product(client, a, status="draft", skus=("A-DRAFT",))
    live = await f.product(client, a, skus=("A-LIVE",))
    owned = [
        ("GET", f"/v1/locations/{store['id']}", None),
        ("GET", f"/v1/locations/{store['id']}/devices", None),
        ("POST", f"/v1/locations/{store['id']}/devices", {"name": "evil"}),
        ("POST", f"/v1/devices/{device['id']}/revoke", None),
        ("PUT", f"/v1/locations/{store['id']}/stock/A-LIVE", {"on_hand": 0}),
        ("GET", f"/v1/products/{draft['id']}", None),
        ("PATCH", f"/v1/products/{draft['id']}", {"title": "hacked"}),
        ("PATCH", f"/v1/products/{live['id']}", {"title": "hacked"}),
    ]
    for method, path, body in owned:
        r = await client.request(method, path, headers=b.headers, json=body)
        assert r.status_code == 404, (method, path, r.status_code, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        ok = await client.request(method, path, headers=a.headers, json=body if method != "PATCH" else {})
        assert ok.status_code < 300, (method, path, ok.text)
    # B's own location cannot be used to touch A's SKU either.
    b_store = await f.location(client, b, kind="store")
    r = await client.put(f"/v1/locations/{b_store['id']}/stock/A-LIVE", headers=b.headers, json={"on_hand": 5})
    assert r.status_code == 404
    # Nothing changed for A.
    got = await client.get(f"/v1/products/{live['id']}")
    assert got.json()["title"] == live["title"]
    inv = await client.get("/v1/inventory/A-LIVE", params={"merchant_id": a.id}, headers=b.headers)
    assert inv.status_code == 200 and all("on_hand" not in loc for loc in inv.json()["locations"])


async def test_cannot_create_products_for_another_merchant(client: httpx.AsyncClient):
    a = await f.merchant(client)
    b = await f.merchant(client)
    body = f.product_body(skus=("X-1",))
    body["merchant_id"] = a.id
    r = await client.post("/v1/products", headers=b.headers, json=body)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "merchant_id"
    body.pop("merchant_id")
    created = await client.post("/v1/products", headers=b.headers, json=body)
    assert created.json()["merchant_id"] == b.id
    listed = await client.get("/v1/products", params={"merchant_id": a.id})
    assert listed.json()["items"] == []


async def test_device_tokens_are_not_merchant_keys(client: httpx.AsyncClient):
    a = await f.merchant(client)
    store = await f.location(client, a, kind="store")
    device = (await client.post(f"/v1/locations/{store['id']}/devices", headers=a.headers,
                                json={"name": "till"})).json()
    r = await client.post("/v1/products", headers=f.bearer(device["token"]), json=f.product_body())
    assert r.status_code == 403
