"""Crash safety: SIGKILL `shop serve` in the middle of checkouts and POS uploads, restart it, retry every request
whose answer was lost with its Idempotency-Key, and check that nothing was lost or applied twice.

Runs on PostgreSQL (the test run's throw-away database), against real server processes on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.db import make_engine, make_sessionmaker
from app.inventory import service as inventory_service
from app.inventory.models import StockMovement
from app.orders.models import Order, Payment
from tests import factories as f
from tests.conftest import _empty_tables
from tests.servers import Server, free_port

CHECKOUTS = 80
UPLOADS = 20
EVENTS_PER_UPLOAD = 3
KILL_AFTER = 30  # answered requests before the kill


@pytest.fixture
def server(pg_url: str) -> Iterator[Server]:
    asyncio.run(_empty_tables(pg_url))
    srv = Server(pg_url, free_port())
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@dataclass
class Call:
    method: str
    path: str
    key: str
    json: Any
    headers: dict[str, str]
    kind: str
    status: int | None = None
    body: dict[str, Any] = field(default_factory=dict)


async def _send(client: httpx.AsyncClient, call: Call) -> None:
    try:
        r = await client.request(call.method, call.path, json=call.json,
                                 headers={**call.headers, "Idempotency-Key": call.key})
    except httpx.TransportError:
        return  # the answer was lost
    call.status = r.status_code
    call.body = r.json() if r.headers.get("content-type", "").endswith("json") else {}


async def _run(server: Server, calls: list[Call]) -> None:
    answered = 0
    killed = asyncio.Event()
    queue: asyncio.Queue[Call] = asyncio.Queue()
    for c in calls:
        queue.put_nowait(c)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal answered
        while not queue.empty():
            call = queue.get_nowait()
            if killed.is_set():
                continue  # sent while the server was down: lost, like the in-flight ones
            await _send(client, call)
            if call.status is not None:
                answered += 1
                if answered == KILL_AFTER:
                    server.kill()
                    killed.set()

    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        await asyncio.gather(*(worker(client) for _ in range(8)))


def _seed(base: str) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=30) as api:
        def ok(r: httpx.Response) -> dict[str, Any]:
            assert r.status_code < 300, r.text
            return dict(r.json())

        m = ok(api.post("/v1/merchants", json={"name": "崩溃测试", "kind": "enterprise",
                                                "licence_no": "91350100M000100Y43", "contact_email": "c@example.com"}))
        ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers=f.ADMIN))
        h = f.bearer(m["api_key"])
        wh = ok(api.post("/v1/locations", headers=h, json={"code": "WH", "name": "仓", "kind": "warehouse",
                                                           "address": f.address()}))
        st = ok(api.post("/v1/locations", headers=h, json={"code": "ST", "name": "店", "kind": "store",
                                                           "address": f.address()}))
        p = ok(api.post("/v1/products", headers=h, json=f.product_body(skus=("CRASH-1",))))
        ok(api.put(f"/v1/locations/{wh['id']}/stock/CRASH-1", headers=h, json={"on_hand": 10_000}))
        ok(api.put(f"/v1/locations/{st['id']}/stock/CRASH-1", headers=h, json={"on_hand": 1_000}))
        till = ok(api.post(f"/v1/locations/{st['id']}/devices", headers=h, json={"name": "till"}))
        return {"merchant_id": m["id"], "variant_id": p["variants"][0]["id"], "till": f.bearer(till["token"]),
                "store_id": st["id"]}


async def _db_state(db_url: str, merchant_id: str, store_id: str) -> dict[str, Any]:
    engine = make_engine(db_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as s:
            orders = (await s.execute(select(func.count()).select_from(Order)
                                      .where(Order.merchant_id == merchant_id))).scalar_one()
            payments_per_checkout = (await s.execute(
                select(Payment.checkout_id, func.count()).group_by(Payment.checkout_id))).all()
            pos_events = (await s.execute(select(func.count()).select_from(StockMovement)
                                          .where(StockMovement.event_id.is_not(None)))).scalar_one()
            levels = await inventory_service.level_totals(s)
            ledger = {k: v for k, v in (await inventory_service.ledger_totals(s)).items() if v != (0, 0)}
    finally:
        await engine.dispose()
    return {"orders": orders, "payments": payments_per_checkout, "pos_events": pos_events, "levels": levels,
            "ledger": ledger, "store": next(v for k, v in levels.items() if store_id in k)}


async def test_sigkill_mid_load_then_retry_loses_nothing_and_doubles_nothing(server: Server, pg_url: str):
    seed = _seed(server.base)
    calls: list[Call] = []
    for i in range(CHECKOUTS):
        calls.append(Call("POST", "/v1/checkout", f"co-{uuid.uuid4()}", f.checkout_body(
            [(seed["variant_id"], 1)], email=f"crash{i}@example.com"), {}, "checkout"))
        if i % (CHECKOUTS // UPLOADS) == 0:
            start = utcnow() + timedelta(seconds=1)
            events = [f.pos_event(f"ev-{i}-{j}", "sale", "CRASH-1", 1, (start + timedelta(seconds=j)).isoformat(),
                                  unit_price=19_900) for j in range(EVENTS_PER_UPLOAD)]
            calls.append(Call("POST", "/v1/pos/events", f"pos-{i}", {"events": events}, seed["till"], "pos"))
    await _run(server, calls)
    lost = [c for c in calls if c.status is None]
    assert 0 < len(lost) < len(calls), "the kill must land mid-run"
    server.start()  # the same port, as a supervisor would
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        await asyncio.gather(*(_send(client, c) for c in lost))
        # A retry of an answered request replays its first answer rather than acting again.
        replayed = [c for c in calls if c.kind == "checkout" and c not in lost][:3]
        for c in replayed:
            first = c.body
            await _send(client, c)
            assert c.body == first
    assert all(c.status is not None and c.status < 300 for c in calls), [
        (c.kind, c.status, c.body) for c in calls if c.status is None or c.status >= 300][:5]
    state = await _db_state(pg_url, seed["merchant_id"], seed["store_id"])
    order_ids = {o["id"] for c in calls if c.kind == "checkout" for o in c.body["orders"]}
    assert len(order_ids) == CHECKOUTS and state["orders"] == CHECKOUTS
    assert all(n == 1 for _, n in state["payments"]), "a payment was doubled"
    pos_sent = sum(len(c.json["events"]) for c in calls if c.kind == "pos")
    assert state["pos_events"] == pos_sent
    assert state["store"][0] == 1_000 - pos_sent  # each sale taken from the store's shelf exactly once
    assert state["levels"] == state["ledger"]
