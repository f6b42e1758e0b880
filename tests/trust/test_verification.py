from datetime import timedelta

import httpx
import pytest

from app.core import clock
from app.trust import sellers as trust_sellers
from tests import factories as f

# Codes published on business licences (GB 32100-2015), and the same codes with one character changed.
PUBLISHED = ["91350100M000100Y43", "91330100716105852F", "914403001922038216", "91440300708461136T",
             "91110108551385082Q", "91110000802100433B"]
MUTATED = ["91350100M000100Y44", "91330100716105853F", "914403001922038217", "9144030070846113T6",
           "91110108551385082", "9111000080210043IB"]


async def _sign_up(client: httpx.AsyncClient, **over: object) -> httpx.Response:
    body = {"name": "测试企业", "kind": "enterprise", "licence_no": PUBLISHED[0], "contact_email": "x@example.com"}
    body.update(over)
    return await client.post("/v1/merchants", json=body)


@pytest.mark.parametrize("code", PUBLISHED)
async def test_enterprises_sign_up_with_a_valid_credit_code(client: httpx.AsyncClient, code: str):
    assert (await _sign_up(client, licence_no=code)).status_code == 201


@pytest.mark.parametrize("code", MUTATED)
async def test_a_wrong_check_digit_is_refused_and_nothing_is_created(client: httpx.AsyncClient, admin_headers,
                                                                     code: str):
    r = await _sign_up(client, licence_no=code)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "licence_no" and "check digit" in r.json()["errors"][0]["message"]
    assert (await client.get("/v1/admin/merchants", headers=admin_headers)).json()["items"] == []


async def test_icp_number_format(client: httpx.AsyncClient):
    assert (await _sign_up(client, icp_no="沪ICP备12345678号-1")).status_code == 201
    assert (await _sign_up(client, icp_no="京ICP证030173号")).status_code == 201
    for bad in ("ICP12345678", "沪ICP备1234号", "XXICP备12345678号"):
        r = await _sign_up(client, icp_no=bad)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "icp_no", bad


async def test_enterprise_profile_shows_licence_and_platform_footer(client: httpx.AsyncClient):
    r = await _sign_up(client, icp_no="沪ICP备12345678号-1")
    mid = r.json()["id"]
    await client.post(f"/v1/admin/merchants/{mid}/verify", headers=f.ADMIN)
    p = (await client.get(f"/v1/merchants/{mid}")).json()
    assert p["registration_type"] == "registered" and p["self_declaration"] is None
    assert p["business_licence"] == {"uscc": PUBLISHED[0], "name": "测试企业"}
    assert p["verified_at"] and p["reverification_due_at"] and p["completed_orders"] == 0
    assert p["platform"]["icp_no"] and p["platform"]["rules_url"] and p["platform"]["licence_url"]
    assert "contact_email" not in p and "licence_no" not in p
    footer = (await client.get("/v1/platform")).json()
    assert footer == p["platform"]


async def test_unregistered_individual_is_badged_and_shows_the_declaration(client: httpx.AsyncClient):
    r = await client.post("/v1/merchants", json={"name": "小王的书摊", "kind": "individual",
                                                  "licence_no": "110101199003070011", "contact_email": "w@example.com",
                                                  "id_number_consent": True})
    assert r.status_code == 201
    await client.post(f"/v1/admin/merchants/{r.json()['id']}/verify", headers=f.ADMIN)
    p = await client.get(f"/v1/merchants/{r.json()['id']}")
    body = p.json()
    assert body["registration_type"] == "unregistered" and body["business_licence"] is None
    assert "电子商务法" in body["self_declaration"] and "无须办理市场主体登记" in body["self_declaration"]
    assert "110101199003070011" not in p.text  # the ID number is never public
    bad = await client.post("/v1/merchants", json={"name": "x", "kind": "individual", "licence_no": "12345",
                                                    "contact_email": "w@example.com"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "licence_no"
    licensed = await client.post("/v1/merchants", json={"name": "个体户", "kind": "individual",
                                                         "licence_no": PUBLISHED[1], "contact_email": "w@example.com"})
    assert licensed.status_code == 201


async def test_overdue_reverification_is_flagged_then_blocks_new_listings(client: httpx.AsyncClient, app,
                                                                          admin_headers):
    m = await f.merchant(client)
    await f.product(client, m)
    clock.travel(timedelta(days=150))
    assert await trust_sellers.flag_overdue_reverification(app.state.sessionmaker, app.state.settings) == 0
    clock.travel(timedelta(days=35))  # past six months
    assert await trust_sellers.flag_overdue_reverification(app.state.sessionmaker, app.state.settings) == 1
    assert await trust_sellers.flag_overdue_reverification(app.state.sessionmaker, app.state.settings) == 0
    due = (await client.get("/v1/admin/merchants-due-reverification", headers=admin_headers)).json()["items"]
    assert [d["merchant_id"] for d in due] == [m.id]
    # Flagged but within the grace period: still allowed.
    await f.product(client, m)
    clock.travel(timedelta(days=15))
    blocked = await client.post("/v1/products", headers=m.headers, json=f.product_body())
    assert blocked.status_code == 403 and "re-verification" in blocked.json()["detail"]
    # Listings already live stay up; a fresh verification lifts the block and the flag.
    assert len((await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"]) == 2
    await client.post(f"/v1/admin/merchants/{m.id}/verify", headers=admin_headers)
    assert (await client.post("/v1/products", headers=m.headers, json=f.product_body())).status_code == 201
    await trust_sellers.flag_overdue_reverification(app.state.sessionmaker, app.state.settings)
    assert (await client.get("/v1/admin/merchants-due-reverification", headers=admin_headers)).json()["items"] == []
