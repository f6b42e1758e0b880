"""Orders and payments are sealed into one hash chain that an admin can verify (C23), and the regulator export
carries each order's payment, shipments, returns and refunds with their seals (C25)."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import text

from app.core import clock
from app.trust import records
from tests import factories as f
from tests.trust.helpers import order_for, ship_and_deliver


async def seal(app: Any) -> int:
    return await records.seal_job(app.state.sessionmaker, app.state.settings)


async def verify(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> dict[str, Any]:
    r = await client.get("/v1/admin/records/verify", headers=admin_headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_placed_orders_and_received_payments_are_sealed_once_and_the_chain_verifies(
        client: httpx.AsyncClient, app: Any, admin_headers: dict[str, str]) -> None:
    shop = await f.shop(client, on_hand=20)
    buyer = await f.customer(client)
    orders = [await order_for(client, shop, buyer) for _ in range(3)]
    await ship_and_deliver(client, shop, orders[0]["id"])  # cash on delivery: paid now
    assert await seal(app) == 4  # three orders and one payment
    assert await seal(app) == 0  # each record once
    check = await verify(client, admin_headers)
    assert check["ok"] is True and check["checked"] == 4 and check["first_break"] is None
    assert len(check["head"]) == 64
    assert (await client.get("/v1/admin/records/verify", headers=shop.m.headers)).status_code == 403
    # Later changes that are records of their own (shipping, status) leave the seals intact.
    await ship_and_deliver(client, shop, orders[1]["id"])
    assert await seal(app) == 1
    assert (await verify(client, admin_headers))["ok"] is True


async def test_an_order_edited_after_sealing_is_the_first_broken_link(
        client: httpx.AsyncClient, app: Any, admin_headers: dict[str, str]) -> None:
    shop = await f.shop(client, on_hand=20)
    buyer = await f.customer(client)
    first, second, third = [await order_for(client, shop, buyer) for _ in range(3)]
    await seal(app)
    async with app.state.sessionmaker() as session:
        await session.execute(text("UPDATE sales_order SET total = total - 100 WHERE id = :id"),
                              {"id": second["id"]})
        await session.execute(text("UPDATE order_line SET quantity = 5 WHERE order_id = :id"), {"id": third["id"]})
        await session.commit()
    check = await verify(client, admin_headers)
    assert check["ok"] is False and check["checked"] == 1
    assert check["first_break"]["record_type"] == "order"
    assert check["first_break"]["record_id"] == second["id"]
    assert check["first_break"]["reason"] == "record_changed"
    # Putting the money back and rewriting the seal itself to match the line change is caught too.
    async with app.state.sessionmaker() as session:
        await session.execute(text("UPDATE sales_order SET total = total + 100 WHERE id = :id"),
                              {"id": second["id"]})
        await session.execute(text("UPDATE order_line SET quantity = 1 WHERE order_id = :id"), {"id": third["id"]})
        await session.execute(text("UPDATE record_seal SET digest = :d WHERE record_id = :id"),
                              {"d": "f" * 64, "id": first["id"]})
        await session.commit()
    tampered = await verify(client, admin_headers)
    assert tampered["first_break"]["record_id"] == first["id"]
    assert tampered["first_break"]["reason"] == "link_altered"


async def test_concurrent_checkouts_and_sealing_runs_give_one_unbroken_chain(
        client: httpx.AsyncClient, app: Any, admin_headers: dict[str, str]) -> None:
    shop = await f.shop(client, on_hand=100)
    buyers = [await f.customer(client) for _ in range(8)]

    async def buy(headers: dict[str, str]) -> str:
        r = await client.post("/v1/checkout", headers=headers,
                              json=f.checkout_body([(shop.variant_id, 1)], email=None))
        assert r.status_code == 201, r.text
        return str(r.json()["orders"][0]["id"])

    first = await asyncio.gather(*(buy(b) for b in buyers[:4]))
    results = await asyncio.gather(*(buy(b) for b in buyers[4:]), seal(app), seal(app))
    await seal(app)
    ids = set(first) | {r for r in results if isinstance(r, str)}
    check = await verify(client, admin_headers)
    assert check["ok"] is True and check["checked"] == len(ids) == 8
    async with app.state.sessionmaker() as session:
        sealed = (await session.execute(text("SELECT record_id FROM record_seal WHERE record_type = 'order'"))).all()
    assert sorted(r[0] for r in sealed) == sorted(ids)


async def test_the_regulator_export_carries_payment_shipments_returns_refunds_and_seals(
        client: httpx.AsyncClient, app: Any, admin_headers: dict[str, str]) -> None:
    shop = await f.shop(client, on_hand=20)
    buyer = await f.customer(client)
    start = clock.utcnow() - timedelta(minutes=1)
    order = await order_for(client, shop, buyer, quantity=2)
    await ship_and_deliver(client, shop, order["id"])
    back = await client.post(f"/v1/orders/{order['id']}/returns", headers=buyer, json={
        "lines": [{"variant_id": shop.variant_id, "quantity": 1}], "reason": "尺码不合适"})
    assert back.status_code == 201, back.text
    await seal(app)
    r = await client.get("/v1/admin/exports/transactions", headers=admin_headers, params={
        "from": start.isoformat(), "to": (clock.utcnow() + timedelta(minutes=1)).isoformat()})
    assert r.status_code == 200, r.text
    [row] = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    shipments = json.loads(row["shipments"])
    assert [(s["carrier"], s["tracking_no"]) for s in shipments] == [("SF", "SF1234567890123")]
    returns = json.loads(row["returns"])
    assert [(x["reason"], x["kind"]) for x in returns] == [("尺码不合适", "no_reason")]
    assert isinstance(json.loads(row["refunds"]), list)
    assert row["payment_method"] == "cod" and row["payment"] == ""  # paid in cash to the courier: no provider
    async with app.state.sessionmaker() as session:
        seals = dict((await session.execute(text(
            "SELECT record_type, hash FROM record_seal WHERE record_id = :id"), {"id": order["id"]})).all())
    assert row["order_seal"] == seals["order"] and row["payment_seal"] == seals["payment"]
