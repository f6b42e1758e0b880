"""The headline figure: online against store sales, per merchant and for the platform."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from app.core.clock import SHANGHAI, utcnow
from tests import factories as f
from tests.inventory.test_pos_sync import upload


def utc(day: datetime, hour: int) -> str:
    return day.replace(hour=hour, minute=0, second=0, microsecond=0).isoformat().replace("+00:00", "Z")


async def test_channel_share_counts_online_orders_and_till_sales(client: httpx.AsyncClient, admin_headers):
    today = utcnow().astimezone(SHANGHAI).date()
    period = {"from": str(today - timedelta(days=7)), "to": str(today + timedelta(days=1))}
    d2 = datetime.combine(today - timedelta(days=2), datetime.min.time(), UTC)
    s = await f.shop(client, on_hand=10, store_on_hand=10, price=10_000)
    till = await f.device(client, s.m, s.store)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]))
    assert r.status_code == 201, r.text
    online_total = r.json()["orders"][0]["total"]
    cancelled = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)]))
    assert (await client.post(f"/v1/orders/{cancelled.json()['orders'][0]['id']}/cancel",
                              headers=s.m.headers)).status_code == 200
    # Shanghai calendar days: 17:00 UTC is already the next day there.
    await upload(client, till, [
        f.pos_event("p1", "sale", s.sku, 2, utc(d2, 17), unit_price=9_000),  # 18,000
        f.pos_event("p2", "sale", s.sku, 1, utc(d2, 10)),  # the variant's price: 10,000
        f.pos_event("p3", "return", s.sku, 1, utc(d2, 11)),
        f.pos_event("p4", "sale", s.sku, 1, utc(d2 - timedelta(days=30), 10)),  # outside the period
    ])
    r = await client.get("/v1/reports/channel-share", headers=s.m.headers, params=period)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["online_sales"] == online_total and body["offline_sales"] == 28_000
    assert body["online_share"] == round(online_total / (online_total + 28_000), 4)
    assert body["from"] == period["from"] and body["currency"] == "CNY"
    by_day = {d["date"]: d["offline_sales"] for d in body["days"]}
    assert by_day[str(d2.date())] == 10_000 and by_day[str(d2.date() + timedelta(days=1))] == 18_000
    # Another merchant sees only its own (nothing); the admin sees the platform.
    other = await f.merchant(client)
    mine = (await client.get("/v1/reports/channel-share", headers=other.headers, params=period)).json()
    assert mine["online_sales"] == mine["offline_sales"] == 0 and mine["online_share"] is None
    platform = (await client.get("/v1/reports/channel-share", headers=admin_headers, params=period)).json()
    assert platform["merchant_id"] is None and platform["offline_sales"] == 28_000
    assert (await client.get("/v1/reports/channel-share", headers=till, params=period)).status_code == 403
    bad = await client.get("/v1/reports/channel-share", headers=s.m.headers, params={"from": period["to"],
                                                                                     "to": period["from"]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "to"
    assert (await client.get("/v1/reports/channel-share", headers=s.m.headers,
                             params={"from": "nope", "to": "2026-11-01"})).status_code == 422
