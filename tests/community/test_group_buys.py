"""Group-buys end to end: pickup points and leaders, joins under concurrency, the close at the cut-off."""

import asyncio
import itertools
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from app.community.service import close_due_group_buys
from app.core import clock
from app.orders.cancellation import expire_holds
from app.orders.models import Order
from tests import factories as f
from tests.conftest import WEBHOOK_SECRET
from tests.fakes.stripe_server import FakeStripe

_keys = itertools.count()


async def _community_shop(client: httpx.AsyncClient, *, on_hand: int, points: int = 1, price: int = 1_500):
    s = await f.shop(client, on_hand=on_hand, price=price, category="fresh")
    pts = [await f.pickup_point(client, s.m) for _ in range(points)]
    return s, pts


async def _pay(client: httpx.AsyncClient, fake_stripe: FakeStripe, client_secret: str) -> None:
    [pi_id] = [k for k, pi in fake_stripe.payment_intents.items() if pi["client_secret"] == client_secret]
    payload, sig = fake_stripe.webhook("payment_intent.succeeded", fake_stripe.succeed(pi_id), WEBHOOK_SECRET)
    r = await client.post("/v1/payments/stripe/webhook", content=payload,
                          headers={"Stripe-Signature": sig, "content-type": "application/json"})
    assert r.status_code == 200, r.text


async def _close_by_schedule(app, gb: dict) -> int:
    clock.travel(timedelta(hours=3))  # past closes_at (factories close in 2 hours)
    return await close_due_group_buys(app.state.sessionmaker, app.state.settings)


async def test_pickup_point_is_a_location_with_a_leader_login(client: httpx.AsyncClient):
    s, [point] = await _community_shop(client, on_hand=10)
    other = await f.pickup_point(client, s.m)
    locations = (await client.get("/v1/locations", headers=s.m.headers)).json()["items"]
    assert {"id": point["location_id"], "kind": "pickup_point"}.items() <= next(
        loc for loc in locations if loc["id"] == point["location_id"]).items()
    leader = f.bearer(point["leader_token"])
    assert point["leader_token"].startswith("ldr_") and point["commission_rate"] == 500
    mine = await client.get(f"/v1/community/pickup-points/{point['id']}", headers=leader)
    assert mine.status_code == 200 and mine.json()["leader_name"] == "王团长" and "leader_token" not in mine.json()
    assert (await client.get(f"/v1/community/pickup-points/{other['id']}", headers=leader)).status_code == 404
    # a leader is not the merchant
    r = await client.post("/v1/community/group-buys", headers=leader, json={})
    assert r.status_code == 403
    # another merchant cannot see the point
    stranger = await f.merchant(client)
    assert (await client.get(f"/v1/community/pickup-points/{point['id']}",
                             headers=stranger.headers)).status_code == 404
    # a new leader token revokes the old one
    new = await client.post(f"/v1/community/pickup-points/{point['id']}/leader-token", headers=s.m.headers)
    assert new.status_code == 201
    assert (await client.get(f"/v1/community/pickup-points/{point['id']}", headers=leader)).status_code == 401
    assert (await client.get(f"/v1/community/pickup-points/{point['id']}",
                             headers=f.bearer(new.json()["leader_token"]))).status_code == 200


async def test_bad_group_buys_are_refused_with_the_fields_named(client: httpx.AsyncClient):
    s, [point] = await _community_shop(client, on_hand=10)
    stranger = await f.shop(client, on_hand=10)
    gb = await f.group_buy(client, s.m, s.variant_id)
    assert gb["status"] == "open" and gb["joined_quantity"] == 0 and gb["pickup_point_ids"] == [point["id"]]
    body = {"variant_id": stranger.variant_id, "price": 100, "min_quantity": 5, "max_quantity": 2,
            "closes_at": "2001-01-01T00:00:00Z", "pickup_date": "2001-01-02"}
    r = await client.post("/v1/community/group-buys", headers=s.m.headers, json=body)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    body["max_quantity"] = 50
    r = await client.post("/v1/community/group-buys", headers=s.m.headers, json=body)
    assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["variant_id"]
    body["variant_id"] = s.variant_id
    body["pickup_point_ids"] = ["pkp_nope"]
    r = await client.post("/v1/community/group-buys", headers=s.m.headers, json=body)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"closes_at", "pickup_point_ids.0"}


async def test_joins_are_refused_when_closed_full_or_at_a_point_not_served(client: httpx.AsyncClient):
    s, [point, elsewhere] = await _community_shop(client, on_hand=50, points=2)
    gb = await f.group_buy(client, s.m, s.variant_id, min_quantity=2, max_quantity=5,
                           pickup_point_ids=[point["id"]])
    alice = await f.customer(client)
    ok = await f.join_group_buy(client, alice, gb["id"], point["id"], quantity=4, key="a-1")
    assert ok.status_code == 201, ok.text
    order = ok.json()
    assert order["channel"] == "community" and order["status"] == "confirmed" and order["pickup_code"]
    assert order["total"] == 4 * 990 and order["shipping"] == 0 and order["group_buy_id"] == gb["id"]
    again = await f.join_group_buy(client, alice, gb["id"], point["id"], quantity=4, key="a-1")
    assert again.status_code == 201 and again.json()["id"] == order["id"]
    reused = await f.join_group_buy(client, alice, gb["id"], point["id"], quantity=1, key="a-1")
    assert reused.status_code == 409
    full = await f.join_group_buy(client, alice, gb["id"], point["id"], quantity=2)
    assert full.status_code == 409 and "only 1 left" in full.json()["detail"]
    wrong_point = await f.join_group_buy(client, alice, gb["id"], elsewhere["id"])
    assert wrong_point.status_code == 422 and wrong_point.json()["errors"][0]["field"] == "pickup_point_id"
    assert (await f.join_group_buy(client, s.m.headers, gb["id"], point["id"])).status_code == 403
    assert (await f.join_group_buy(client, alice, "gb_nope", point["id"])).status_code == 404
    stranger = await f.merchant(client)
    assert (await client.post(f"/v1/community/group-buys/{gb['id']}/close",
                              headers=stranger.headers)).status_code == 404
    clock.travel(timedelta(hours=2, minutes=1))
    late = await f.join_group_buy(client, alice, gb["id"], point["id"])
    assert late.status_code == 409 and "closed" in late.json()["detail"]
    current = (await client.get(f"/v1/community/group-buys/{gb['id']}")).json()
    assert current["joined_quantity"] == 4


async def test_200_concurrent_joins_against_max_120_hold_exactly_120(client: httpx.AsyncClient, app):
    s, [point] = await _community_shop(client, on_hand=500)
    gb = await f.group_buy(client, s.m, s.variant_id, min_quantity=50, max_quantity=120)
    bob = await f.customer(client)
    results = await asyncio.gather(*(f.join_group_buy(client, bob, gb["id"], point["id"], key=f"race-{i}")
                                     for i in range(200)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 120 and codes.count(409) == 80, {c: codes.count(c) for c in set(codes)}
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (500, 120)
    assert await f.levels(app) == await f.ledger(app)
    current = (await client.get(f"/v1/community/group-buys/{gb['id']}")).json()
    assert current["joined_quantity"] == 120
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Order)
                                    .where(Order.channel == "community")) == 120


async def test_49_of_50_fails_cancels_every_order_releases_stock_and_refunds(
        client: httpx.AsyncClient, app, fake_stripe: FakeStripe):
    s, [point] = await _community_shop(client, on_hand=100)
    gb = await f.group_buy(client, s.m, s.variant_id, price=1_280, min_quantity=50, max_quantity=100)
    shoppers = [await f.customer(client) for _ in range(3)]
    orders = []
    for i in range(49):
        method = "stripe" if i % 5 == 0 else "cod"  # 10 pay by card, 39 at pickup
        r = await f.join_group_buy(client, shoppers[i % 3], gb["id"], point["id"], method=method, key=f"j{i}")
        assert r.status_code == 201, r.text
        orders.append(r.json())
        if method == "stripe":
            await _pay(client, fake_stripe, r.json()["payment"]["client_secret"])
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (100, 49)

    assert await close_due_group_buys(app.state.sessionmaker, app.state.settings) == 0  # not yet
    assert await _close_by_schedule(app, gb) == 1
    assert await close_due_group_buys(app.state.sessionmaker, app.state.settings) == 0  # once

    closed = (await client.get(f"/v1/community/group-buys/{gb['id']}")).json()
    assert closed["status"] == "failed" and closed["committed_quantity"] == 49
    listed = (await client.get("/v1/orders?channel=community&limit=100", headers=s.m.headers)).json()["items"]
    assert len(listed) == 49 and {o["status"] for o in listed} == {"cancelled"}
    paid = [o for o in listed if o["payment_method"] == "stripe"]
    assert len(paid) == 10 and all(o["payment_status"] == "refunded" and o["refunded"] == 1_280 for o in paid)
    assert sorted(r["amount"] for r in fake_stripe.refunds.values()) == [1_280] * 10
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (100, 0)
    assert await f.levels(app) == await f.ledger(app)
    closing_twice = await client.post(f"/v1/community/group-buys/{gb['id']}/close", headers=s.m.headers)
    assert closing_twice.status_code == 409


async def test_50_of_50_succeeds_and_the_manifest_lists_each_point(client: httpx.AsyncClient, app,
                                                                   fake_stripe: FakeStripe):
    s, [north, south] = await _community_shop(client, on_hand=80, points=2)
    gb = await f.group_buy(client, s.m, s.variant_id, min_quantity=50, max_quantity=80)
    shoppers = [await f.customer(client) for _ in range(4)]
    by_point: dict[str, list[dict]] = {north["id"]: [], south["id"]: []}
    for i in range(25):  # 25 joins of 2 units: 50 units; card payments paid before the cut-off
        point = north if i % 2 == 0 else south
        method = "stripe" if i % 4 == 0 else "cod"
        r = await f.join_group_buy(client, shoppers[i % 4], gb["id"], point["id"], quantity=2, method=method,
                                   key=f"k{i}")
        assert r.status_code == 201, r.text
        if method == "stripe":
            await _pay(client, fake_stripe, r.json()["payment"]["client_secret"])
        by_point[point["id"]].append(r.json())
    closed = await client.post(f"/v1/community/group-buys/{gb['id']}/close", headers=s.m.headers)
    assert closed.status_code == 200, closed.text
    assert closed.json()["status"] == "succeeded" and closed.json()["committed_quantity"] == 50
    listed = (await client.get("/v1/orders?channel=community&limit=100", headers=s.m.headers)).json()["items"]
    assert {o["status"] for o in listed} == {"paid", "confirmed"} and fake_stripe.refunds == {}
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (80, 50)

    for point in (north, south):
        expected = by_point[point["id"]]
        r = await client.get(f"/v1/community/pickup-points/{point['id']}/manifest",
                             params={"date": gb["pickup_date"]}, headers=f.bearer(point["leader_token"]))
        assert r.status_code == 200, r.text
        listed_orders = [o for c in r.json()["customers"] for o in c["orders"]]
        assert sorted(o["order_id"] for o in listed_orders) == sorted(o["id"] for o in expected)
        assert {o["order_id"]: o["pickup_code"] for o in listed_orders} == {o["id"]: o["pickup_code"]
                                                                             for o in expected}
        assert r.json()["totals"] == [{"sku": s.sku, "title": s.product["title"], "quantity": 2 * len(expected)}]
        assert not any(o["overdue"] for o in listed_orders)
    other_day = await client.get(f"/v1/community/pickup-points/{north['id']}/manifest",
                                 params={"date": "2001-01-01"}, headers=s.m.headers)
    assert other_day.json()["customers"] == []
    # a leader sees only their own point
    assert (await client.get(f"/v1/community/pickup-points/{south['id']}/manifest",
                             headers=f.bearer(north["leader_token"]))).status_code == 404


async def test_leader_collects_by_code_and_leftovers_get_flagged(client: httpx.AsyncClient, app):
    s, [point] = await _community_shop(client, on_hand=10)
    gb = await f.group_buy(client, s.m, s.variant_id, min_quantity=2, max_quantity=10)
    carol = await f.customer(client)
    first = (await f.join_group_buy(client, carol, gb["id"], point["id"], quantity=2)).json()
    second = (await f.join_group_buy(client, carol, gb["id"], point["id"], quantity=1)).json()
    leader = f.bearer(point["leader_token"])
    early = await client.post(f"/v1/community/pickup-points/{point['id']}/collect", headers=leader,
                              json={"pickup_code": first["pickup_code"]})
    assert early.status_code == 422  # nothing to collect before the group-buy succeeded
    assert await _close_by_schedule(app, gb) == 1

    wrong = await client.post(f"/v1/community/pickup-points/{point['id']}/collect", headers=leader,
                              json={"pickup_code": "000000" if first["pickup_code"] != "000000" else "111111",
                                    "order_id": first["id"]})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "pickup_code"
    done = await client.post(f"/v1/community/pickup-points/{point['id']}/collect", headers=leader,
                             json={"pickup_code": first["pickup_code"], "order_id": first["id"]})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "completed" and done.json()["payment_status"] == "paid"
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (8, 1)  # 2 left the shelf, 1 still held
    twice = await client.post(f"/v1/community/pickup-points/{point['id']}/collect", headers=leader,
                              json={"pickup_code": first["pickup_code"], "order_id": first["id"]})
    assert twice.status_code == 422

    assert (await client.get(f"/v1/community/pickup-points/{point['id']}/uncollected",
                             headers=leader)).json()["customers"] == []
    clock.travel(timedelta(days=_days_until(gb["pickup_date"]) + 3))  # three Shanghai days after pick-up day
    late = await client.get(f"/v1/community/pickup-points/{point['id']}/uncollected", headers=leader)
    [entry] = late.json()["customers"]
    assert [(o["order_id"], o["overdue"]) for o in entry["orders"]] == [(second["id"], True)]
    day = await client.get(f"/v1/community/pickup-points/{point['id']}/manifest",
                           params={"date": gb["pickup_date"]}, headers=leader)
    flags = {o["order_id"]: (o["status"], o["overdue"]) for c in day.json()["customers"] for o in c["orders"]}
    assert flags == {first["id"]: ("completed", False), second["id"]: ("confirmed", True)}


async def test_spots_of_expired_unpaid_joins_go_back_to_the_group_buy(client: httpx.AsyncClient, app):
    s, [point] = await _community_shop(client, on_hand=10)
    gb = await f.group_buy(client, s.m, s.variant_id, min_quantity=1, max_quantity=2, closes_in_hours=5)
    dave = await f.customer(client)
    unpaid = await f.join_group_buy(client, dave, gb["id"], point["id"], quantity=2, method="stripe")
    assert unpaid.status_code == 201 and unpaid.json()["status"] == "pending_payment"
    assert (await f.join_group_buy(client, dave, gb["id"], point["id"])).status_code == 409
    clock.travel(timedelta(minutes=app.state.settings.shop_order_hold_minutes + 1))
    assert await expire_holds(app.state.sessionmaker, app.state.settings) == 1
    again = await f.join_group_buy(client, dave, gb["id"], point["id"], quantity=2)
    assert again.status_code == 201, again.text
    assert (await client.get(f"/v1/community/group-buys/{gb['id']}")).json()["joined_quantity"] == 2
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (10, 2)


async def test_unpaid_card_joins_do_not_count_and_are_cancelled_at_the_cut_off(client: httpx.AsyncClient, app):
    s, [point] = await _community_shop(client, on_hand=10)
    gb = await f.group_buy(client, s.m, s.variant_id, min_quantity=2, max_quantity=10)
    erin = await f.customer(client)
    cod = (await f.join_group_buy(client, erin, gb["id"], point["id"], quantity=2)).json()
    card = (await f.join_group_buy(client, erin, gb["id"], point["id"], quantity=3, method="stripe")).json()
    assert await _close_by_schedule(app, gb) == 1
    assert (await client.get(f"/v1/community/group-buys/{gb['id']}")).json()["status"] == "succeeded"
    statuses = {o["id"]: o["status"] for o in (await client.get("/v1/orders", headers=erin)).json()["items"]}
    assert statuses == {cod["id"]: "confirmed", card["id"]: "cancelled"}
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (10, 2)


async def test_bad_input_is_a_422_problem_and_changes_nothing(client: httpx.AsyncClient, app):
    s, [point] = await _community_shop(client, on_hand=10)
    gb = await f.group_buy(client, s.m, s.variant_id)
    alice = await f.customer(client)
    before = await f.levels(app)
    cases = [
        ("post", f"/v1/community/group-buys/{gb['id']}/join", alice, {"quantity": 0, "pickup_point_id": point["id"]}),
        ("post", f"/v1/community/group-buys/{gb['id']}/join", alice, {"quantity": 1}),
        ("post", f"/v1/community/group-buys/{gb['id']}/join", alice,
         {"quantity": 1, "pickup_point_id": point["id"], "payment_method": "cash"}),
        ("post", "/v1/community/group-buys", s.m.headers,
         {"variant_id": s.variant_id, "price": 1, "min_quantity": 1, "max_quantity": 1,
          "closes_at": "2030-01-01T00:00:00", "pickup_date": "2030-01-02"}),  # no time zone
        ("post", "/v1/community/pickup-points", s.m.headers,
         {"name": "x", "address": f.address(), "leader_name": "x", "leader_phone": "x", "commission_rate": 10_001}),
        ("get", f"/v1/community/pickup-points/{point['id']}/manifest?date=tomorrow", s.m.headers, None),
        ("get", f"/v1/community/pickup-points/{point['id']}/commission", s.m.headers, None),
    ]
    for method, url, headers, body in cases:
        r = await client.request(method, url, headers=headers, json=body)
        assert r.status_code == 422, (url, body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["errors"]
    assert await f.levels(app) == before
    assert (await client.get(f"/v1/community/group-buys/{gb['id']}")).json()["joined_quantity"] == 0


async def test_shop_close_group_buys_closes_what_is_due(client: httpx.AsyncClient, app, db_url: str, monkeypatch):
    from typer.testing import CliRunner

    from app.cli import cli
    from app.config import get_settings

    s, [point] = await _community_shop(client, on_hand=10)
    gb = await f.group_buy(client, s.m, s.variant_id, min_quantity=1, max_quantity=5)
    assert (await f.join_group_buy(client, await f.customer(client), gb["id"], point["id"])).status_code == 201
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = await asyncio.to_thread(runner.invoke, cli, ["close-group-buys"])
        assert first.exit_code == 0 and "closed 0 group-buys" in first.output, first.output
        clock.travel(timedelta(hours=2, minutes=1))
        due = await asyncio.to_thread(runner.invoke, cli, ["close-group-buys"])
        assert due.exit_code == 0 and "closed 1 group-buys" in due.output, due.output
    finally:
        get_settings.cache_clear()
    assert (await client.get(f"/v1/community/group-buys/{gb['id']}")).json()["status"] == "succeeded"


def _days_until(day: str) -> int:
    """Whole Shanghai calendar days from the service's today to `day` (tests must not depend on the hour)."""
    from datetime import date

    from app.core.clock import SHANGHAI

    return (date.fromisoformat(day) - clock.utcnow().astimezone(SHANGHAI).date()).days
