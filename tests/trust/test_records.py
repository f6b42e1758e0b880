import csv
import gc
import io
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core import clock
from app.core.clock import SHANGHAI
from app.orders import rules
from tests import factories as f
from tests.trust.helpers import order_for, ship_and_deliver


async def test_admin_and_sensitive_merchant_actions_are_audited(client: httpx.AsyncClient, admin_headers):
    m = await f.merchant(client)  # signs up and is verified by the admin
    p = await f.product(client, m)
    await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"title": "新标题"})
    await client.post(f"/v1/admin/merchants/{m.id}/suspend", headers=admin_headers, json={"reason": "售假"})
    await client.post("/v1/products", headers=m.headers, json={"title": ""})  # refused: not audited
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers)).json()["items"]
    got = [(e["actor"].split(":")[0], e["action"], e["target_type"], e["target_id"]) for e in log]
    assert got == [
        ("admin", "merchant.suspend", "merchant", m.id),
        ("merchant", "PATCH /v1/products/{product_id}", "product", p["id"]),
        ("merchant", "POST /v1/products", "product", p["id"]),
        ("admin", "POST /v1/admin/merchants/{merchant_id}/verify", "merchant", m.id),
    ]
    assert all(e["created_at"].endswith("Z") for e in log)
    assert log[0]["after"]["reason"] == "售假" and log[0]["after"]["status"] == "suspended"
    # Paginated, newest first; filters by merchant.
    first = (await client.get("/v1/admin/audit-log", headers=admin_headers, params={"limit": 3})).json()
    rest = (await client.get("/v1/admin/audit-log", headers=admin_headers,
                             params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in log]
    assert rest["next_cursor"] is None
    assert (await client.get("/v1/admin/audit-log", headers=m.headers)).status_code == 403
    bad = await client.get("/v1/admin/audit-log", headers=admin_headers, params={"cursor": "bm9wZQ"})
    assert bad.status_code == 422


async def test_the_audit_log_cannot_be_rewritten(client: httpx.AsyncClient, app):
    await f.merchant(client)
    async with app.state.sessionmaker() as s:
        with pytest.raises(DBAPIError):
            await s.execute(text("UPDATE audit_log SET actor = 'someone else'"))
        await s.rollback()


async def _export(client: httpx.AsyncClient, headers: dict[str, str], start: str, end: str) -> list[dict[str, str]]:
    r = await client.get("/v1/admin/exports/transactions", headers=headers, params={"from": start, "to": end})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))


async def test_regulator_export_streams_the_period_as_csv(client: httpx.AsyncClient, admin_headers):
    shop = await f.shop(client, on_hand=50, price=12_345)
    buyer = await f.customer(client)
    early = await order_for(client, shop, buyer)
    clock.travel(timedelta(days=2))
    mid = clock.utcnow()
    later = [await order_for(client, shop, buyer, quantity=2) for _ in range(3)]
    end = clock.utcnow() + timedelta(minutes=1)
    rows = await _export(client, admin_headers, mid.isoformat(), end.isoformat())
    assert [r["order_id"] for r in rows] == sorted(o["id"] for o in later)
    assert {r["total"] for r in rows} == {"24690"} and {r["merchant_id"] for r in rows} == {shop.m.id}
    everything = await _export(client, admin_headers, (mid - timedelta(days=3)).isoformat(), end.isoformat())
    assert [r["order_id"] for r in everything] == sorted([early["id"]] + [o["id"] for o in later])
    assert (await client.get("/v1/admin/exports/transactions", headers=shop.m.headers,
                             params={"from": mid.isoformat(), "to": end.isoformat()})).status_code == 403
    backwards = await client.get("/v1/admin/exports/transactions", headers=admin_headers,
                                 params={"from": end.isoformat(), "to": mid.isoformat()})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"
    missing = await client.get("/v1/admin/exports/transactions", headers=admin_headers)
    assert missing.status_code == 422
    # Every export is on record.
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers)).json()["items"]
    assert [e["action"] for e in log].count("export.transactions") == 2


async def test_export_spans_many_batches(client: httpx.AsyncClient, admin_headers, monkeypatch):
    from app.trust import export as service

    monkeypatch.setattr(service, "EXPORT_BATCH", 2)
    shop = await f.shop(client, on_hand=50)
    start = clock.utcnow() - timedelta(minutes=1)
    ids = [o["id"] for o in [await order_for(client, shop, await f.customer(client)) for _ in range(5)]]
    rows = await _export(client, admin_headers, start.isoformat(), (clock.utcnow() + timedelta(minutes=1)).isoformat())
    assert [r["order_id"] for r in rows] == sorted(ids)


async def test_return_window_ends_at_midnight_after_day_seven_shanghai(client: httpx.AsyncClient):
    """Delivered on day 0: a request at 23:59 on day 7 (Shanghai) is accepted, at 00:00 on day 8 refused."""
    shop = await f.shop(client, on_hand=20)
    buyer = await f.customer(client)
    order = await order_for(client, shop, buyer, quantity=2)
    delivered = await ship_and_deliver(client, shop, order["id"])
    deadline = rules.return_deadline(datetime.fromisoformat(delivered["delivered_at"]))
    local = deadline.astimezone(SHANGHAI)
    assert (local.hour, local.minute) == (0, 0)
    assert local.date() - datetime.fromisoformat(delivered["delivered_at"]).astimezone(SHANGHAI).date() == \
        timedelta(days=8)
    body = {"lines": [{"variant_id": shop.variant_id, "quantity": 1}], "reason": "不喜欢"}
    clock.travel(deadline - timedelta(minutes=1) - clock.utcnow())  # 23:59 on day 7
    ok = await client.post(f"/v1/orders/{order['id']}/returns", headers=buyer, json=body)
    assert ok.status_code == 201, ok.text
    clock.travel(deadline - clock.utcnow())  # 00:00 on day 8
    late = await client.post(f"/v1/orders/{order['id']}/returns", headers=buyer, json=body)
    assert late.status_code == 422 and "7-day" in late.json()["detail"]


async def test_closing_an_account_deletes_the_profile_and_keeps_its_orders_exportable(client: httpx.AsyncClient,
                                                                                      app, admin_headers):
    shop = await f.shop(client, on_hand=5)
    email = "closing@example.com"
    buyer = await f.customer(client, email=email)
    start = clock.utcnow() - timedelta(minutes=1)
    order = await order_for(client, shop, buyer)
    cart = (await client.post("/v1/carts", headers=buyer)).json()
    closed = await client.post("/v1/me/close", headers=buyer)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "closed" and closed.json()["records_retained_years"] == 3
    # The profile is gone: no login, no cart, no new orders with the old token.
    login = await client.post("/v1/auth/token", data={"username": email, "password": "s3cret-pass"})
    assert login.status_code == 401
    assert (await client.get(f"/v1/carts/{cart['id']}", headers=buyer)).status_code == 401
    assert (await client.get(f"/v1/carts/{cart['id']}")).status_code == 404
    again = await client.post("/v1/checkout", headers=buyer, json=f.checkout_body([(shop.variant_id, 1)], email=None))
    assert again.status_code == 401
    from sqlalchemy import func, select

    from app.retail.models import Customer

    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Customer).where(Customer.email == email)) == 0
    # The transaction record stays: the merchant still has it and the regulator export still lists it.
    assert (await client.get(f"/v1/orders/{order['id']}", headers=shop.m.headers)).status_code == 200
    rows = await _export(client, admin_headers, start.isoformat(),
                         (clock.utcnow() + timedelta(minutes=1)).isoformat())
    assert [(r["order_id"], r["total"]) for r in rows] == [(order["id"], str(order["total"]))]
    assert rows[0]["customer_id"]
    # The closed account's token is refused at once, a second close included.
    assert (await client.post("/v1/me/close", headers=buyer)).status_code == 401


async def test_an_exports_batches_leave_no_cyclic_garbage(client: httpx.AsyncClient, admin_headers, monkeypatch):
    """The workers collect old objects rarely (`app.main.GC_THRESHOLDS`): garbage that only the cycle
    collector frees, made per batch, grew a worker by 17 MiB per 200,000 exported rows. Exporting the same
    orders in 8 batches must leave no more of it than in one."""
    from app.trust import export as service

    shop = await f.shop(client, on_hand=50)
    start = clock.utcnow() - timedelta(minutes=1)
    for _ in range(8):
        await order_for(client, shop, await f.customer(client))
    end = (clock.utcnow() + timedelta(minutes=1)).isoformat()

    async def garbage_of_export(batch: int) -> int:
        monkeypatch.setattr(service, "EXPORT_BATCH", batch)
        await _export(client, admin_headers, start.isoformat(), end)  # warm: statements compiled, caches filled
        # As in a worker (app.main's lifespan): what exists now is frozen (and stays so, as the test process keeps
        # what it loaded frozen), so the collection below looks only at what the export makes, not at the heap.
        gc.freeze()
        gc.disable()
        try:
            assert len(await _export(client, admin_headers, start.isoformat(), end)) == 8
            return gc.collect()  # what only the cycle collector could free
        finally:
            gc.enable()

    one, eight = await garbage_of_export(8), await garbage_of_export(1)
    assert eight - one < 7, (one, eight)
