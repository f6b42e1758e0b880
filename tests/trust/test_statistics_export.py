"""C25: the statistics export for the authorities: price, sales and turnover by period (Shanghai day or month),
category and region (the province delivered to), as JSON and CSV, for the operator or the regulator liaison only,
each export in the audit log. Both databases."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx

from app.core import clock
from app.core.clock import SHANGHAI
from tests import factories as f

REGULATOR_TOKEN = "regulator-" + "s" * 40
URL = "/v1/admin/exports/statistics"


def _to_noon(day: date) -> None:
    """Move the clock to noon in Shanghai on `day`, far from the midnight a day's orders must not straddle."""
    clock.travel(datetime.combine(day, time(12), SHANGHAI) - clock.utcnow())


async def _order(client: httpx.AsyncClient, lines: list[tuple[f.Shop, int]], province: str) -> list[dict[str, Any]]:
    body = f.checkout_body([(s.variant_id, n) for s, n in lines],
                           fulfilment={"type": "delivery", "address": f.address(province=province)})
    r = await client.post("/v1/checkout", json=body)  # a guest: sign-in tokens go by the real clock
    assert r.status_code == 201, r.text
    return list(r.json()["orders"])


async def _seed(client: httpx.AsyncClient) -> tuple[date, date, date]:
    """Orders on the last two days of a month and the first of the next; one cancelled (it does not count), one
    picked up in a store."""
    jacket = await f.shop(client, on_hand=100, price=12_345)  # apparel
    lamp = await f.shop(client, on_hand=100, store_on_hand=10, price=5_000, category="home")
    today = clock.utcnow().astimezone(SHANGHAI).date()
    first_of_next = (today.replace(day=1) + timedelta(days=62)).replace(day=1)  # a month or two ahead
    day1, day2, day3 = first_of_next - timedelta(days=2), first_of_next - timedelta(days=1), first_of_next
    _to_noon(day1)
    await _order(client, [(jacket, 1)], "上海")
    _to_noon(day2)
    await _order(client, [(jacket, 2)], "上海市")  # the same province however it is written
    await _order(client, [(jacket, 1), (lamp, 3)], "广东省")  # two shops: two orders
    [cancelled] = await _order(client, [(jacket, 5)], "上海")
    done = await client.post(f"/v1/orders/{cancelled['id']}/cancel", headers=jacket.m.headers)
    assert done.status_code == 200, done.text
    _to_noon(day3)
    await _order(client, [(jacket, 1)], "广东")
    picked_up = await client.post("/v1/checkout", json=f.checkout_body(
        [(lamp.variant_id, 2)], fulfilment={"type": "pickup", "location_id": lamp.store["id"]}))
    assert picked_up.status_code == 201, picked_up.text  # no delivery address: region unknown
    return day1, day2, day3


def _rows(items: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(i["period"], i["category"], i["region"], i["orders"], i["units"], i["turnover"], i["average_price"],
             i["min_price"], i["max_price"]) for i in items]


async def test_the_numbers_are_the_orders_seeded_by_day_and_by_month_in_json_and_csv(
        client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    day1, day2, day3 = await _seed(client)
    by_day = await client.get(URL, headers=admin_headers, params={"from": day1.isoformat(), "to": day3.isoformat(),
                                                                  "period": "day"})
    assert by_day.status_code == 200, by_day.text
    body = by_day.json()
    assert (body["from"], body["to"], body["period"]) == (day1.isoformat(), day3.isoformat(), "day")
    d1, d2, d3 = (d.isoformat() for d in (day1, day2, day3))
    assert _rows(body["items"]) == [
        (d1, "apparel", "上海市", 1, 1, 12_345, 12_345, 12_345, 12_345),
        (d2, "apparel", "上海市", 1, 2, 24_690, 12_345, 12_345, 12_345),
        (d2, "apparel", "广东省", 1, 1, 12_345, 12_345, 12_345, 12_345),
        (d2, "home", "广东省", 1, 3, 15_000, 5_000, 5_000, 5_000),
        (d3, "apparel", "广东省", 1, 1, 12_345, 12_345, 12_345, 12_345),
        (d3, "home", "未知", 1, 2, 10_000, 5_000, 5_000, 5_000),
    ]
    assert body["totals"] == {"orders": 6, "units": 10, "turnover": 5 * 12_345 + 15_000 + 10_000}
    by_month = (await client.get(URL, headers=admin_headers, params={
        "from": day1.isoformat(), "to": day3.isoformat(), "period": "month"})).json()
    m1, m2 = f"{day1:%Y-%m}", f"{day3:%Y-%m}"
    assert _rows(by_month["items"]) == [
        (m1, "apparel", "上海市", 2, 3, 37_035, 12_345, 12_345, 12_345),
        (m1, "apparel", "广东省", 1, 1, 12_345, 12_345, 12_345, 12_345),
        (m1, "home", "广东省", 1, 3, 15_000, 5_000, 5_000, 5_000),
        (m2, "apparel", "广东省", 1, 1, 12_345, 12_345, 12_345, 12_345),
        (m2, "home", "未知", 1, 2, 10_000, 5_000, 5_000, 5_000),
    ]
    assert by_month["totals"] == body["totals"]
    # the range is of whole Shanghai days, both ends included
    one_day = (await client.get(URL, headers=admin_headers, params={"from": d2, "to": d2, "period": "day"})).json()
    assert [i["period"] for i in one_day["items"]] == [d2] * 3 and one_day["totals"]["orders"] == 3
    as_csv = await client.get(URL, headers=admin_headers, params={"from": d1, "to": d3, "period": "month",
                                                                   "format": "csv"})
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    assert f"statistics_month_{day1:%Y%m%d}_{day3:%Y%m%d}.csv" in as_csv.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert [(r["period"], r["category"], r["region"], r["orders"], r["units"], r["turnover"]) for r in table] == [
        (p, c, r, str(o), str(u), str(t)) for p, c, r, o, u, t, *_ in _rows(by_month["items"])]


async def test_only_the_operator_and_the_regulator_liaison_export_and_every_export_is_audited(
        client: httpx.AsyncClient, app: Any, admin_headers: dict[str, str]) -> None:
    app.state.settings = app.state.settings.model_copy(update={"shop_regulator_token": REGULATOR_TOKEN})
    shop = await f.shop(client)
    today = clock.utcnow().astimezone(SHANGHAI).date().isoformat()
    params = {"from": today, "to": today}
    assert (await client.get(URL, headers=shop.m.headers, params=params)).status_code == 403
    assert (await client.get(URL, headers=await f.customer(client), params=params)).status_code == 403
    assert (await client.get(URL, params=params)).status_code == 401
    regulator = await client.get(URL, headers=f.bearer(REGULATOR_TOKEN), params=params | {"format": "csv"})
    assert regulator.status_code == 200, regulator.text
    assert (await client.get(URL, headers=admin_headers, params=params)).status_code == 200
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers)).json()["items"]
    exports = [(e["actor"].split(":")[0], e["after"]) for e in log if e["action"] == "export.statistics"]
    assert exports == [
        ("admin", {"from": today, "to": today, "period": "month", "format": "json", "groups": 0}),
        ("regulator", {"from": today, "to": today, "period": "month", "format": "csv", "groups": 0}),
    ]


async def test_bad_ranges_and_options_are_refused_naming_the_field(
        client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    backwards = await client.get(URL, headers=admin_headers, params={"from": "2026-11-02", "to": "2026-11-01"})
    assert backwards.status_code == 422 and backwards.json()["errors"][0]["field"] == "to"
    too_long = await client.get(URL, headers=admin_headers, params={"from": "2025-01-01", "to": "2026-06-30",
                                                                    "period": "day"})
    assert too_long.status_code == 422 and too_long.json()["errors"][0]["field"] == "to"
    for name, value in (("period", "week"), ("format", "xml"), ("from", "yesterday")):
        bad = await client.get(URL, headers=admin_headers, params={"from": "2026-11-01", "to": "2026-11-02",
                                                                   name: value})
        assert bad.status_code == 422 and name in bad.text, name
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers)).json()["items"]
    assert not [e for e in log if e["action"] == "export.statistics"]  # nothing was exported
