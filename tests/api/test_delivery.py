"""Delivery through the API (C28, C29): shipping templates priced at checkout, carriers' tracking numbers checked on
ship, Kuaidi100 tracking pushes, signing for (carrier, buyer, automatic), the return window and late shipments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from app.core import clock
from app.logistics import carriers
from app.logistics import service as logistics_service
from app.logistics.providers import kuaidi100
from tests import factories as f
from tests.conftest import KUAIDI100_SALT

PIECE = {"first": 1, "first_fee": 1_000, "each": 1, "each_fee": 500}
REMOTE = {"provinces": ["新疆", "西藏"], "first": 1, "first_fee": 2_500, "each": 1, "each_fee": 1_500}


async def _template(client: httpx.AsyncClient, s: f.Shop, **body: Any) -> dict[str, Any]:
    r = await client.post("/v1/shipping-templates", headers=s.m.headers,
                          json={"name": "默认运费", "basis": "piece", "rate": PIECE} | body)
    assert r.status_code == 201, r.text
    attached = await client.patch(f"/v1/products/{s.product['id']}", headers=s.m.headers,
                                  json={"shipping_template_id": r.json()["id"]})
    assert attached.status_code == 200 and attached.json()["shipping_template_id"] == r.json()["id"], attached.text
    return dict(r.json())


async def _checkout(client: httpx.AsyncClient, s: f.Shop, quantity: int, *, province: str = "浙江省",
                    headers: dict[str, str] | None = None) -> httpx.Response:
    fulfilment = {"type": "delivery", "address": f.address(province=province, city="杭州")}
    return await client.post("/v1/checkout", headers=headers or {},
                             json=f.checkout_body([(s.variant_id, quantity)], fulfilment=fulfilment,
                                                  email=None if headers else "buyer@example.com"))


async def test_template_pricing_by_piece(client: httpx.AsyncClient) -> None:
    s = await f.shop(client, price=2_000)
    await _template(client, s)
    r = await _checkout(client, s, 3)
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    assert order["shipping"] == 1_000 + 2 * 500 and order["total"] == 3 * 2_000 + 2_000


async def test_template_pricing_by_weight(client: httpx.AsyncClient) -> None:
    s = await f.shop(client, price=2_000)
    r = await client.patch(f"/v1/products/{s.product['id']}", headers=s.m.headers,
                           json={"variants": [{"sku": s.sku, "weight": 800}]})
    assert r.status_code == 200 and r.json()["variants"][0]["weight"] == 800
    await _template(client, s, basis="weight", rate={"first": 1_000, "first_fee": 1_200, "each": 500,
                                                     "each_fee": 400})
    order = (await _checkout(client, s, 2)).json()["orders"][0]  # 1,600 g: the first kilo and two 500 g blocks
    assert order["shipping"] == 1_200 + 2 * 400


async def test_template_free_threshold(client: httpx.AsyncClient) -> None:
    s = await f.shop(client, price=3_000)
    await _template(client, s, free_over_amount=9_000)
    assert (await _checkout(client, s, 2)).json()["orders"][0]["shipping"] == 1_500
    assert (await _checkout(client, s, 3)).json()["orders"][0]["shipping"] == 0  # ¥90.00 of goods ship free


async def test_template_remote_province_priced_apart(client: httpx.AsyncClient) -> None:
    s = await f.shop(client, price=3_000)
    await _template(client, s, regions=[REMOTE], free_over_amount=9_000)
    assert (await _checkout(client, s, 4, province="新疆维吾尔自治区")).json()["orders"][0]["shipping"] == \
        2_500 + 3 * 1_500  # free shipping does not reach the remote region
    assert (await _checkout(client, s, 4, province="广东省")).json()["orders"][0]["shipping"] == 0


async def test_undeliverable_address_is_422_naming_the_address(client: httpx.AsyncClient, app: Any) -> None:
    s = await f.shop(client, on_hand=5)
    await _template(client, s, excluded_provinces=["西藏自治区", "新疆"])
    r = await _checkout(client, s, 1, province="西藏自治区")
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["fulfilment.address.province"]
    assert "西藏自治区" in r.json()["errors"][0]["message"]
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (5, 0)  # nothing held
    assert (await _checkout(client, s, 1, province="上海市")).status_code == 201


async def test_templates_belong_to_their_merchant(client: httpx.AsyncClient) -> None:
    s, other = await f.shop(client), await f.shop(client)
    template = await _template(client, s)
    r = await client.patch(f"/v1/products/{other.product['id']}", headers=other.m.headers,
                           json={"shipping_template_id": template["id"]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "shipping_template_id"
    assert (await client.get(f"/v1/shipping-templates/{template['id']}", headers=other.m.headers)).status_code == 404
    assert (await client.delete(f"/v1/shipping-templates/{template['id']}", headers=s.m.headers)).status_code == 409
    bad = await client.post("/v1/shipping-templates", headers=s.m.headers,
                            json={"name": "x", "basis": "piece", "rate": PIECE, "excluded_provinces": ["火星"]})
    assert bad.status_code == 422 and "excluded_provinces" in bad.text


async def test_products_without_a_template_keep_the_flat_fee(client: httpx.AsyncClient) -> None:
    s = await f.shop(client, price=2_000)
    assert (await _checkout(client, s, 1)).json()["orders"][0]["shipping"] == 1_000  # ¥10 below ¥99
    assert (await _checkout(client, s, 5)).json()["orders"][0]["shipping"] == 0


async def test_cart_shows_the_delivery_cost(client: httpx.AsyncClient) -> None:
    s = await f.shop(client, price=2_000)
    await _template(client, s)
    cart = (await client.post("/v1/carts")).json()
    r = await client.post(f"/v1/carts/{cart['id']}/items", json={"variant_id": s.variant_id, "quantity": 2})
    assert r.status_code in (200, 201), r.text
    assert (await client.get(f"/v1/carts/{cart['id']}")).json()["shipping"] == 1_500


async def test_carriers_are_listed(client: httpx.AsyncClient) -> None:
    listed = (await client.get("/v1/carriers")).json()["items"]
    assert [c["code"] for c in listed] == ["SF", "ZTO", "YTO", "STO", "YUNDA", "JD", "EMS", "JT", "DEPPON"]
    assert listed[0]["name"] == "顺丰速运"


async def _order(client: httpx.AsyncClient, s: f.Shop, headers: dict[str, str], quantity: int = 1
                 ) -> dict[str, Any]:
    r = await client.post("/v1/checkout", headers=headers,
                          json=f.checkout_body([(s.variant_id, quantity)], email=None))
    assert r.status_code == 201, r.text
    return dict(r.json()["orders"][0])


async def test_every_carrier_format_valid_and_invalid(client: httpx.AsyncClient) -> None:
    s = await f.shop(client, on_hand=20)
    headers = await f.customer(client)
    for carrier in carriers.CARRIERS:
        order = await _order(client, s, headers)
        bad = await client.post(f"/v1/orders/{order['id']}/shipments", headers=s.m.headers,
                                json={"carrier": carrier.code, "tracking_no": "12345"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "tracking_no", carrier.code
        assert (await client.get(f"/v1/orders/{order['id']}", headers=headers)).json()["status"] == "confirmed"
        good = await client.post(f"/v1/orders/{order['id']}/shipments", headers=s.m.headers,
                                 json={"carrier": carrier.code, "tracking_no": carrier.example})
        assert good.status_code == 201, (carrier.code, good.text)
        assert good.json()["shipments"][0] == good.json()["shipments"][0] | {"carrier": carrier.code,
                                                                              "tracking_no": carrier.example}
    order = await _order(client, s, headers)
    unknown = await client.post(f"/v1/orders/{order['id']}/shipments", headers=s.m.headers,
                                json={"carrier": "顺丰快递公司", "tracking_no": "SF1234567890123"})
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "carrier"


# ---- tracking pushes ---------------------------------------------------------------------------------------

NUMBER = "SF1234567890123"


def _push(steps: list[tuple[str, str, str]], *, state: str = "0", salt: str = KUAIDI100_SALT,
          number: str = NUMBER) -> dict[str, str]:
    """A Kuaidi100 push: (Beijing time, statusCode, text) steps, newest first as Kuaidi100 sends them."""
    param = json.dumps({"status": "polling", "billstatus": "got", "message": "", "lastResult": {
        "message": "ok", "nu": number, "ischeck": "1" if state == "3" else "0", "com": "shunfeng", "status": "200",
        "state": state, "data": [{"time": t, "ftime": t, "context": c, "statusCode": code, "areaName": "浙江,杭州市"}
                                 for t, code, c in steps]}}, ensure_ascii=False)
    return {"param": param, "sign": kuaidi100.sign(param, salt)}


async def _shipped(client: httpx.AsyncClient, s: f.Shop, headers: dict[str, str], quantity: int = 1
                   ) -> dict[str, Any]:
    order = await _order(client, s, headers, quantity)
    r = await client.post(f"/v1/orders/{order['id']}/shipments", headers=s.m.headers,
                          json={"carrier": "SF", "tracking_no": NUMBER})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _journey(client: httpx.AsyncClient, order_id: str, headers: dict[str, str]) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/orders/{order_id}/tracking", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["events"])


async def test_push_with_a_bad_signature_is_refused(client: httpx.AsyncClient) -> None:
    s = await f.shop(client)
    headers = await f.customer(client)
    order = await _shipped(client, s, headers)
    forged = _push([("2026-03-01 23:59:00", "3", "已签收")], state="3", salt="guessed")
    r = await client.post("/v1/logistics/kuaidi100/push", data=forged)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert await _journey(client, order["id"], headers) == []
    got = (await client.get(f"/v1/orders/{order['id']}", headers=headers)).json()
    assert got["status"] == "shipped" and got["signed_at"] is None
    assert (await client.post("/v1/logistics/nosuch/push", data=forged)).status_code == 404


async def test_push_duplicates_stored_once_and_out_of_order_shown_in_time_order(client: httpx.AsyncClient) -> None:
    s = await f.shop(client)
    headers = await f.customer(client)
    order = await _shipped(client, s, headers)
    later = _push([("2026-03-01 18:00:00", "0", "【杭州转运中心】已发出"), ("2026-03-01 09:00:00", "1", "顺丰已揽收")])
    earlier = _push([("2026-03-01 12:00:00", "0", "【杭州】到达杭州转运中心")])  # arrives after a later step
    for form in (later, earlier, later):  # the first push again: Kuaidi100 resends the whole journey
        r = await client.post("/v1/logistics/kuaidi100/push", data=form)
        assert r.status_code == 200 and r.json()["result"] is True, r.text
    events = await _journey(client, order["id"], headers)
    assert [e["description"] for e in events] == ["【杭州转运中心】已发出", "【杭州】到达杭州转运中心", "顺丰已揽收"]
    assert [e["state"] for e in events] == ["in_transit", "in_transit", "collected"]
    assert events[-1]["occurred_at"] == "2026-03-01T01:00:00Z"  # 09:00 in Beijing


async def test_push_signed_sets_signed_at_and_the_return_window_starts_next_day(client: httpx.AsyncClient) -> None:
    s = await f.shop(client, on_hand=10)
    headers = await f.customer(client)
    clock.travel(datetime(2025, 2, 27, 2, 0, tzinfo=UTC) - clock.utcnow())
    order = await _shipped(client, s, headers, quantity=2)
    signed = _push([("2025-03-01 23:59:00", "301", "已签收，本人签收"), ("2025-03-01 09:00:00", "5", "派件中")],
                   state="3")
    assert (await client.post("/v1/logistics/kuaidi100/push", data=signed)).status_code == 200
    got = (await client.get(f"/v1/orders/{order['id']}", headers=headers)).json()
    assert got["status"] == "delivered" and got["signed_source"] == "carrier"
    assert got["signed_at"] == got["delivered_at"] == "2025-03-01T15:59:00Z"  # 23:59 in Shanghai
    assert got["payment_status"] == "paid"  # cash on delivery: paid when signed for
    tracking = (await client.get(f"/v1/orders/{order['id']}/tracking", headers=headers)).json()
    assert tracking["signed_at"] == "2025-03-01T15:59:00Z" and tracking["signed_source"] == "carrier"
    assert [e["state"] for e in tracking["events"]] == ["signed", "delivering"]
    one = {"lines": [{"variant_id": s.variant_id, "quantity": 1}], "reason": "不想要了"}
    # Day 1 is 03-02: the window closes when 03-08 ends in Shanghai (C29's own example)
    clock.travel(datetime(2025, 3, 8, 15, 59, 59, tzinfo=UTC) - clock.utcnow())  # 03-08 23:59:59 in Shanghai
    ok = await client.post(f"/v1/orders/{order['id']}/returns", headers=headers, json=one)
    assert ok.status_code == 201, ok.text
    clock.travel(timedelta(seconds=1))  # 03-09 00:00 in Shanghai
    late = await client.post(f"/v1/orders/{order['id']}/returns", headers=headers, json=one)
    assert late.status_code in (409, 422) and "7-day" in late.text, late.text


async def test_buyer_confirms_receipt(client: httpx.AsyncClient) -> None:
    s = await f.shop(client)
    headers, stranger = await f.customer(client), await f.customer(client)
    order = await _shipped(client, s, headers)
    assert (await client.post(f"/v1/orders/{order['id']}/confirm-receipt", headers=stranger)).status_code == 404
    assert (await client.post(f"/v1/orders/{order['id']}/confirm-receipt", headers=s.m.headers)).status_code == 403
    r = await client.post(f"/v1/orders/{order['id']}/confirm-receipt", headers=headers)
    assert r.status_code == 200 and r.json()["signed_source"] == "buyer" and r.json()["status"] == "delivered"
    assert r.json()["signed_at"] == r.json()["delivered_at"]
    again = await client.post(f"/v1/orders/{order['id']}/confirm-receipt", headers=headers)
    assert again.status_code == 409
    # a carrier's later 签收 does not move the buyer's signature
    await client.post("/v1/logistics/kuaidi100/push", data=_push([("2030-01-01 10:00:00", "3", "已签收")], state="3"))
    assert (await client.get(f"/v1/orders/{order['id']}", headers=headers)).json()["signed_source"] == "buyer"


async def test_automatic_confirmation_after_n_days(client: httpx.AsyncClient, app: Any) -> None:
    s = await f.shop(client)
    headers = await f.customer(client)
    order = await _shipped(client, s, headers)
    days = app.state.settings.shop_auto_confirm_days
    assert days == 10
    clock.travel(timedelta(days=days) - timedelta(minutes=1))
    assert await logistics_service.auto_confirm(app.state.sessionmaker, app.state.settings) == 0
    assert (await client.get(f"/v1/orders/{order['id']}", headers=headers)).json()["status"] == "shipped"
    clock.travel(timedelta(minutes=1))
    assert await logistics_service.auto_confirm(app.state.sessionmaker, app.state.settings) == 1
    got = (await client.get(f"/v1/orders/{order['id']}", headers=headers)).json()
    assert got["status"] == "delivered" and got["signed_source"] == "auto" and got["signed_at"]
    assert await logistics_service.auto_confirm(app.state.sessionmaker, app.state.settings) == 0


async def test_late_shipment_flagged(client: httpx.AsyncClient) -> None:
    s = await f.shop(client, on_hand=10)
    headers = await f.customer(client)
    promise = await client.put("/v1/delivery-promise", headers=s.m.headers,
                               json={"ship_within_hours": 24, "delivery_days": 3})
    assert promise.status_code == 200, promise.text
    on_time, late = await _order(client, s, headers), await _order(client, s, headers)
    assert late["promised_ship_by"] and not late["late_shipment"]
    placed = datetime.fromisoformat(late["created_at"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(late["promised_ship_by"].replace("Z", "+00:00")) - placed == timedelta(hours=24)
    await client.post(f"/v1/orders/{on_time['id']}/shipments", headers=s.m.headers,
                      json={"carrier": "ZTO", "tracking_no": "731234567890"})
    clock.travel(timedelta(hours=25))
    waiting = (await client.get(f"/v1/orders/{late['id']}", headers=s.m.headers)).json()
    assert waiting["late_shipment"] is True  # not shipped by the promise
    shipped = await client.post(f"/v1/orders/{late['id']}/shipments", headers=s.m.headers,
                                json={"carrier": "ZTO", "tracking_no": "731234567891"})
    assert shipped.json()["late_shipment"] is True  # shipped after it
    assert (await client.get(f"/v1/orders/{on_time['id']}", headers=s.m.headers)).json()["late_shipment"] is False
    rep = (await client.get(f"/v1/merchants/{s.m.id}")).json()
    assert rep["credit_score"] is not None
