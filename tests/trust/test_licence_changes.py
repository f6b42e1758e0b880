"""Licence change requests (C4): the seller reports, the platform verifies within 7 working days, the shop page
follows the approved data; every step is in the audit log."""

from datetime import datetime, timedelta

import httpx

from app.core import clock
from app.core.uscc import uscc_check_char
from tests import factories as f
from tests.trust.helpers import order_for

_FIRST17 = "91310115123456789"
NEW_USCC = _FIRST17 + uscc_check_char(_FIRST17)


async def _queue(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> list[dict]:
    r = await client.get("/v1/admin/licence-changes", headers=admin_headers, params={"status": "pending"})
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def _audit_actions(client: httpx.AsyncClient, admin_headers: dict[str, str], merchant_id: str) -> list[str]:
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers,
                            params={"merchant_id": merchant_id})).json()["items"]
    return [e["action"] for e in reversed(log) if e["action"].startswith(("licence_change", "POST /v1/admin/lic"))]


async def test_an_approved_change_reaches_the_shop_page_and_pending_ones_breach_after_7_working_days(
        client: httpx.AsyncClient, admin_headers):
    shop = await f.shop(client, on_hand=10)
    buyer = await f.customer(client)
    before_rename = await order_for(client, shop, buyer)
    old_profile = (await client.get(f"/v1/merchants/{shop.m.id}")).json()

    r = await client.post("/v1/licence-changes", headers=shop.m.headers,
                          json={"name": "新名有限公司", "licence_no": NEW_USCC, "note": "公司更名，营业执照已换发"})
    assert r.status_code == 201, r.text
    change = r.json()
    assert change["status"] == "pending" and change["merchant_id"] == shop.m.id
    assert change["changes"] == {"name": "新名有限公司", "licence_no": NEW_USCC}
    assert change["previous"] == {"name": old_profile["name"], "licence_no": "91350100M000100Y43"}
    assert change["sla_breached"] is False and change["decided_at"] is None
    due = datetime.fromisoformat(change["sla_due_at"])
    submitted = datetime.fromisoformat(change["submitted_at"])
    assert timedelta(days=9) <= due - submitted <= timedelta(days=12)  # 7 working days and the weekends between
    # Nothing public changes before the platform has verified it; one request at a time.
    assert (await client.get(f"/v1/merchants/{shop.m.id}")).json()["name"] == old_profile["name"]
    again = await client.post("/v1/licence-changes", headers=shop.m.headers, json={"icp_no": "沪ICP备12345678号-1"})
    assert again.status_code == 409 and change["id"] in again.json()["detail"]

    assert [c["id"] for c in await _queue(client, admin_headers)] == [change["id"]]
    assert (await client.get("/v1/admin/licence-changes", headers=shop.m.headers)).status_code == 403
    clock.travel(due - clock.utcnow() - timedelta(minutes=1))
    [pending] = await _queue(client, admin_headers)
    assert pending["sla_breached"] is False
    clock.travel(timedelta(minutes=2))
    [pending] = await _queue(client, admin_headers)
    assert pending["sla_breached"] is True

    ok = await client.post(f"/v1/admin/licence-changes/{change['id']}/approve", headers=admin_headers)
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "approved" and ok.json()["decided_by"] == "admin:-"
    assert ok.json()["sla_breached"] is True  # decided after the deadline: it stays on record as late
    assert await _queue(client, admin_headers) == []
    profile = (await client.get(f"/v1/merchants/{shop.m.id}")).json()
    assert profile["name"] == "新名有限公司"
    assert profile["business_licence"] == {"uscc": NEW_USCC, "name": "新名有限公司"}
    twice = await client.post(f"/v1/admin/licence-changes/{change['id']}/approve", headers=admin_headers)
    assert twice.status_code == 409

    # Listings name their seller: new orders see the new name, the earlier order keeps the old one.
    after_rename = await order_for(client, shop, buyer)
    old_rev = (await client.get(f"/v1/listing-revisions/{before_rename['lines'][0]['listing_revision_id']}",
                                headers=buyer)).json()
    new_rev = (await client.get(f"/v1/listing-revisions/{after_rename['lines'][0]['listing_revision_id']}",
                                headers=buyer)).json()
    assert old_rev["content"]["merchant"]["name"] == old_profile["name"]
    assert new_rev["content"]["merchant"]["name"] == "新名有限公司" and new_rev["revision"] == 2

    assert await _audit_actions(client, admin_headers, shop.m.id) == ["licence_change.submit",
                                                                      "licence_change.approve"]
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers,
                            params={"merchant_id": shop.m.id})).json()["items"]
    approve = next(e for e in log if e["action"] == "licence_change.approve")
    assert approve["target_id"] == change["id"] and approve["after"]["licence_no"] == NEW_USCC
    assert approve["before"]["licence_no"] == "91350100M000100Y43"


async def test_bad_changes_are_refused_and_a_rejection_keeps_the_data_on_record(client: httpx.AsyncClient,
                                                                                 admin_headers):
    m = await f.merchant(client)
    name = (await client.get(f"/v1/merchants/{m.id}")).json()["name"]

    async def submit(body: dict) -> httpx.Response:
        return await client.post("/v1/licence-changes", headers=m.headers, json=body)

    bad = await submit({"licence_no": "91350100M000100Y44"})
    assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == ["licence_no"]
    assert (await submit({"icp_no": "ICP 123"})).status_code == 422
    same = await submit({"name": name})
    assert same.status_code == 422 and "nothing to change" in same.json()["detail"]
    null = await submit({"name": None})
    assert null.status_code == 422 and null.json()["errors"][0]["field"] == "name"
    assert (await submit({"kind": "individual", "licence_no": "not-a-number"})).status_code == 422
    assert (await submit({"unit": "x"})).status_code == 422
    customer = await f.customer(client)
    assert (await client.post("/v1/licence-changes", headers=customer,
                              json={"name": "冒名"})).status_code == 403

    r = await submit({"icp_no": "沪ICP备12345678号-1"})
    assert r.status_code == 201, r.text
    change = r.json()
    no_reason = await client.post(f"/v1/admin/licence-changes/{change['id']}/reject", headers=admin_headers,
                                  json={})
    assert no_reason.status_code == 422
    rejected = await client.post(f"/v1/admin/licence-changes/{change['id']}/reject", headers=admin_headers,
                                 json={"reason": "备案号与工信部系统不符"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["sla_breached"] is False
    assert (await client.get(f"/v1/merchants/{m.id}")).json()["icp_no"] is None
    assert (await client.post(f"/v1/admin/licence-changes/{change['id']}/approve",
                              headers=admin_headers)).status_code == 409

    # The merchant sees its requests and the reason; another merchant sees none of them.
    mine = (await client.get("/v1/licence-changes", headers=m.headers)).json()["items"]
    assert [(c["id"], c["status"], c["decision_reason"]) for c in mine] == [
        (change["id"], "rejected", "备案号与工信部系统不符")]
    assert (await client.get(f"/v1/licence-changes/{change['id']}", headers=m.headers)).status_code == 200
    other = await f.merchant(client)
    assert (await client.get(f"/v1/licence-changes/{change['id']}", headers=other.headers)).status_code == 404
    assert (await client.get("/v1/licence-changes", headers=other.headers)).json()["items"] == []
    assert (await client.post("/v1/admin/licence-changes/lch_nope/approve", headers=admin_headers)).status_code == 404

    # After a decision the seller may try again.
    retry = await submit({"icp_no": "沪ICP备87654321号-2"})
    assert retry.status_code == 201, retry.text
    assert await _audit_actions(client, admin_headers, m.id) == [
        "licence_change.submit", "licence_change.reject", "licence_change.submit"]
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers,
                            params={"merchant_id": m.id})).json()["items"]
    reject = next(e for e in log if e["action"] == "licence_change.reject")
    assert reject["after"] == {"status": "rejected", "reason": "备案号与工信部系统不符"}
