from datetime import datetime, timedelta

import httpx

from app.core import clock
from tests import factories as f


async def test_anyone_can_complain_and_the_admin_resolves(client: httpx.AsyncClient, admin_headers):
    s = await f.shop(client)
    buyer = await f.customer(client)
    r = await client.post("/v1/complaints", headers=buyer, json={
        "target_type": "product", "target_id": s.product["id"], "reason": "描述与实物不符",
        "category": "false_information", "evidence": ["https://img.example.com/photo1.jpg"]})
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["status"] == "open" and c["merchant_id"] == s.m.id and not c["overdue"]
    assert c["evidence"] == ["https://img.example.com/photo1.jpg"]
    assert [h["status"] for h in c["history"]] == ["open"]
    anon = await client.post("/v1/complaints", json={"target_type": "merchant", "target_id": s.m.id,
                                                     "reason": "售假", "contact_email": "w@example.com"})
    assert anon.status_code == 201
    # The complainant follows their complaint; nobody else can read it.
    assert (await client.get(f"/v1/complaints/{c['id']}", headers=buyer)).status_code == 200
    assert (await client.get(f"/v1/complaints/{c['id']}")).status_code == 404
    assert (await client.get(f"/v1/complaints/{c['id']}", headers=s.m.headers)).status_code == 404
    queue = (await client.get("/v1/admin/complaints", headers=admin_headers, params={"status": "open"})).json()
    assert [i["id"] for i in queue["items"]] == [c["id"], anon.json()["id"]]
    assert (await client.get("/v1/admin/complaints", headers=buyer)).status_code == 403
    done = await client.post(f"/v1/admin/complaints/{c['id']}/resolve", headers=admin_headers,
                             json={"outcome": "upheld", "note": "商家承认描述错误"})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "upheld" and done.json()["resolution"] == "商家承认描述错误"
    assert [h["status"] for h in done.json()["history"]] == ["open", "upheld"]
    again = await client.post(f"/v1/admin/complaints/{c['id']}/resolve", headers=admin_headers,
                              json={"outcome": "rejected", "note": "x"})
    assert again.status_code == 409
    # An upheld complaint lowers the credit score; a rejected one does not.
    await client.post(f"/v1/admin/complaints/{anon.json()['id']}/resolve", headers=admin_headers,
                      json={"outcome": "rejected", "note": "无证据"})
    assert (await client.get(f"/v1/merchants/{s.m.id}")).json()["credit_score"] == 600 - 40


async def test_complaint_targets_must_exist_and_input_is_checked(client: httpx.AsyncClient):
    missing = await client.post("/v1/complaints", json={"target_type": "product", "target_id": "prd_x",
                                                        "reason": "x"})
    assert missing.status_code == 404
    for bad in ({"target_type": "order", "target_id": "x", "reason": "x"},
                {"target_type": "product", "target_id": "x", "reason": ""},
                {"target_type": "product", "target_id": "x", "reason": "x", "evidence": ["not a url"]},
                {"target_type": "product", "target_id": "x", "reason": "x", "category": "nonsense"}):
        r = await client.post("/v1/complaints", json=bad)
        assert r.status_code == 422, bad


async def test_complaint_deadlines_count_working_days_and_then_turn_overdue(client: httpx.AsyncClient,
                                                                             admin_headers):
    m = await f.merchant(client)
    c = (await client.post("/v1/complaints", json={"target_type": "merchant", "target_id": m.id,
                                                   "reason": "不发货"})).json()
    filed, due = datetime.fromisoformat(c["created_at"]), datetime.fromisoformat(c["sla_due_at"])
    # 7 working days always span two weekends: at least 9 calendar days, ending at midnight after a weekday.
    assert due - filed >= timedelta(days=8)
    last_day = (due - timedelta(seconds=1)).astimezone(clock.SHANGHAI)
    assert last_day.weekday() < 5 and (last_day + timedelta(seconds=1)).hour == 0
    clock.travel(timedelta(days=7, minutes=1))  # seven calendar days are not seven working days
    item = (await client.get("/v1/admin/complaints", headers=admin_headers)).json()["items"][0]
    assert item["id"] == c["id"] and not item["overdue"]
    clock.travel(due - filed - timedelta(days=7) + timedelta(minutes=1))
    item = (await client.get("/v1/admin/complaints", headers=admin_headers)).json()["items"][0]
    assert item["id"] == c["id"] and item["overdue"]
