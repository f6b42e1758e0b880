"""POS sync through the API: uploads, duplicates, late counts, order independence, concurrency."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
from sqlalchemy import func, select

from app.core.clock import utcnow
from app.core.models import OutboxEvent
from app.inventory.models import StockMovement
from app.inventory.pos.rules import PosEvent, apply_in_order
from tests import factories as f

DAY = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # three days before the tests' "today"


def at(minutes: int) -> str:
    return (DAY + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def soon(seconds: int) -> str:
    """Shortly after now: later than stock set with PUT (a count made at that moment)."""
    return (utcnow() + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


async def upload(client: httpx.AsyncClient, headers: dict[str, str], events: list[dict[str, Any]],
                 key: str | None = None) -> dict[str, Any]:
    h = {**headers, **({"Idempotency-Key": key} if key else {})}
    r = await client.post("/v1/pos/events", headers=h, json={"events": events})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def store_level(app: Any, s: f.Shop, variant_id: str | None = None) -> tuple[int, int]:
    return (await f.levels(app)).get((s.store["id"], variant_id or s.variant_id), (0, 0))


async def test_upload_applies_rejects_and_detects_duplicates(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=0)
    till = await f.device(client, s.m, s.store)
    await upload(client, till, [f.pos_event("e0", "count", s.sku, 10, at(-5))])
    body = await upload(client, till, [
        f.pos_event("e1", "sale", s.sku, 3, at(0)),
        f.pos_event("e2", "receive", s.sku, 5, at(1)),
        f.pos_event("e3", "sale", "NO-SUCH-SKU", 1, at(2)),
        f.pos_event("e4", "sale", s.sku, 0, at(2)),
        f.pos_event("e1", "sale", s.sku, 3, at(0)),
    ], key="batch-1")
    assert [(x["event_id"], x["status"]) for x in body["results"]] == [
        ("e1", "applied"), ("e2", "applied"), ("e3", "rejected"), ("e4", "rejected"), ("e1", "duplicate")]
    assert body["results"][2]["error"] == "unknown sku" and "quantity" in body["results"][3]["error"]
    assert await store_level(app, s) == (12, 0)
    # The same request again with its key: the first answer, nothing applied twice.
    again = await upload(client, till, [
        f.pos_event("e1", "sale", s.sku, 3, at(0)),
        f.pos_event("e2", "receive", s.sku, 5, at(1)),
        f.pos_event("e3", "sale", "NO-SUCH-SKU", 1, at(2)),
        f.pos_event("e4", "sale", s.sku, 0, at(2)),
        f.pos_event("e1", "sale", s.sku, 3, at(0)),
    ], key="batch-1")
    assert again == body
    reused = await client.post("/v1/pos/events", headers={**till, "Idempotency-Key": "batch-1"},
                               json={"events": [f.pos_event("e9", "sale", s.sku, 1, at(3))]})
    assert reused.status_code == 409
    # Without the key, known event ids are duplicates and change nothing.
    later = await upload(client, till, [f.pos_event("e2", "receive", s.sku, 5, at(1)),
                                        f.pos_event("e5", "adjust", s.sku, -2, at(4))])
    assert [x["status"] for x in later["results"]] == ["duplicate", "applied"]
    assert await store_level(app, s) == (10, 0)
    assert await f.levels(app) == await f.ledger(app)


async def test_upload_errors_name_the_field_and_the_body_is_documented(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=0)
    till = await f.device(client, s.m, s.store)
    r = await client.post("/v1/pos/events", headers=till, json={"events": [
        f.pos_event("x1", "sale", s.sku, 1, at(0)), f.pos_event("x2", "steal", s.sku, 1, at(0))]})
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["events.1.type"]
    cut = await client.post("/v1/pos/events", headers={**till, "Content-Type": "application/json"},
                            content=b'{"events": [{"event_id": "x1"')
    assert cut.status_code == 422 and [e["field"] for e in cut.json()["errors"]] == ["body"]
    spec = (await client.get("/openapi.json")).json()
    body = spec["paths"]["/v1/pos/events"]["post"]["requestBody"]
    event = body["content"]["application/json"]["schema"]["properties"]["events"]["items"]
    assert body["required"] and event["properties"]["type"]["enum"] == ["sale", "return", "receive", "adjust", "count"]
    assert set(event["required"]) == {"event_id", "type", "sku", "quantity", "occurred_at"}


async def test_bad_uploads_are_refused_whole_and_change_nothing(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=0, store_on_hand=4)
    till = await f.device(client, s.m, s.store)
    before = await f.levels(app)
    cases = [
        {"events": []},
        {"events": [f.pos_event("x1", "steal", s.sku, 1, at(0))]},
        {"events": [f.pos_event("x1", "sale", s.sku, 1, "yesterday")]},
        {"events": [f.pos_event("", "sale", s.sku, 1, at(0))]},
        {"events": [{"event_id": "x1", "type": "sale", "sku": s.sku}]},
        {"events": [f.pos_event("x1", "sale", s.sku, 1, at(0))], "merchant_id": "m_other"},
        {"events": [f.pos_event("x1", "adjust", s.sku, 10**9, at(0))]},
        {"events": [f.pos_event("x1", "sale", s.sku, 1, at(0), unit_price=-5)]},
        {"events": [f.pos_event(f"x{i}", "sale", s.sku, 1, at(0)) for i in range(10_001)]},
    ]
    for body in cases:
        r = await client.post("/v1/pos/events", headers=till, json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["errors"]
    assert (await client.post("/v1/pos/events", headers=s.m.headers, json=cases[1])).status_code in (403, 422)
    ok = {"events": [f.pos_event("x1", "sale", s.sku, 1, at(0))]}
    assert (await client.post("/v1/pos/events", headers=s.m.headers, json=ok)).status_code == 403
    assert (await client.post("/v1/pos/events", json=ok)).status_code == 401
    assert (await client.get("/v1/pos/changes", headers=till, params={"cursor": "%%%"})).status_code == 422
    assert await f.levels(app) == before
    dear = await upload(client, till, [f.pos_event("x1", "sale", s.sku, 100_000, soon(1), unit_price=10**12)])
    assert dear["results"][0]["status"] == "applied"  # 10^17 fen: stored, not overflowed


def shanghai(minutes: int) -> str:
    """The same instant as `at(minutes)`, written as a till in China writes it: local time, +08:00."""
    return (DAY + timedelta(minutes=minutes)).astimezone(timezone(timedelta(hours=8))).isoformat()


async def test_till_local_times_with_an_offset_order_like_utc(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=0, store_on_hand=0)
    till = await f.device(client, s.m, s.store)
    assert shanghai(20).endswith("+08:00") and shanghai(20)[11:13] == "10"  # 02:00Z is 10:00 in Shanghai
    await upload(client, till, [f.pos_event("tz-s1", "sale", s.sku, 2, shanghai(10)),
                                f.pos_event("tz-s2", "sale", s.sku, 1, at(30))])
    await upload(client, till, [f.pos_event("tz-c1", "count", s.sku, 20, shanghai(20))])
    assert await store_level(app, s) == (19, 0)  # the count is between the sales, whatever the offsets
    await upload(client, till, [f.pos_event("tz-r0", "receive", s.sku, 50, shanghai(15)),
                                f.pos_event("tz-r9", "receive", s.sku, 4, shanghai(25))])
    assert await store_level(app, s) == (23, 0)
    # A later count written in UTC, then one a minute earlier in local time: the UTC one stays the anchor.
    await upload(client, till, [f.pos_event("tz-c2", "count", s.sku, 7, at(50))])
    await upload(client, till, [f.pos_event("tz-c3", "count", s.sku, 99, shanghai(49))])
    assert await store_level(app, s) == (7, 0)
    assert await f.levels(app) == await f.ledger(app)


async def test_a_late_count_supersedes_earlier_sales_but_not_later_ones(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=0, store_on_hand=0)
    till = await f.device(client, s.m, s.store)
    await upload(client, till, [f.pos_event("s1", "sale", s.sku, 2, at(10)),
                                f.pos_event("s2", "sale", s.sku, 1, at(30))])
    assert await store_level(app, s) == (-3, 0)
    # Three days late, a count made between the two sales arrives: 20 then, minus the later sale.
    await upload(client, till, [f.pos_event("c1", "count", s.sku, 20, at(20))])
    assert await store_level(app, s) == (19, 0)
    # An even later arrival from before the count is superseded; one after it applies on top.
    await upload(client, till, [f.pos_event("r0", "receive", s.sku, 50, at(5)),
                                f.pos_event("r9", "receive", s.sku, 4, at(40))])
    assert await store_level(app, s) == (23, 0)
    async with app.state.sessionmaker() as session:  # the superseded receipt is on record but moved nothing
        rows = (await session.execute(select(StockMovement.event_id, StockMovement.quantity,
                                             StockMovement.on_hand_delta)
                                      .where(StockMovement.event_id.in_(["r0", "r9"]))
                                      .order_by(StockMovement.event_id))).all()
    assert [tuple(r) for r in rows] == [("r0", 50, 0), ("r9", 4, 4)]
    assert await f.levels(app) == await f.ledger(app)


async def test_same_events_in_three_batchings_give_identical_stock(client: httpx.AsyncClient, app, pg_only):
    """2,000 events over three days, three shuffled batchings, three fresh stores: the same stock."""
    m = await f.merchant(client)
    skus = [f"POS-{i:02d}" for i in range(20)]
    product = await f.product(client, m, skus=tuple(skus), price=1_000)
    variant_of = {v["sku"]: v["id"] for v in product["variants"]}
    rnd = random.Random(20261127)
    base: list[tuple[str, str, str, int, int]] = []
    for i in range(2_000):
        kind = rnd.choices(["sale", "return", "receive", "adjust", "count"], weights=[10, 1, 2, 1, 1])[0]
        qty = rnd.randint(0, 40) if kind == "count" else rnd.choice([-3, -1, 2, 5]) if kind == "adjust" \
            else rnd.randint(1, 4)
        base.append((f"{i:05d}", kind, rnd.choice(skus), qty, rnd.randint(0, 3 * 24 * 60) // 7))
    stores = []
    for n in range(3):
        loc = await f.location(client, m, kind="store")
        till = await f.device(client, m, loc)
        events = [f.pos_event(f"L{n}-{eid}", kind, sku, qty, at(minute)) for eid, kind, sku, qty, minute in base]
        rnd.shuffle(events)
        cuts = sorted(rnd.sample(range(1, len(events)), 2 + n))
        for lo, hi in zip([0, *cuts], [*cuts, len(events)], strict=True):
            body = await upload(client, till, events[lo:hi])
            assert all(x["status"] == "applied" for x in body["results"])
        stores.append(loc["id"])
    lv = await f.levels(app)
    got = [{sku: lv.get((loc, variant_of[sku]), (0, 0))[0] for sku in skus} for loc in stores]
    assert got[0] == got[1] == got[2]
    want = {sku: apply_in_order([PosEvent(eid, kind, qty, DAY + timedelta(minutes=minute))  # type: ignore[arg-type]
                                 for eid, kind, s_, qty, minute in base if s_ == sku]) for sku in skus}
    assert got[0] == want
    assert lv == await f.ledger(app)


async def test_concurrent_tills_with_late_counts_give_the_levels_of_the_sorted_events(
        client: httpx.AsyncClient, app):
    """Counts race with movements of the same SKUs from other tills, each till uploading several batches: a
    count folded in while another upload's events were being recorded must still supersede the earlier ones."""
    skus = ("K-1", "K-2", "K-3")
    s = await f.shop(client, on_hand=0, store_on_hand=0, skus=skus)
    tills = [await f.device(client, s.m, s.store, name=f"till {i}") for i in range(8)]
    rnd = random.Random(11)
    plans: list[list[list[tuple[str, str, str, int, int]]]] = []
    for i in range(8):
        events = [(f"k{i}-{j}", kind, rnd.choice(skus), rnd.randint(0, 9) if kind == "count" else rnd.randint(1, 3),
                   rnd.randint(0, 600))
                  for j in range(45) for kind in [rnd.choice(["sale", "sale", "receive", "adjust", "count"])]]
        plans.append([events[0:15], events[15:30], events[30:45]])

    async def till(i: int) -> None:
        for b, batch in enumerate(plans[i]):
            await upload(client, tills[i], [f.pos_event(e, k, sku, q, at(m)) for e, k, sku, q, m in batch],
                         key=f"late-{i}-{b}")

    await asyncio.gather(*(till(i) for i in range(8)))
    every = [e for plan in plans for batch in plan for e in batch]
    want = {sku: apply_in_order([PosEvent(e, k, q, DAY + timedelta(minutes=m))  # type: ignore[arg-type]
                                 for e, k, sku_, q, m in every if sku_ == sku]) for sku in skus}
    variant_of = {v["sku"]: v["id"] for v in s.product["variants"]}
    lv = await f.levels(app)
    assert {sku: lv.get((s.store["id"], variant_of[sku]), (0, 0))[0] for sku in skus} == want
    assert lv == await f.ledger(app)


async def test_twenty_tills_upload_concurrently_without_loss_or_double_application(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=0, store_on_hand=0, skus=("C-1", "C-2", "C-3"))
    tills = [await f.device(client, s.m, s.store, name=f"till {i}") for i in range(20)]
    shared = [f.pos_event(f"shared-{j}", "receive", "C-1", 1, at(j)) for j in range(10)]
    batches = []
    for i in range(20):
        own = [f.pos_event(f"t{i}-{j}", "sale" if j % 2 else "receive", ("C-1", "C-2", "C-3")[j % 3], 1 + j % 3,
                           at(100 + j)) for j in range(30)]
        batches.append(own + shared)  # every till also re-sends the same ten events
    results = await asyncio.gather(*(upload(client, t, b, key=f"k{i}") for i, (t, b) in
                                     enumerate(zip(tills, batches, strict=True))))
    statuses = [x["status"] for r in results for x in r["results"] if x["event_id"].startswith("shared-")]
    assert statuses.count("applied") == 10 and statuses.count("duplicate") == 190
    async with app.state.sessionmaker() as session:
        ledger = (await session.scalars(select(StockMovement.event_id)
                                        .where(StockMovement.event_id.is_not(None)))).all()
    # One ledger row per distinct event id: none lost, none applied twice.
    assert len(ledger) == len(set(ledger)) == 20 * 30 + 10
    assert set(ledger) == {e["event_id"] for b in batches for e in b}
    expected: dict[str, int] = {"C-1": 10, "C-2": 0, "C-3": 0}
    for b in batches:
        for e in b[:30]:
            expected[e["sku"]] += -e["quantity"] if e["type"] == "sale" else e["quantity"]
    lv = await f.levels(app)
    variant_of = {v["sku"]: v["id"] for v in s.product["variants"]}
    assert {sku: lv.get((s.store["id"], variant_of[sku]), (0, 0))[0] for sku in expected} == expected
    assert lv == await f.ledger(app)


async def test_store_sale_beyond_online_reservations_records_a_conflict(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=0, store_on_hand=2)
    till = await f.device(client, s.m, s.store)
    r = await client.post("/v1/checkout", json=f.checkout_body(
        [(s.variant_id, 2)], fulfilment={"type": "pickup", "location_id": s.store["id"]}))
    assert r.status_code == 201, r.text
    order_id = r.json()["orders"][0]["id"]
    body = await upload(client, till, [f.pos_event("walk-in-1", "sale", s.sku, 1, soon(1), unit_price=18_000)])
    assert body["results"][0]["status"] == "applied"  # never refused: it already happened
    assert await store_level(app, s) == (1, 2)
    listed = await client.get("/v1/inventory/conflicts", headers=s.m.headers, params={"status": "open"})
    assert listed.status_code == 200, listed.text
    [conflict] = listed.json()["items"]
    assert conflict["sku"] == s.sku and conflict["shortfall"] == 1 and conflict["order_ids"] == [order_id]
    async with app.state.sessionmaker() as session:  # the upload's events: the stock change, then the oversell
        last = (await session.execute(select(OutboxEvent.kind, OutboxEvent.payload)
                                      .order_by(OutboxEvent.seq.desc()).limit(2))).all()
    assert [k for k, _ in reversed(last)] == ["stock.changed", "stock.oversold"]
    assert last[0].payload == {"conflict_id": conflict["id"], "location_id": s.store["id"],
                               "variant_id": s.variant_id, "sku": s.sku, "shortfall": 1}
    other = await f.merchant(client)
    assert (await client.get("/v1/inventory/conflicts", headers=other.headers)).json()["items"] == []
    assert (await client.post(f"/v1/inventory/conflicts/{conflict['id']}/resolve", headers=other.headers,
                              json={"resolution": "x"})).status_code == 404
    # Another sale deepens the same conflict rather than opening a second one.
    await upload(client, till, [f.pos_event("walk-in-2", "sale", s.sku, 1, soon(2))])
    [conflict] = (await client.get("/v1/inventory/conflicts", headers=s.m.headers)).json()["items"]
    assert conflict["shortfall"] == 2
    # A sale and a receipt that cancel out leave the shortfall as it was: nothing new to say.
    await upload(client, till, [f.pos_event("walk-in-3", "sale", s.sku, 1, soon(3)),
                                f.pos_event("delivery-1", "receive", s.sku, 1, soon(3))])
    [conflict] = (await client.get("/v1/inventory/conflicts", headers=s.m.headers)).json()["items"]
    assert conflict["shortfall"] == 2
    async with app.state.sessionmaker() as session:
        kinds = (await session.scalars(select(OutboxEvent.kind))).all()
    assert kinds.count("stock.oversold") == 2
    cancelled = await client.post(f"/v1/orders/{order_id}/cancel", headers=s.m.headers)
    assert cancelled.status_code == 200, cancelled.text
    done = await client.post(f"/v1/inventory/conflicts/{conflict['id']}/resolve", headers=s.m.headers,
                             json={"resolution": "pick-up order cancelled, customer refunded"})
    assert done.status_code == 200 and done.json()["status"] == "resolved" and done.json()["order_ids"] == []
    again = await client.post(f"/v1/inventory/conflicts/{conflict['id']}/resolve", headers=s.m.headers,
                              json={"resolution": "again"})
    assert again.status_code == 409
    assert await f.levels(app) == await f.ledger(app)


async def test_a_crash_mid_upload_leaves_nothing_and_the_retry_applies_everything(client: httpx.AsyncClient, app,
                                                                                   monkeypatch):
    from app.inventory.pos import service as pos_service

    s = await f.shop(client, on_hand=0, store_on_hand=5)
    till = await f.device(client, s.m, s.store)
    events = [f.pos_event("k1", "sale", s.sku, 1, soon(1)), f.pos_event("k2", "count", s.sku, 9, soon(2))]
    real = pos_service._fold_in

    async def crash(*args: Any, **kwargs: Any) -> None:
        await real(*args, **kwargs)  # events, ledger and levels written, then the process dies
        raise RuntimeError("power cut")

    monkeypatch.setattr(pos_service, "_fold_in", crash)
    try:
        r = await client.post("/v1/pos/events", headers={**till, "Idempotency-Key": "once"}, json={"events": events})
        assert r.status_code == 500
    except RuntimeError:
        pass  # the test transport re-raises what the app did not handle
    monkeypatch.setattr(pos_service, "_fold_in", real)
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(StockMovement)
                                    .where(StockMovement.event_id.is_not(None))) == 0
    assert await store_level(app, s) == (5, 0)
    body = await upload(client, till, events, key="once")
    assert [x["status"] for x in body["results"]] == ["applied", "applied"]
    assert await store_level(app, s) == (9, 0)
    assert await f.levels(app) == await f.ledger(app)


async def test_stock_set_by_the_merchant_is_a_count_made_then(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=0, store_on_hand=7)
    till = await f.device(client, s.m, s.store)
    body = await upload(client, till, [f.pos_event("old", "sale", s.sku, 2, at(0)),  # before the PUT: counted
                                       f.pos_event("new", "sale", s.sku, 1, soon(1))])
    assert [x["status"] for x in body["results"]] == ["applied", "applied"]
    assert await store_level(app, s) == (6, 0)
    assert await f.levels(app) == await f.ledger(app)
