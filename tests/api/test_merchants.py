import httpx

from tests import factories as f


async def test_sign_up_is_pending_until_verified(client: httpx.AsyncClient, admin_headers):
    r = await client.post("/v1/merchants", json={"name": "小店", "kind": "individual",
                                                  "licence_no": "110101199003070011",
                                                  "contact_email": "a@example.com", "id_number_consent": True})
    assert r.status_code == 201
    body = r.json()
    assert body["status"] == "pending" and body["api_key"].startswith("sk_")
    # Not public while pending, but visible to itself.
    assert (await client.get(f"/v1/merchants/{body['id']}")).status_code == 404
    own = await client.get(f"/v1/merchants/{body['id']}", headers=f.bearer(body["api_key"]))
    assert own.status_code == 200 and own.json()["status"] == "pending"
    queue = await client.get("/v1/admin/merchants?status=pending", headers=admin_headers)
    assert [m["id"] for m in queue.json()["items"]] == [body["id"]]
    v = await client.post(f"/v1/admin/merchants/{body['id']}/verify", headers=admin_headers)
    assert v.status_code == 200 and v.json()["status"] == "active" and v.json()["verified_at"]
    public = await client.get(f"/v1/merchants/{body['id']}")
    assert public.status_code == 200
    assert "licence_no" not in public.json() and "contact_email" not in public.json()


async def test_only_the_admin_verifies(client: httpx.AsyncClient):
    m = await f.merchant(client, verify=False)
    r = await client.post(f"/v1/admin/merchants/{m.id}/verify", headers=m.headers)
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.post(f"/v1/admin/merchants/{m.id}/verify")).status_code == 401
    bad = await client.post(f"/v1/admin/merchants/{m.id}/verify", headers=f.bearer("sk_nope"))
    assert bad.status_code == 401


async def test_api_keys_are_stored_hashed(client: httpx.AsyncClient, app):
    from sqlalchemy import select

    from app.core.models import AccessToken

    m = await f.merchant(client)
    async with app.state.sessionmaker() as s:
        stored = (await s.scalars(select(AccessToken.token_hash))).all()
    assert m.api_key not in stored and all(len(h) == 64 for h in stored)


async def test_locations_and_devices(client: httpx.AsyncClient):
    m = await f.merchant(client)
    store = await f.location(client, m, kind="store", code="XH", name="徐汇店")
    assert store["kind"] == "store" and store["address"]["city"] == "上海"
    dup = await client.post("/v1/locations", headers=m.headers, json={
        "code": "XH", "name": "again", "kind": "store", "address": f.address()})
    assert dup.status_code == 422 and dup.json()["errors"][0]["field"] == "code"
    d = await client.post(f"/v1/locations/{store['id']}/devices", headers=m.headers, json={"name": "收银台 1"})
    assert d.status_code == 201 and d.json()["token"].startswith("pos_")
    assert d.json()["location_id"] == store["id"]
    listed = await client.get(f"/v1/locations/{store['id']}/devices", headers=m.headers)
    assert [x["id"] for x in listed.json()["items"]] == [d.json()["id"]]
    assert "token" not in listed.json()["items"][0]
    # A device token is not a merchant key.
    as_device = await client.post("/v1/locations", headers=f.bearer(d.json()["token"]), json={
        "code": "X2", "name": "n", "kind": "store", "address": f.address()})
    assert as_device.status_code == 403
    revoked = await client.post(f"/v1/devices/{d.json()['id']}/revoke", headers=m.headers)
    assert revoked.status_code == 200
    gone = await client.get("/v1/locations", headers=f.bearer(d.json()["token"]))
    assert gone.status_code == 401


async def test_devices_only_in_stores_or_pickup_points(client: httpx.AsyncClient):
    m = await f.merchant(client)
    wh = await f.location(client, m, kind="warehouse")
    r = await client.post(f"/v1/locations/{wh['id']}/devices", headers=m.headers, json={"name": "x"})
    assert r.status_code == 409


async def test_health_endpoints(client: httpx.AsyncClient):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    await client.get("/v1/products")
    metrics = await client.get("/metrics")
    assert 'shop_http_requests_total{method="GET",route="/v1/products",status="200"}' in metrics.text
