"""Platform rules (C7): a change is published for comment at least 7 days before it takes effect, every version
stays readable and cannot be changed or deleted, and a merchant who refuses a change may leave under the old
terms."""

from datetime import timedelta

import httpx

from app.core import clock
from tests import factories as f


def _rules(version: str, days: float, **over: object) -> dict[str, object]:
    return {"version": version, "category": "consumer_protection", "title": "七日无理由退货规则",
            "body": "第一条 消费者自签收次日起七日内可无理由退货。\n第二条 退款在收到退货后七日内原路退回。",
            "summary": "退款期限由十日缩短为七日", "effective_at": (clock.utcnow() + timedelta(days=days)).isoformat(),
            **over}


async def test_a_rules_change_taking_effect_in_less_than_7_days_is_refused(client: httpx.AsyncClient):
    r = await client.post("/v1/admin/rules", headers=f.ADMIN, json=_rules("2027.1", 6))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "effective_at"
    short = await client.post("/v1/admin/rules", headers=f.ADMIN, json=_rules(
        "2027.1", 10, comment_closes_at=(clock.utcnow() + timedelta(days=5)).isoformat()))
    assert short.status_code == 422 and short.json()["errors"][0]["field"] == "comment_closes_at"
    assert (await client.get("/v1/rules/versions")).json()["items"] == []  # nothing was published
    ok = await client.post("/v1/admin/rules", headers=f.ADMIN, json=_rules("2027.1", 7.01))
    assert ok.status_code == 201, ok.text
    assert ok.json()["stage"] == "comment"
    m = await f.merchant(client)
    assert (await client.post("/v1/admin/rules", headers=m.headers, json=_rules("2027.2", 8))).status_code == 403


async def test_published_rules_stay_readable_and_cannot_be_changed_or_deleted(client: httpx.AsyncClient):
    first = await client.post("/v1/admin/rules", headers=f.ADMIN, json=_rules("2027.1", 8))
    assert first.status_code == 201
    again = await client.post("/v1/admin/rules", headers=f.ADMIN, json=_rules("2027.1", 9, body="改过的文本"))
    assert again.status_code == 409
    assert (await client.delete("/v1/rules/versions/2027.1", headers=f.ADMIN)).status_code == 405
    assert (await client.put("/v1/rules/versions/2027.1", headers=f.ADMIN, json={})).status_code == 405
    clock.travel(timedelta(days=9))
    second = await client.post("/v1/admin/rules", headers=f.ADMIN,
                               json=_rules("2027.2", 8, title="平台服务协议（修订）", body="第一条 修订后的条款。"))
    assert second.status_code == 201
    listed = (await client.get("/v1/rules/versions")).json()["items"]
    assert [(v["version"], v["stage"]) for v in listed] == [("2027.2", "comment"), ("2027.1", "effective")]
    old = (await client.get("/v1/rules/versions/2027.1")).json()
    assert old["body"].startswith("第一条 消费者自签收次日起七日内") and old["title"] == "七日无理由退货规则"
    page = await client.get("/legal/rules")
    assert page.status_code == 200
    current = page.text.split('id="now-h"')[1].split('id="archive-h"')[0]
    assert "2027.1" in current and "消费者自签收次日起七日内可无理由退货" in current  # in effect now
    coming = page.text.split('id="coming-h"')[1].split('id="now-h"')[0]
    assert "2027.2" in coming and "平台服务协议（修订）" in coming  # published for comment, not yet in effect
    archived = await client.get("/legal/rules/2027.1")
    assert archived.status_code == 200 and "退款在收到退货后七日内原路退回" in archived.text
    assert (await client.get("/legal/rules/none")).status_code == 404


async def test_comments_are_public_while_the_comment_period_is_open(client: httpx.AsyncClient):
    await client.post("/v1/admin/rules", headers=f.ADMIN, json=_rules("2027.1", 10))
    buyer = await f.customer(client)
    r = await client.post("/v1/rules/versions/2027.1/comments", headers=buyer, json={"text": "建议保留十日"})
    assert r.status_code == 201
    assert (await client.post("/v1/rules/versions/2027.1/comments", json={"text": ""})).status_code == 422
    detail = (await client.get("/v1/rules/versions/2027.1")).json()
    assert [c["text"] for c in detail["comments"]] == ["建议保留十日"]
    assert "建议保留十日" in (await client.get("/legal/rules/2027.1")).text
    clock.travel(timedelta(days=9, hours=1))  # the comment period closed the day before it takes effect
    late = await client.post("/v1/rules/versions/2027.1/comments", json={"text": "晚了"})
    assert late.status_code == 409


async def test_a_merchant_who_refuses_a_change_may_leave_under_the_old_terms(client: httpx.AsyncClient):
    await client.post("/v1/admin/rules", headers=f.ADMIN, json=_rules("2027.1", 8))
    stays, leaves = await f.merchant(client), await f.merchant(client)
    yes = await client.post("/v1/rules/versions/2027.1/decision", headers=stays.headers, json={"decision": "accept"})
    assert yes.status_code == 200 and yes.json()["leave_by"] is None
    no = await client.post("/v1/rules/versions/2027.1/decision", headers=leaves.headers, json={"decision": "refuse"})
    assert no.status_code == 200 and no.json()["decision"] == "refuse"
    effective = (await client.get("/v1/rules/versions/2027.1")).json()["effective_at"]
    assert no.json()["leave_by"] == effective  # the old terms apply until the new version takes effect
    twice = await client.post("/v1/rules/versions/2027.1/decision", headers=leaves.headers,
                              json={"decision": "accept"})
    assert twice.status_code == 409
    answers = (await client.get("/v1/admin/rules/versions/2027.1/decisions", headers=f.ADMIN)).json()["items"]
    assert {(a["merchant_id"], a["decision"]) for a in answers} == {(stays.id, "accept"), (leaves.id, "refuse")}
    buyer = await f.customer(client)
    assert (await client.post("/v1/rules/versions/2027.1/decision", headers=buyer,
                              json={"decision": "accept"})).status_code == 403
    clock.travel(timedelta(days=8, minutes=1))
    late = await f.merchant(client)
    assert (await client.post("/v1/rules/versions/2027.1/decision", headers=late.headers,
                              json={"decision": "refuse"})).status_code == 409


async def test_dates_at_the_ends_of_the_calendar_are_refused_not_a_server_error(client: httpx.AsyncClient):
    for when in ("0001-01-01T00:00:00Z", "0001-01-02T00:00:00+00:00"):
        r = await client.post("/v1/admin/rules", headers=f.ADMIN, json=_rules("2027.9", 8, effective_at=when))
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "effective_at", r.text
    far = await client.post("/v1/admin/rules", headers=f.ADMIN,
                            json=_rules("2027.9", 8, effective_at="9999-12-30T00:00:00Z"))
    assert far.status_code == 201, far.text
