"""Leader commission on collected orders, and bookable local services through the order core."""

import asyncio
from datetime import timedelta

import httpx

from app.community.service import close_due_group_buys
from app.core import clock
from app.core.clock import SHANGHAI, utcnow
from app.core.money import percent_of
from tests import factories as f


async def test_commission_is_the_rate_of_collected_totals_to_the_fen(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=100, price=999, category="fresh")
    point = await f.pickup_point(client, s.m, commission_rate=375)  # 3.75 %
    other_point = await f.pickup_point(client, s.m, commission_rate=1_000)
    gb = await f.group_buy(client, s.m, s.variant_id, price=333, min_quantity=1, max_quantity=100)
    frank = await f.customer(client)
    joins = [(await f.join_group_buy(client, frank, gb["id"], point["id"], quantity=q)).json() for q in (1, 2, 7, 5)]
    elsewhere = (await f.join_group_buy(client, frank, gb["id"], other_point["id"], quantity=3)).json()
    clock.travel(timedelta(hours=3))
    assert await close_due_group_buys(app.state.sessionmaker, app.state.settings) == 1
    leader = f.bearer(point["leader_token"])
    collected = joins[:3]  # the fourth stays uncollected and earns nothing
    for order in collected:
        r = await client.post(f"/v1/community/pickup-points/{point['id']}/collect", headers=leader,
                              json={"pickup_code": order["pickup_code"], "order_id": order["id"]})
        assert r.status_code == 200, r.text
    r = await client.post(f"/v1/community/pickup-points/{other_point['id']}/collect",
                          headers=f.bearer(other_point["leader_token"]),
                          json={"pickup_code": elsewhere["pickup_code"], "order_id": elsewhere["id"]})
    assert r.status_code == 200
    today = utcnow().astimezone(SHANGHAI).date().isoformat()
    report = await client.get(f"/v1/community/pickup-points/{point['id']}/commission",
                              params={"from": today, "to": today}, headers=leader)
    assert report.status_code == 200, report.text
    totals = [o["total"] for o in collected]
    assert totals == [333, 666, 2_331]
    body = report.json()
    assert body["orders_collected"] == 3 and body["collected_total"] == 3_330
    assert body["commission"] == percent_of(3_330, 375) == 125  # 124.875 fen, rounded half up once
    merchant_view = await client.get(f"/v1/community/pickup-points/{point['id']}/commission",
                                     params={"from": today, "to": today}, headers=s.m.headers)
    assert merchant_view.json() == body
    before = await client.get(f"/v1/community/pickup-points/{point['id']}/commission",
                              params={"from": "2001-01-01", "to": "2001-01-31"}, headers=leader)
    assert before.json()["commission"] == 0 and before.json()["orders_collected"] == 0
    backwards = await client.get(f"/v1/community/pickup-points/{point['id']}/commission",
                                 params={"from": today, "to": "2001-01-01"}, headers=leader)
    assert backwards.status_code == 422


async def _slot(client: httpx.AsyncClient, m: f.MerchantCtx, variant_id: str, capacity: int) -> httpx.Response:
    starts = utcnow() + timedelta(days=1)
    return await client.post("/v1/community/service-slots", headers=m.headers, json={
        "variant_id": variant_id, "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(), "capacity": capacity})


async def test_a_slot_of_capacity_3_takes_3_concurrent_bookings_and_refuses_the_rest(client: httpx.AsyncClient,
                                                                                     app):
    m = await f.merchant(client)
    service = await f.product(client, m, category="services", price=8_800, title="上门保洁 2 小时 Home cleaning")
    variant_id = service["variants"][0]["id"]
    slot = await _slot(client, m, variant_id, 3)
    assert slot.status_code == 201, slot.text
    slot_id = slot.json()["id"]
    shoppers = [await f.customer(client) for _ in range(2)]
    results = await asyncio.gather(*(client.post(f"/v1/community/service-slots/{slot_id}/book",
                                                 headers={**shoppers[i % 2], "Idempotency-Key": f"b{i}"},
                                                 json={"address": f.address()}) for i in range(8)))
    codes = [r.status_code for r in results]
    assert codes.count(201) == 3 and codes.count(409) == 5, {c: codes.count(c) for c in set(codes)}
    booked = [r.json() for r in results if r.status_code == 201]
    assert all(o["channel"] == "community" and o["total"] == 8_800 and o["status"] == "confirmed"
               and o["fulfilment"]["type"] == "service" for o in booked)
    fourth = await client.post(f"/v1/community/service-slots/{slot_id}/book", headers=shoppers[0], json={})
    assert fourth.status_code == 409 and "fully booked" in fourth.json()["detail"]
    [listed] = (await client.get("/v1/community/service-slots", params={"variant_id": variant_id})).json()["items"]
    assert listed["booked"] == 3 and listed["remaining"] == 0
    # a cancelled booking frees its place
    c = await client.post(f"/v1/orders/{booked[0]['id']}/cancel", headers=m.headers)
    assert c.status_code == 200
    again = await client.post(f"/v1/community/service-slots/{slot_id}/book", headers=shoppers[1], json={})
    assert again.status_code == 201, again.text
    assert await f.levels(app) == {}  # services hold places, not stock


async def test_only_services_get_slots(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=5)
    r = await _slot(client, s.m, s.variant_id, 3)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "variant_id"
    stranger = await f.merchant(client)
    service = await f.product(client, stranger, category="services")
    r = await _slot(client, s.m, service["variants"][0]["id"], 3)
    assert r.status_code == 422
    bad = await client.post("/v1/community/service-slots", headers=s.m.headers, json={
        "variant_id": "x", "starts_at": "2030-01-01T10:00:00Z", "ends_at": "2030-01-01T09:00:00Z", "capacity": 0})
    assert bad.status_code == 422
