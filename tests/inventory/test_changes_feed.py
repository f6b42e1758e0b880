"""The till's changes feed: online reservations show within one poll, and nothing is skipped under load."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests import factories as f
from tests.inventory.test_pos_sync import soon, upload


async def poll(client: httpx.AsyncClient, till: dict[str, str], cursor: str | None,
               seen: dict[str, tuple[int, int]]) -> str:
    """Follow the feed to its end from `cursor`, folding each change into `seen`; returns the new cursor."""
    while True:
        r = await client.get("/v1/pos/changes", headers=till, params={"cursor": cursor} if cursor else {})
        assert r.status_code == 200, r.text
        body: dict[str, Any] = r.json()
        for c in body["changes"]:
            assert c["available"] == max(c["on_hand"] - c["reserved"], 0)
            seen[c["sku"]] = (c["on_hand"], c["reserved"])
        cursor = body["cursor"]
        if not body["has_more"]:
            return str(cursor)


async def test_a_pickup_order_shows_in_the_stores_feed_within_one_poll(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=5, store_on_hand=3)
    till = await f.device(client, s.m, s.store)
    seen: dict[str, tuple[int, int]] = {}
    cursor = await poll(client, till, None, seen)
    assert seen == {s.sku: (3, 0)}  # the warehouse's stock is not this till's business
    r = await client.post("/v1/checkout", json=f.checkout_body(
        [(s.variant_id, 2)], fulfilment={"type": "pickup", "location_id": s.store["id"]}))
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    feed = (await client.get("/v1/pos/changes", headers=till, params={"cursor": cursor})).json()
    assert feed["changes"] == [{"sku": s.sku, "variant_id": s.variant_id, "on_hand": 3, "reserved": 2,
                                "safety_stock": 0, "available": 1}]
    cursor = feed["cursor"]
    assert (await client.get("/v1/pos/changes", headers=till, params={"cursor": cursor})).json()["changes"] == []
    # Collected at the till: on_hand and reserved drop together, and the feed says so.
    done = await client.post(f"/v1/orders/{order['id']}/collect", headers=till,
                             json={"pickup_code": order["pickup_code"]})
    assert done.status_code == 200, done.text
    await poll(client, till, cursor, seen)
    assert seen[s.sku] == (1, 0)
    # The upload's cursor lists the levels it produced.
    up = await upload(client, till, [f.pos_event("z1", "sale", s.sku, 1, soon(1))])
    after = (await client.get("/v1/pos/changes", headers=till, params={"cursor": up["cursor"]})).json()
    assert [(c["sku"], c["on_hand"]) for c in after["changes"]] == [(s.sku, 0)]


async def test_feed_is_gap_free_under_concurrent_writers(client: httpx.AsyncClient, app):
    skus = tuple(f"G-{i:02d}" for i in range(24))
    s = await f.shop(client, on_hand=0, store_on_hand=5, skus=skus)
    variant_of = {v["sku"]: v["id"] for v in s.product["variants"]}
    tills = [await f.device(client, s.m, s.store, name=f"till {i}") for i in range(12)]
    reader = await f.device(client, s.m, s.store, name="reader")
    seen: dict[str, tuple[int, int]] = {}
    cursor = await poll(client, reader, None, seen)
    done = asyncio.Event()

    async def follow() -> None:
        nonlocal cursor
        while not done.is_set():
            cursor = await poll(client, reader, cursor, seen)

    async def till_sale(i: int) -> None:  # each writer changes its own SKU once: a skipped change stays wrong
        await upload(client, tills[i], [f.pos_event(f"g{i}", "sale", skus[i], 1 + i % 3, soon(i))])

    async def pickup(i: int) -> None:
        r = await client.post("/v1/checkout", json=f.checkout_body(
            [(variant_of[skus[i]], 1)], fulfilment={"type": "pickup", "location_id": s.store["id"]}))
        assert r.status_code == 201, r.text

    reader_task = asyncio.create_task(follow())
    await asyncio.gather(*(till_sale(i) for i in range(12)), *(pickup(i) for i in range(12, 24)))
    done.set()
    await reader_task
    await poll(client, reader, cursor, seen)
    lv = await f.levels(app)
    assert seen == {sku: lv[(s.store["id"], variant_of[sku])] for sku in skus}


async def test_a_delivery_planned_from_stale_stock_is_planned_again_and_the_store_feed_hears_of_it(
        client: httpx.AsyncClient, app: Any, monkeypatch: Any) -> None:
    """The checkout plans from the stock it read with its lines. If the warehouse sold out since, the order is
    planned again from fresh levels and ships from the store, whose till must see the reservation."""
    from app.retail import service as retail_service

    s = await f.shop(client, on_hand=0, store_on_hand=2)
    till = await f.device(client, s.m, s.store)
    seen: dict[str, tuple[int, int]] = {}
    cursor = await poll(client, till, None, seen)
    read = retail_service._lines_and_stock

    async def read_before_the_warehouse_sold_out(session: Any, variant_ids: Any) -> Any:
        got = await read(session, variant_ids)
        got.stock[s.m.id].available[(s.warehouse["id"], s.variant_id)] = 5
        got.stock[s.m.id].kinds[s.warehouse["id"]] = "warehouse"
        return got

    monkeypatch.setattr(retail_service, "_lines_and_stock", read_before_the_warehouse_sold_out)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]))
    assert r.status_code == 201, r.text
    levels = await f.levels(app)
    assert levels.get((s.warehouse["id"], s.variant_id), (0, 0)) == (0, 0)
    assert levels[(s.store["id"], s.variant_id)] == (2, 1)
    await poll(client, till, cursor, seen)
    assert seen == {s.sku: (2, 1)}
    assert levels == await f.ledger(app)
