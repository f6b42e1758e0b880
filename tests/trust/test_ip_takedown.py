"""IP notice and takedown (ECL arts. 42-45): a rights holder's notice takes the listing down and tells the seller;
the seller's counter-notice is forwarded and the listing comes back 15 days later unless the rights holder
reports a complaint or suit; every case and its outcome is public."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from app.core import clock
from app.trust import ip_cases
from app.webhooks import service as webhooks_service
from tests import factories as f


def notice(product_id: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "product_id": product_id,
        "rights_holder": {"name": "杭州云裳服饰有限公司", "email": "legal@yunshang.example.com",
                          "phone": "0571-8888 6666"},
        "right_type": "trademark", "right_reference": "第 12345678 号",
        "notice": "该商品使用了我司注册商标“云裳”，未经许可。",
        "evidence": ["https://evidence.example.com/tm-12345678.pdf"]}
    body.update(over)
    return body


def counter() -> dict[str, Any]:
    return {"statement": "本店商品为正品，进货发票及授权书见附件。",
            "evidence": ["https://evidence.example.com/invoice-2026.pdf"]}


async def restore_job(app: Any) -> int:
    return await ip_cases.restore_due_listings(app.state.sessionmaker, app.state.settings)


async def product_status(client: httpx.AsyncClient, shop: f.Shop) -> str:
    return str((await client.get(f"/v1/products/{shop.product['id']}", headers=shop.m.headers)).json()["status"])


async def test_a_notice_with_evidence_takes_the_listing_down_tells_the_seller_and_is_public(
        client: httpx.AsyncClient, app: Any) -> None:
    shop = await f.shop(client)
    hook = await client.post("/v1/webhooks", headers=shop.m.headers,
                             json={"url": "https://hooks.example.com/liutong", "events": ["ip_case.opened"]})
    assert hook.status_code == 201, hook.text
    r = await client.post("/v1/ip-notices", json=notice(shop.product["id"]))  # no account needed
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["status"] == "taken_down" and case["merchant_id"] == shop.m.id and len(case["case_key"]) > 30
    # The listing is gone from the shop at once.
    assert (await client.get(f"/v1/products/{shop.product['id']}")).status_code == 404
    assert await product_status(client, shop) == "taken_down"
    assert (await client.post("/v1/checkout", json=f.checkout_body([(shop.variant_id, 1)]))).status_code == 422
    # The seller is told: a webhook delivery and the case with the rights holder's contact.
    await webhooks_service.fan_out(app.state.sessionmaker)
    sent = (await client.get(f"/v1/webhooks/{hook.json()['id']}/deliveries", headers=shop.m.headers)).json()
    assert [d["event_type"] for d in sent["items"]] == ["ip_case.opened"]
    mine = (await client.get(f"/v1/ip-cases/{case['id']}", headers=shop.m.headers)).json()
    assert mine["rights_holder_contact"] == {"email": "legal@yunshang.example.com", "phone": "0571-8888 6666"}
    # Public: the case, its notice and evidence, without the contact details or the key.
    public = (await client.get("/v1/ip-cases")).json()["items"]
    assert [(c["id"], c["shop_name"], c["product_title"], c["status"], c["rights_holder"]) for c in public] == [
        (case["id"], case["shop_name"], shop.product["title"], "taken_down", "杭州云裳服饰有限公司")]
    assert public[0]["evidence"] == ["https://evidence.example.com/tm-12345678.pdf"]
    assert public[0]["rights_holder_contact"] is None and "case_key" not in public[0]
    assert "legal@yunshang" not in (await client.get(f"/v1/ip-cases/{case['id']}")).text


async def test_the_listing_returns_on_day_16_after_a_counter_notice_when_no_complaint_or_suit_is_reported(
        client: httpx.AsyncClient, app: Any) -> None:
    shop = await f.shop(client)
    case = (await client.post("/v1/ip-notices", json=notice(shop.product["id"]))).json()
    r = await client.post(f"/v1/ip-cases/{case['id']}/counter-notice", headers=shop.m.headers, json=counter())
    assert r.status_code == 200, r.text
    countered = r.json()
    assert countered["status"] == "countered" and countered["counter_forwarded_at"] is not None
    assert countered["restore_due_at"][:10] == (clock.utcnow() + timedelta(days=15)).date().isoformat()
    # The counter-notice is forwarded: the rights holder reads it on the public case.
    assert (await client.get(f"/v1/ip-cases/{case['id']}")).json()["counter_notice"] == counter()["statement"]
    clock.travel(timedelta(days=14, hours=23))
    assert await restore_job(app) == 0
    assert await product_status(client, shop) == "taken_down"
    clock.travel(timedelta(hours=1, seconds=1))
    assert await restore_job(app) == 1
    assert await product_status(client, shop) == "active"
    assert (await client.get(f"/v1/products/{shop.product['id']}")).status_code == 200
    done = (await client.get(f"/v1/ip-cases/{case['id']}")).json()
    assert done["status"] == "restored" and done["closed_at"] is not None and "15" in done["outcome"]
    assert [c["id"] for c in (await client.get("/v1/ip-cases", params={"status": "restored"})).json()["items"]] == [
        case["id"]]
    assert await restore_job(app) == 0
    # Too late to report a suit now.
    late = await client.post(f"/v1/ip-cases/{case['id']}/action", json={
        "case_key": case["case_key"], "kind": "lawsuit", "reference": "(2026)浙0106民初1号",
        "evidence": ["https://evidence.example.com/court.pdf"]})
    assert late.status_code == 409


async def test_a_suit_reported_within_15_days_keeps_the_listing_down(client: httpx.AsyncClient, app: Any) -> None:
    shop = await f.shop(client)
    case = (await client.post("/v1/ip-notices", json=notice(shop.product["id"]))).json()
    await client.post(f"/v1/ip-cases/{case['id']}/counter-notice", headers=shop.m.headers, json=counter())
    clock.travel(timedelta(days=10))
    r = await client.post(f"/v1/ip-cases/{case['id']}/action", json={
        "case_key": case["case_key"], "kind": "lawsuit", "reference": "(2026)浙0106民初1号",
        "evidence": ["https://evidence.example.com/court.pdf"]})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "upheld" and r.json()["action_kind"] == "lawsuit"
    clock.travel(timedelta(days=30))
    assert await restore_job(app) == 0
    assert await product_status(client, shop) == "taken_down"
    public = (await client.get(f"/v1/ip-cases/{case['id']}")).json()
    assert public["status"] == "upheld" and public["action_reference"] == "(2026)浙0106民初1号"
    assert public["outcome"]


async def test_only_the_seller_counters_and_only_the_rights_holders_key_or_the_admin_reports(
        client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    shop = await f.shop(client)
    other = await f.merchant(client)
    case = (await client.post("/v1/ip-notices", json=notice(shop.product["id"]))).json()
    assert (await client.post(f"/v1/ip-cases/{case['id']}/counter-notice", headers=other.headers,
                              json=counter())).status_code == 404
    assert (await client.post(f"/v1/ip-cases/{case['id']}/counter-notice", json=counter())).status_code == 401
    seen_by_other = (await client.get(f"/v1/ip-cases/{case['id']}", headers=other.headers)).json()
    assert seen_by_other["rights_holder_contact"] is None
    report = {"kind": "complaint", "reference": "杭州市市场监管局 2026-118",
              "evidence": ["https://evidence.example.com/complaint.pdf"]}
    assert (await client.post(f"/v1/ip-cases/{case['id']}/action",
                              json={**report, "case_key": "guessed-" + "x" * 30})).status_code == 403
    assert (await client.post(f"/v1/ip-cases/{case['id']}/action", json=report)).status_code == 403
    assert (await client.get(f"/v1/ip-cases/{case['id']}")).json()["status"] == "taken_down"
    assert (await client.post(f"/v1/ip-cases/{case['id']}/counter-notice", headers=shop.m.headers,
                              json=counter())).status_code == 200
    assert (await client.post(f"/v1/ip-cases/{case['id']}/counter-notice", headers=shop.m.headers,
                              json=counter())).status_code == 409
    by_admin = await client.post(f"/v1/ip-cases/{case['id']}/action", headers=admin_headers, json=report)
    assert by_admin.status_code == 200 and by_admin.json()["status"] == "upheld"


async def test_a_notice_needs_evidence_and_a_listing_on_sale(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client)
    bare = await client.post("/v1/ip-notices", json=notice(shop.product["id"], evidence=[]))
    assert bare.status_code == 422 and bare.json()["errors"][0]["field"] == "evidence"
    no_contact = await client.post("/v1/ip-notices", json=notice(shop.product["id"], rights_holder={"name": "某公司"}))
    assert no_contact.status_code == 422 and no_contact.json()["errors"][0]["field"] == "rights_holder.email"
    assert await product_status(client, shop) == "active"
    assert (await client.post("/v1/ip-notices", json=notice("prd_nope"))).status_code == 404
    draft = await f.product(client, shop.m, status="draft")
    assert (await client.post("/v1/ip-notices", json=notice(draft["id"]))).status_code == 409
    assert (await client.get("/v1/ip-cases")).json()["items"] == []


async def test_the_seller_answers_in_its_console_and_the_public_page_shows_the_case_in_chinese(
        client: httpx.AsyncClient) -> None:
    from tests.web.helpers import assert_good_page, csrf

    shop = await f.shop(client)
    case = (await client.post("/v1/ip-notices", json=notice(shop.product["id"]))).json()
    owner = httpx.AsyncClient(transport=client._transport, base_url="http://testserver", timeout=60)
    login = (await owner.get("/console/login")).text
    assert (await owner.post("/console/login", data={"csrf": csrf(login), "api_key": shop.m.api_key})
            ).status_code == 303
    listed = assert_good_page(await owner.get("/console/ip-cases"))
    assert "知识产权投诉" in listed and "已下架，可申辩" in listed
    assert f'href="/console/ip-cases/{case["id"]}"' in listed
    page = assert_good_page(await owner.get(f"/console/ip-cases/{case['id']}"))
    assert "legal@yunshang.example.com" in page and "第 12345678 号" in page and "商标权" in page
    empty = await owner.post(f"/console/ip-cases/{case['id']}/counter-notice",
                             data={"csrf": csrf(page), "statement": "不侵权", "evidence": ""})
    assert empty.status_code == 422 and "evidence" in empty.text
    assert (await client.get(f"/v1/ip-cases/{case['id']}")).json()["status"] == "taken_down"
    sent = await owner.post(f"/console/ip-cases/{case['id']}/counter-notice", data={
        "csrf": csrf(page), "statement": counter()["statement"], "evidence": counter()["evidence"][0]})
    assert sent.status_code == 303, sent.text[:2000]
    after = assert_good_page(await owner.get(f"/console/ip-cases/{case['id']}"))
    assert "已申辩，已转送权利人" in after and 'data-testid="ip-restore-due"' in after
    assert (await client.get(f"/v1/ip-cases/{case['id']}")).json()["status"] == "countered"
    public = assert_good_page(await client.get("/ip-cases"))
    assert "知识产权保护公示" in public and shop.product["title"] in public and counter()["statement"] in public
    assert "legal@yunshang" not in public
    await owner.aclose()
