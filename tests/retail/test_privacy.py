"""Personal information (C19–C22, PIPL): consents per purpose, a copy of one's data, corrections, deleting single
fields, closure into the legal-hold store and its purge, the security-log retention floor."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from app.config import Settings
from app.core import clock
from app.orders import legal_hold
from tests import factories as f
from tests.trust.helpers import order_for, ship_and_deliver

REGULATOR_TOKEN = "regulator-" + "r" * 40


async def _signup(client: httpx.AsyncClient, email: str, **extra: Any) -> dict[str, str]:
    r = await client.post("/v1/customers", json={"email": email, "password": "s3cret-pass", "name": "李四", **extra})
    assert r.status_code == 201, r.text
    t = await client.post("/v1/auth/token", data={"username": email, "password": "s3cret-pass"})
    return f.bearer(t.json()["access_token"])


def _by_purpose(consents: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["purpose"]: c for c in consents["items"]}


def _fields(r: httpx.Response) -> list[str]:
    return [e["field"] for e in r.json().get("errors", [])]


async def test_a_signup_with_only_the_required_consents_works_and_marketing_stays_off(client: httpx.AsyncClient):
    buyer = await _signup(client, "plain@example.com")
    got = _by_purpose((await client.get("/v1/me/consents", headers=buyer)).json())
    assert {p: c["granted"] for p, c in got.items()} == {
        "account": True, "order_fulfilment": True, "marketing": False, "share_merchant": False,
        "share_carrier": False}
    assert got["account"]["text_version"] and got["account"]["granted_at"]
    assert got["marketing"]["granted_at"] is None and got["marketing"]["required"] is False
    # The person can still buy with nothing optional given.
    shop = await f.shop(client, on_hand=3)
    await order_for(client, shop, buyer)


async def test_each_consent_is_recorded_with_its_text_version_and_time_and_can_be_withdrawn(
        client: httpx.AsyncClient):
    buyer = await _signup(client, "ticks@example.com", consents={"marketing": True})
    given = _by_purpose((await client.get("/v1/me/consents", headers=buyer)).json())["marketing"]
    assert given["granted"] is True and given["text_version"] == given["current_text_version"]
    assert given["withdrawn_at"] is None
    clock.travel(timedelta(days=2))
    r = await client.put("/v1/me/consents", headers=buyer, json={"consents": {"marketing": False,
                                                                             "share_carrier": True}})
    assert r.status_code == 200, r.text
    now = _by_purpose(r.json())
    assert now["marketing"]["granted"] is False and now["marketing"]["withdrawn_at"] > given["granted_at"]
    assert now["share_carrier"]["granted"] is True and now["share_merchant"]["granted"] is False
    history = [(h["purpose"], h["withdrawn_at"] is not None) for h in r.json()["history"]]
    assert ("marketing", True) in history and ("share_carrier", False) in history
    # Given again: a new record, the withdrawn one stays as it was.
    again = (await client.put("/v1/me/consents", headers=buyer, json={"consents": {"marketing": True}})).json()
    assert [h["withdrawn_at"] is None for h in again["history"] if h["purpose"] == "marketing"] == [False, True]


async def test_a_required_purpose_cannot_be_refused_and_unknown_purposes_are_named(client: httpx.AsyncClient):
    refused = await client.post("/v1/customers", json={"email": "no@example.com", "password": "s3cret-pass",
                                                       "name": "王五", "consents": {"account": False}})
    assert refused.status_code == 422 and _fields(refused) == ["consents.account"]
    assert (await client.post("/v1/auth/token", data={"username": "no@example.com",
                                                      "password": "s3cret-pass"})).status_code == 401
    buyer = await _signup(client, "named@example.com")
    r = await client.put("/v1/me/consents", headers=buyer, json={"consents": {"sell_my_data": True,
                                                                             "order_fulfilment": False}})
    assert r.status_code == 422 and sorted(_fields(r)) == ["consents.order_fulfilment", "consents.sell_my_data"]
    assert _by_purpose((await client.get("/v1/me/consents", headers=buyer)).json())["order_fulfilment"]["granted"]


async def test_my_data_holds_profile_addresses_orders_reviews_complaints_and_consents(client: httpx.AsyncClient,
                                                                                     app):
    from app.retail import service as retail_service

    shop = await f.shop(client, on_hand=5)
    buyer = await _signup(client, "copy@example.com")
    order = await order_for(client, shop, buyer)
    await ship_and_deliver(client, shop, order["id"])
    review = await client.post(f"/v1/orders/{order['id']}/reviews", headers=buyer, json={"rating": 4, "text": "不错"})
    assert review.status_code == 201, review.text
    complaint = await client.post("/v1/complaints", headers=buyer, json={
        "target_type": "merchant", "target_id": shop.m.id, "reason": "发货慢"})
    assert complaint.status_code == 201, complaint.text
    me = (await client.get("/v1/me", headers=buyer)).json()
    async with app.state.sessionmaker() as s:
        await retail_service.remember_address(session=s, customer_id=me["id"], address=f.address())
    stranger = await f.customer(client)
    await order_for(client, shop, stranger)

    r = await client.get("/v1/me/data", headers=buyer)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["profile"]["email"] == "copy@example.com" and data["profile"]["name"] == "李四"
    assert [a["line1"] for a in data["addresses"]] == [f.address()["line1"]]
    assert [o["id"] for o in data["orders"]] == [order["id"]]  # not the stranger's
    assert [(v["order_id"], v["written_text"]) for v in data["reviews"]] == [(order["id"], "不错")]
    assert [c["id"] for c in data["complaints"]] == [complaint.json()["id"]]
    assert _by_purpose(data["consents"])["account"]["granted"] is True
    assert (await client.get("/v1/me/data", headers=shop.m.headers)).status_code == 403
    assert (await client.get("/v1/me/data")).status_code == 401


async def test_patch_me_corrects_name_phone_and_email_and_names_a_bad_field(client: httpx.AsyncClient):
    buyer = await _signup(client, "fix@example.com")
    await _signup(client, "taken@example.com")
    ok = await client.patch("/v1/me", headers=buyer, json={"name": "李四光", "phone": "13912345678",
                                                           "email": "Fixed@Example.com"})
    assert ok.status_code == 200, ok.text
    assert {k: ok.json()[k] for k in ("name", "phone", "email")} == {
        "name": "李四光", "phone": "13912345678", "email": "fixed@example.com"}
    login = await client.post("/v1/auth/token", data={"username": "fixed@example.com", "password": "s3cret-pass"})
    assert login.status_code == 200
    for body, field in (({"phone": "123"}, "phone"), ({"email": "not-an-address"}, "email"),
                        ({"name": ""}, "name"), ({"name": None}, "name")):
        bad = await client.patch("/v1/me", headers=buyer, json=body)
        assert bad.status_code == 422, (body, bad.text)
        assert any(field in name for name in _fields(bad)), (body, bad.json())
    clash = await client.patch("/v1/me", headers=buyer, json={"email": "taken@example.com"})
    assert clash.status_code == 409
    after = (await client.get("/v1/me", headers=buyer)).json()
    assert (after["name"], after["phone"], after["email"]) == ("李四光", "13912345678", "fixed@example.com")


async def test_single_fields_are_deleted_where_the_law_allows_and_refused_where_kept(client: httpx.AsyncClient,
                                                                                    app):
    from app.retail import service as retail_service

    buyer = await _signup(client, "trim@example.com")
    me = (await client.patch("/v1/me", headers=buyer, json={"phone": "13912345678"})).json()
    async with app.state.sessionmaker() as s:
        await retail_service.remember_address(session=s, customer_id=me["id"], address=f.address())
    gone = await client.delete("/v1/me/data/phone", headers=buyer)
    assert gone.status_code == 200 and gone.json()["phone"] is None
    assert (await client.delete("/v1/me/data/addresses", headers=buyer)).status_code == 200
    assert (await client.get("/v1/me/data", headers=buyer)).json()["addresses"] == []
    for field in ("email", "name", "orders"):
        kept = await client.delete(f"/v1/me/data/{field}", headers=buyer)
        assert kept.status_code == 422 and _fields(kept) == ["field"] and field in kept.json()["detail"]
    assert (await client.delete("/v1/me/data/password_hash", headers=buyer)).status_code == 422
    assert (await client.get("/v1/me", headers=buyer)).json()["email"] == "trim@example.com"


async def _export(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> list[dict[str, str]]:
    params = {"from": (clock.utcnow() - timedelta(days=1)).isoformat(),
              "to": (clock.utcnow() + timedelta(days=1)).isoformat()}
    r = await client.get("/v1/admin/exports/transactions", headers=admin_headers, params=params)
    assert r.status_code == 200, r.text
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


async def test_closing_moves_the_buyers_name_phone_and_address_into_legal_hold(client: httpx.AsyncClient, app,
                                                                             admin_headers):
    app.state.settings = app.state.settings.model_copy(update={"shop_regulator_token": REGULATOR_TOKEN})
    regulator = f.bearer(REGULATOR_TOKEN)
    shop = await f.shop(client, on_hand=5)
    buyer = await _signup(client, "leaving@example.com")
    order = await order_for(client, shop, buyer)
    assert order["fulfilment"]["address"]["phone"] == "13800138000"
    closed = await client.post("/v1/me/close", headers=buyer)
    assert closed.status_code == 200 and closed.json()["orders_on_legal_hold"] == 1

    # The live order keeps the goods and the money, not the person.
    live = (await client.get(f"/v1/orders/{order['id']}", headers=shop.m.headers)).json()
    assert live["total"] == order["total"] and "address" not in live["fulfilment"]
    assert "13800138000" not in str(live) and "张三" not in str(live) and "leaving@example.com" not in str(live)
    # Only the records export and the regulator read the hold.
    rows = {r["order_id"]: r for r in await _export(client, admin_headers)}
    held = rows[order["id"]]["buyer_on_legal_hold"]
    assert "张三" in held and "13800138000" in held and "leaving@example.com" in held
    r = await client.get(f"/v1/regulator/legal-hold/{order['id']}", headers=regulator)
    assert r.status_code == 200, r.text
    assert r.json()["data"]["name"] == "张三" and r.json()["data"]["phone"] == "13800138000"
    assert r.json()["hold_ends_at"] is None  # the order is still open: the hold runs from its completion
    for who in (admin_headers, shop.m.headers, await f.customer(client)):
        assert (await client.get(f"/v1/regulator/legal-hold/{order['id']}", headers=who)).status_code == 403
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers)).json()["items"]
    assert any(e["action"] == "legal_hold.read" and e["target_id"] == order["id"] for e in log)


async def test_the_purge_job_deletes_held_data_only_when_three_years_after_completion_have_passed(
        client: httpx.AsyncClient, app):
    app.state.settings = app.state.settings.model_copy(update={"shop_regulator_token": REGULATOR_TOKEN})
    regulator = f.bearer(REGULATOR_TOKEN)
    shop = await f.shop(client, on_hand=5)
    buyer = await _signup(client, "purged@example.com")
    order = await order_for(client, shop, buyer)
    await ship_and_deliver(client, shop, order["id"])
    done = await client.post(f"/v1/orders/{order['id']}/complete", headers=shop.m.headers)
    assert done.status_code == 200, done.text
    assert (await client.post("/v1/me/close", headers=buyer)).status_code == 200
    held = (await client.get(f"/v1/regulator/legal-hold/{order['id']}", headers=regulator)).json()
    assert held["hold_ends_at"][:4] == str(int(done.json()["completed_at"][:4]) + 3)

    factory, settings = app.state.sessionmaker, app.state.settings
    clock.travel(timedelta(days=3 * 365))  # 3 years minus the leap day: not yet
    assert await legal_hold.purge_ended_holds(factory, settings) == 0
    assert (await client.get(f"/v1/regulator/legal-hold/{order['id']}", headers=regulator)).status_code == 200
    clock.travel(timedelta(days=2))  # hold end + 1 day
    assert await legal_hold.purge_ended_holds(factory, settings) == 1
    assert (await client.get(f"/v1/regulator/legal-hold/{order['id']}", headers=regulator)).status_code == 404
    # The transaction record itself stays.
    assert (await client.get(f"/v1/orders/{order['id']}", headers=shop.m.headers)).json()["total"] == order["total"]


def test_the_purge_runs_as_a_periodic_job():
    from app.jobs import all_jobs

    assert any(j.run is legal_hold.purge_ended_holds for j in all_jobs())


@pytest.mark.parametrize("days", [0, 30, 179])
def test_security_log_retention_below_180_days_is_refused(days: int):
    with pytest.raises(ValidationError, match="shop_security_log_retention_days"):
        Settings(shop_security_log_retention_days=days)


def test_security_log_retention_defaults_to_180_days_and_may_be_longer():
    assert Settings().shop_security_log_retention_days == 180
    assert Settings(shop_security_log_retention_days=400).shop_security_log_retention_days == 400


async def test_after_opting_out_the_next_campaign_list_skips_the_person(client: httpx.AsyncClient):
    shop = await f.shop(client, on_hand=10)
    other = await f.shop(client, on_hand=10)
    keen = await _signup(client, "keen@example.com", consents={"marketing": True, "share_merchant": True})
    private = await _signup(client, "private@example.com", consents={"marketing": True})  # not shared with shops
    silent = await _signup(client, "silent@example.com")
    for buyer in (keen, private, silent):
        await order_for(client, shop, buyer)

    r = await client.get("/v1/marketing/audience", headers=shop.m.headers)
    assert r.status_code == 200, r.text
    audience = r.json()
    assert [m["email"] for m in audience["items"]] == ["keen@example.com"]
    assert audience["sender"] and audience["unsubscribe_url"].endswith("/account")
    # Another merchant the person never bought from gets nobody.
    assert (await client.get("/v1/marketing/audience", headers=other.m.headers)).json()["items"] == []
    # Opting out takes effect for the very next list, under every sender.
    await client.put("/v1/me/consents", headers=keen, json={"consents": {"marketing": False}})
    assert (await client.get("/v1/marketing/audience", headers=shop.m.headers)).json()["items"] == []
    assert (await client.get("/v1/marketing/audience", headers=keen)).status_code == 403
