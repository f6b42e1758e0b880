"""Seller texts shoppers read outside a listing (campaigns, promotions, the shop description) pass the same
forbidden-clause check as listings: 422 naming the field, nothing saved."""

from __future__ import annotations

from datetime import timedelta

import httpx

from app.core import clock
from tests import factories as f

CLAUSE = "本店拥有最终解释权 概不退换"


def _period() -> dict[str, str]:
    start = clock.utcnow() + timedelta(days=1)
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(days=10)).isoformat()}


def _fields(r: httpx.Response) -> list[str]:
    return [e["field"] for e in r.json()["errors"]]


async def test_campaign_title_or_headline_with_a_forbidden_clause_is_refused_and_not_saved(
        client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    m = await f.merchant(client)
    r = await client.post("/v1/campaigns", headers=m.headers, json={
        "slug": "double-12", "title": "双十二大促", "headline": CLAUSE, **_period()})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert _fields(r) == ["headline"]
    platform = await client.post("/v1/campaigns", headers=admin_headers, json={
        "slug": "double-12", "title": "年终盛典（最终解释权归本平台所有）", "headline": "", **_period()})
    assert platform.status_code == 422 and _fields(platform) == ["title"]
    assert (await client.get("/v1/campaigns/double-12")).status_code == 404
    ok = await client.post("/v1/campaigns", headers=m.headers, json={
        "slug": "double-12", "title": "双十二大促", "headline": "七天无理由退货", **_period()})
    assert ok.status_code == 201, ok.text


async def test_promotion_text_with_a_forbidden_clause_is_refused_on_create_and_on_edit(
        client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    now = clock.utcnow()
    body = {"code": "MAN200", "kind": "amount", "value": 2000, "channels": ["online"],
            "starts_at": now.isoformat(), "ends_at": (now + timedelta(days=30)).isoformat(),
            "description": "满200减20，" + CLAUSE}
    r = await client.post("/v1/promotions", headers=m.headers, json=body)
    assert r.status_code == 422 and _fields(r) == ["description"]
    assert (await client.get("/v1/promotions", headers=m.headers)).json()["items"] == []
    created = await client.post("/v1/promotions", headers=m.headers, json={**body, "description": "满200减20"})
    assert created.status_code == 201 and created.json()["description"] == "满200减20"


async def test_shop_description_with_a_forbidden_clause_is_refused_and_a_clean_one_shows_on_the_shop(
        client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    r = await client.put("/v1/seller-profile", headers=m.headers, json={
        "trading_model": "b2c_single_store", "shop_description": "老字号茶庄。" + CLAUSE})
    assert r.status_code == 422 and _fields(r) == ["shop_description"]
    assert (await client.get(f"/v1/merchants/{m.id}")).json()["shop_description"] is None
    ok = await client.put("/v1/seller-profile", headers=m.headers, json={
        "trading_model": "b2c_single_store", "shop_description": "老字号茶庄，七天无理由退货。"})
    assert ok.status_code == 200, ok.text
    assert (await client.get(f"/v1/merchants/{m.id}")).json()["shop_description"] == "老字号茶庄，七天无理由退货。"
    assert "老字号茶庄，七天无理由退货。" in (await client.get(f"/shops/{m.id}")).text
