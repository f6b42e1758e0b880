"""Festival campaigns through the API and their landing page: products and promotions grouped for a period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from app.core import clock
from tests import factories as f
from tests.web.helpers import assert_good_page, csrf


def _period(start_in: timedelta = timedelta(days=1), days: int = 10) -> dict[str, str]:
    start = clock.utcnow() + start_in
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(days=days)).isoformat()}


async def _promotion(client: httpx.AsyncClient, m: f.MerchantCtx, code: str) -> None:
    now = datetime.now(UTC)
    r = await client.post("/v1/promotions", headers=m.headers, json={
        "code": code, "kind": "percent", "value": 10, "channels": ["online"],
        "starts_at": (now - timedelta(days=1)).isoformat(), "ends_at": (now + timedelta(days=60)).isoformat()})
    assert r.status_code == 201, r.text


async def test_merchant_campaign_with_products_promotions_and_a_landing_page(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client)
    await _promotion(client, shop.m, "NIANHUO10")
    r = await client.post("/v1/campaigns", headers=shop.m.headers, json={
        "slug": "spring-2027", "title": "春节年货节", "headline": "年货到家", **_period(),
        "product_ids": [shop.product["id"]], "promotion_codes": ["nianhuo10"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "scheduled" and body["merchant_id"] == shop.m.id
    assert [p["id"] for p in body["products"]] == [shop.product["id"]]
    assert body["products"][0]["price"] == 19_900
    assert [p["code"] for p in body["promotions"]] == ["NIANHUO10"]
    public = await client.get("/v1/campaigns/spring-2027")
    assert public.status_code == 200 and public.json()["id"] == body["id"]
    listed = await client.get("/v1/campaigns")
    assert [c["slug"] for c in listed.json()["items"]] == ["spring-2027"]
    page = assert_good_page(await client.get("/campaigns/spring-2027"))
    assert "春节年货节" in page and shop.product["title"] in page and "NIANHUO10" in page
    assert 'data-testid="countdown"' in page and body["starts_at"][:16] in page
    assert "春节年货节" in assert_good_page(await client.get("/"))
    clock.travel(timedelta(days=2))
    assert (await client.get("/v1/campaigns/spring-2027")).json()["status"] == "live"
    clock.travel(timedelta(days=20))
    assert (await client.get("/v1/campaigns")).json()["items"] == []
    page = assert_good_page(await client.get("/campaigns/spring-2027"))
    assert 'data-testid="countdown"' not in page


async def test_bad_campaigns_are_refused_and_change_nothing(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client)
    other = await f.shop(client)
    r = await client.post("/v1/campaigns", headers=shop.m.headers, json={
        "slug": "double-11", "title": "双十一", **_period(), "product_ids": [other.product["id"], "prd_nope"],
        "promotion_codes": ["NOPE"]})
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["product_ids.0", "product_ids.1", "promotion_codes.0"]
    backwards = {"starts_at": _period()["ends_at"], "ends_at": _period()["starts_at"]}
    r = await client.post("/v1/campaigns", headers=shop.m.headers, json={"slug": "x1", "title": "t", **backwards})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "ends_at"
    r = await client.post("/v1/campaigns", headers=shop.m.headers, json={"slug": "Bad Slug", "title": "t",
                                                                         **_period()})
    assert r.status_code == 422
    assert (await client.get("/v1/campaigns")).json()["items"] == []
    ok = await client.post("/v1/campaigns", headers=shop.m.headers, json={"slug": "double-11", "title": "双十一",
                                                                          **_period()})
    assert ok.status_code == 201
    taken = await client.post("/v1/campaigns", headers=other.m.headers, json={"slug": "double-11", "title": "t",
                                                                              **_period()})
    assert taken.status_code == 422 and taken.json()["errors"][0]["field"] == "slug"
    # another merchant's campaign cannot be joined: it does not exist for them
    r = await client.post(f"/v1/campaigns/{ok.json()['id']}/items", headers=other.m.headers,
                          json={"product_ids": [other.product["id"]]})
    assert r.status_code == 404
    assert (await client.post("/v1/campaigns", json={"slug": "y", "title": "t", **_period()})).status_code == 401


async def test_platform_campaign_is_joined_by_merchants(client: httpx.AsyncClient, admin_headers: dict[str, str]
                                                        ) -> None:
    a, b = await f.shop(client), await f.shop(client)
    r = await client.post("/v1/campaigns", headers=admin_headers, json={
        "slug": "double-11-2026", "title": "双十一", **_period(timedelta(hours=-1))})
    assert r.status_code == 201 and r.json()["merchant_id"] is None and r.json()["status"] == "live"
    cid = r.json()["id"]
    for shop in (a, b):
        j = await client.post(f"/v1/campaigns/{cid}/items", headers=shop.m.headers,
                              json={"product_ids": [shop.product["id"]]})
        assert j.status_code == 200, j.text
    again = await client.post(f"/v1/campaigns/{cid}/items", headers=a.m.headers,
                              json={"product_ids": [a.product["id"]]})
    assert again.status_code == 200
    products = (await client.get(f"/v1/campaigns/{cid}")).json()["products"]
    assert sorted(p["id"] for p in products) == sorted([a.product["id"], b.product["id"]])
    # a suspended merchant's products leave the public page
    await client.post(f"/v1/admin/merchants/{b.m.id}/suspend", headers=admin_headers, json={"reason": "test"})
    products = (await client.get(f"/v1/campaigns/{cid}")).json()["products"]
    assert [p["id"] for p in products] == [a.product["id"]]


async def test_console_creates_a_campaign(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client)
    login = (await client.get("/console/login")).text
    await client.post("/console/login", data={"csrf": csrf(login), "api_key": shop.m.api_key})
    page = assert_good_page(await client.get("/console/campaigns"))
    assert f'name="product_id" value="{shop.product["id"]}"' in page
    start = (clock.utcnow() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    end = (clock.utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    r = await client.post("/console/campaigns", data={
        "csrf": csrf(page), "title": "春节年货节", "slug": "cny", "starts_at": start, "ends_at": end,
        "product_id": shop.product["id"], "promotion_codes": ""})  # a checkbox of the product picker
    assert r.status_code == 303, r.text[:2000]
    assert shop.product["title"] in assert_good_page(await client.get("/campaigns/cny"))
    bad = await client.post("/console/campaigns", data={"csrf": csrf(page), "title": "x", "slug": "cny2",
                                                        "starts_at": "not a date", "ends_at": end})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
