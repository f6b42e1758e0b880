"""Return disputes (C35): a buyer disputes a seller's rejection; it joins the platform's mediation queue with a
deadline in working days; the platform refunds or upholds the rejection, and both sides see why."""

from datetime import datetime, timedelta
from typing import Any

import httpx

from app.core import clock
from tests import factories as f
from tests.api.test_returns_c29_c34 import PHOTO, _buy, _deliver, _refund_on_receipt, _return


async def _rejected_return(client: httpx.AsyncClient) -> tuple[f.Shop, dict[str, str], dict[str, Any], str]:
    s = await f.shop(client, on_hand=10, price=6_000)
    await _refund_on_receipt(client, s.m)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 1)])
    await _deliver(client, s.m, order["id"])
    ret = (await _return(client, buyer, order["id"], [(s.variant_id, 1)], reason="不合适")).json()
    path = f"/v1/orders/{order['id']}/returns/{ret['id']}"
    await client.post(f"{path}/receive", headers=s.m.headers)
    rejected = await client.post(f"{path}/reject", headers=s.m.headers,
                                 json={"code": "hygiene_seal_broken", "evidence": [PHOTO]})
    assert rejected.status_code == 200, rejected.text
    return s, buyer, order, path


async def test_a_buyer_disputes_a_rejected_return_and_the_platform_refunds_it(client: httpx.AsyncClient):
    s, buyer, order, path = await _rejected_return(client)
    assert (await client.post(f"{path}/dispute", headers=s.m.headers, json={"reason": "x"})).status_code == 403
    assert (await client.post(f"{path}/dispute", headers=buyer, json={"reason": ""})).status_code == 422
    r = await client.post(f"{path}/dispute", headers=buyer, json={"reason": "收到时密封完好，有开箱视频"})
    assert r.status_code == 200, r.text
    disputed = r.json()
    assert disputed["status"] == "disputed" and disputed["dispute_reason"].startswith("收到时密封完好")
    due = datetime.fromisoformat(disputed["mediation_due_at"])
    assert due - datetime.fromisoformat(disputed["disputed_at"]) >= timedelta(days=8)  # 7 working days
    assert (await client.post(f"{path}/dispute", headers=buyer, json={"reason": "again"})).status_code == 409
    queue = (await client.get("/v1/admin/mediation", headers=f.ADMIN)).json()["items"]
    assert [q["return_id"] for q in queue] == [disputed["id"]]
    assert queue[0]["rejection_code"] == "hygiene_seal_broken" and queue[0]["evidence"] == [PHOTO]
    assert not queue[0]["overdue"]
    assert (await client.get("/v1/admin/mediation", headers=s.m.headers)).status_code == 403
    decided = await client.post(f"/v1/admin/mediation/{disputed['id']}/decide", headers=f.ADMIN,
                                json={"outcome": "refund", "note": "照片不能证明密封被破坏"})
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert body["status"] in ("refunded", "refund_pending") and body["mediation_outcome"] == "refund"
    assert body["mediation_note"] == "照片不能证明密封被破坏"
    got = (await client.get(f"/v1/orders/{order['id']}", headers=buyer)).json()
    assert got["refunded"] == 6_000 and got["lines"][0]["returned_quantity"] == 1
    assert (await client.get("/v1/admin/mediation", headers=f.ADMIN)).json()["items"] == []
    again = await client.post(f"/v1/admin/mediation/{disputed['id']}/decide", headers=f.ADMIN,
                              json={"outcome": "refund", "note": "twice"})
    assert again.status_code == 409


async def test_the_platform_may_uphold_a_rejection_and_late_cases_show_as_overdue(client: httpx.AsyncClient):
    _shop, buyer, order, path = await _rejected_return(client)
    disputed = (await client.post(f"{path}/dispute", headers=buyer, json={"reason": "不同意"})).json()
    clock.travel(datetime.fromisoformat(disputed["mediation_due_at"]) - clock.utcnow() + timedelta(minutes=1))
    queue = (await client.get("/v1/admin/mediation", headers=f.ADMIN)).json()["items"]
    assert queue[0]["overdue"]
    bad = await client.post(f"/v1/admin/mediation/{disputed['id']}/decide", headers=f.ADMIN,
                            json={"outcome": "maybe", "note": "x"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"].endswith("outcome")
    upheld = await client.post(f"/v1/admin/mediation/{disputed['id']}/decide", headers=f.ADMIN,
                               json={"outcome": "rejection_upheld", "note": "照片显示封条已撕开"})
    assert upheld.status_code == 200 and upheld.json()["status"] == "rejected"
    assert upheld.json()["history"][-1]["note"].endswith("照片显示封条已撕开")
    got = (await client.get(f"/v1/orders/{order['id']}", headers=buyer)).json()
    assert got["refunded"] == 0
    assert (await client.post(f"{path}/dispute", headers=buyer, json={"reason": "again"})).status_code == 409
    assert (await client.post("/v1/admin/mediation/ret_nope/decide", headers=f.ADMIN,
                              json={"outcome": "refund", "note": "x"})).status_code == 404
