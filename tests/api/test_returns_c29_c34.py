"""7-day no-reason returns done right (COMPLIANCE C29–C34), through the HTTP API on SQLite and PostgreSQL.

One test per rule: the Shanghai window, return classes on listings (labels, no free text), confirmation at
checkout, refund on receipt with the automatic refund on day 7 and coded rejections, refunds split over the
payment legs with the coupon given back, and who pays return shipping.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx

from app.core import clock
from app.core.clock import SHANGHAI
from app.orders import rules
from app.orders.returns import service as orders_returns
from tests import factories as f
from tests.conftest import WEBHOOK_SECRET

PHOTO = "https://img.example.com/returns/seal-broken-1.jpg"


# ---- helpers ---------------------------------------------------------------------------------------------

async def _listing(client: httpx.AsyncClient, m: f.MerchantCtx, wh: dict[str, Any], *, price: int = 10_000,
                   on_hand: int = 20, **extra: Any) -> dict[str, Any]:
    p = await f.product(client, m, price=price, **extra)
    for v in p["variants"]:
        await f.stock(client, m, wh, v["sku"], on_hand)
    return p


async def _buy(client: httpx.AsyncClient, headers: dict[str, str], lines: list[tuple[str, int]],
               **extra: Any) -> dict[str, Any]:
    r = await client.post("/v1/checkout", headers=headers, json=f.checkout_body(lines, email=None, **extra))
    assert r.status_code == 201, r.text
    return dict(r.json()["orders"][0])


async def _deliver(client: httpx.AsyncClient, m: f.MerchantCtx, order_id: str) -> dict[str, Any]:
    s = await client.post(f"/v1/orders/{order_id}/shipments", headers=m.headers,
                          json={"carrier": "SF", "tracking_no": "SF1234567890123"})
    assert s.status_code == 201, s.text
    d = await client.post(f"/v1/orders/{order_id}/deliver", headers=m.headers)
    assert d.status_code == 200, d.text
    return dict(d.json())


async def _return(client: httpx.AsyncClient, headers: dict[str, str], order_id: str,
                  lines: list[tuple[str, int]], **extra: Any) -> httpx.Response:
    return await client.post(f"/v1/orders/{order_id}/returns", headers=headers,
                             json={"lines": [{"variant_id": v, "quantity": q} for v, q in lines], **extra})


async def _refund_on_receipt(client: httpx.AsyncClient, m: f.MerchantCtx, **extra: Any) -> dict[str, Any]:
    r = await client.put("/v1/return-policy", headers=m.headers, json={
        "refund_on": "receipt", "return_address": f.address(name="退货部", line1="嘉定区 退货仓 8 号"), **extra})
    assert r.status_code == 200, r.text
    return dict(r.json())


async def _promotion(client: httpx.AsyncClient, m: f.MerchantCtx, code: str, *, kind: str, value: int,
                     usage_limit: int) -> None:
    r = await client.post("/v1/promotions", headers=m.headers, json={
        "code": code, "kind": kind, "value": value, "channels": ["online"], "starts_at": "2020-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z", "usage_limit": usage_limit})
    assert r.status_code == 201, r.text


async def _used(client: httpx.AsyncClient, m: f.MerchantCtx, code: str) -> int:
    promos = (await client.get("/v1/promotions", headers=m.headers)).json()["items"]
    return int(next(p["used_count"] for p in promos if p["code"] == code))


async def _returns(client: httpx.AsyncClient, headers: dict[str, str], order_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/orders/{order_id}/returns", headers=headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


async def _run_refund_job(app: Any) -> int:
    return await orders_returns.refund_due_returns(app.state.sessionmaker, app.state.settings)


# ---- C29: the window -------------------------------------------------------------------------------------

async def test_no_reason_return_is_accepted_at_2359_on_day_7_and_refused_at_midnight(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=10, price=8_800)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 2)])
    delivered = await _deliver(client, s.m, order["id"])
    delivered_local = datetime.fromisoformat(delivered["delivered_at"]).astimezone(SHANGHAI)
    day_8 = datetime.combine(delivered_local.date() + timedelta(days=8), datetime.min.time(), tzinfo=SHANGHAI)
    clock.travel(day_8 - timedelta(minutes=1) - clock.utcnow())
    now_local = clock.utcnow().astimezone(SHANGHAI)
    assert (now_local.date() - delivered_local.date()).days == 7 and (now_local.hour, now_local.minute) == (23, 59)
    ok = await _return(client, buyer, order["id"], [(s.variant_id, 1)])
    assert ok.status_code == 201, ok.text
    assert ok.json()["status"] == "refunded" and ok.json()["requested_at"] is not None
    clock.travel(day_8 - clock.utcnow())  # 00:00 on day 8, Shanghai
    late = await _return(client, buyer, order["id"], [(s.variant_id, 1)])
    assert late.status_code == 422 and "7-day return window has ended" in late.json()["detail"]
    assert len(await _returns(client, buyer, order["id"])) == 1


# ---- C30: return classes on the listing ------------------------------------------------------------------

async def test_listing_shows_its_return_class_in_plain_words(client: httpx.AsyncClient):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    custom = await _listing(client, m, wh, return_class="statutory_excluded", return_reason="custom_made")
    assert (custom["return_class"], custom["return_reason"]) == ("statutory_excluded", "custom_made")
    assert custom["return_label"] == {"zh": "定制商品，不支持7天无理由退货",
                                      "en": "Made to order: no 7-day no-reason returns"}
    plain = await _listing(client, m, wh)
    assert plain["return_class"] == "standard" and plain["return_reason"] is None
    assert plain["return_label"]["zh"] == "支持7天无理由退货"
    fresh = await _listing(client, m, wh, category="fresh")
    assert "不支持7天无理由退货" in fresh["return_label"]["zh"]
    # The public product, the public listing (built in SQL on PostgreSQL) and the storefront page say the same.
    got = (await client.get(f"/v1/products/{custom['id']}")).json()
    assert got["return_label"] == custom["return_label"] and got["return_class"] == "statutory_excluded"
    listed = {p["id"]: p for p in (await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"]}
    assert {pid: (p["return_class"], p["return_reason"], p["return_label"]) for pid, p in listed.items()} == {
        p["id"]: (p["return_class"], p["return_reason"], p["return_label"]) for p in (custom, plain, fresh)}
    page_zh = await client.get(f"/products/{custom['id']}")
    assert page_zh.status_code == 200 and "定制商品，不支持7天无理由退货" in page_zh.text
    page_en = await client.get(f"/products/{custom['id']}", params={"lang": "en"})
    assert "Made to order: no 7-day no-reason returns" in page_en.text


async def test_a_seller_cannot_widen_the_exclusions_with_free_text(client: httpx.AsyncClient):
    m = await f.merchant(client)
    for extra, field in (({"return_class": "no_returns_ever"}, "return_class"),
                         ({"return_class": "statutory_excluded", "return_reason": "clearance sale"}, "return_reason"),
                         ({"return_class": "statutory_excluded", "return_reason": "unsafe_once_unsealed"},
                          "return_reason"),
                         ({"return_class": "confirm_required"}, "return_reason"),
                         ({"return_class": "standard", "return_reason": "fresh"}, "return_reason")):
        r = await client.post("/v1/products", headers=m.headers, json=f.product_body(**extra))
        assert r.status_code == 422, (extra, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, (extra, r.json())
    p = await f.product(client, m)
    bad = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"return_reason": "final sale"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "return_reason"
    lonely = await client.patch(f"/v1/products/{p['id']}", headers=m.headers,
                                json={"return_class": "confirm_required"})
    assert lonely.status_code == 422 and lonely.json()["errors"][0]["field"] == "return_reason"
    ok = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={
        "return_class": "confirm_required", "return_reason": "value_lost_once_activated"})
    assert ok.status_code == 200, ok.text
    assert (ok.json()["return_class"], ok.json()["return_reason"]) == ("confirm_required", "value_lost_once_activated")
    back = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"return_class": "standard"})
    assert (back.json()["return_class"], back.json()["return_reason"]) == ("standard", None)


async def test_statutory_exclusion_refuses_no_reason_returns_but_not_quality_returns(client: httpx.AsyncClient):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    p = await _listing(client, m, wh, return_class="statutory_excluded", return_reason="periodical")
    variant = p["variants"][0]["id"]
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(variant, 1)])
    await _deliver(client, m, order["id"])
    refused = await _return(client, buyer, order["id"], [(variant, 1)])
    assert refused.status_code == 422 and "periodical goods are excluded" in refused.json()["detail"]
    quality = await _return(client, buyer, order["id"], [(variant, 1)], kind="quality", reason="印刷错页")
    assert quality.status_code == 201, quality.text
    assert quality.json()["kind"] == "quality" and quality.json()["shipping_payer"] == "seller"


async def test_confirm_required_is_refused_only_when_confirmed_at_checkout(client: httpx.AsyncClient):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    p = await _listing(client, m, wh, price=30_000, return_class="confirm_required",
                       return_reason="unsafe_once_unsealed")
    variant = p["variants"][0]["id"]
    buyer = await f.customer(client)
    confirmed = await _buy(client, buyer, [(variant, 1)], confirm_return_exclusions=True)
    unconfirmed = await _buy(client, buyer, [(variant, 1)])
    [line] = confirmed["lines"]
    assert line["return_class"] == "confirm_required" and line["return_reason"] == "unsafe_once_unsealed"
    assert line["return_exclusion_confirmed_at"] is not None
    assert unconfirmed["lines"][0]["return_exclusion_confirmed_at"] is None
    for order in (confirmed, unconfirmed):
        await _deliver(client, m, order["id"])
    # The seller relaxing the listing later changes nothing: the order line keeps what was bought.
    relaxed = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"return_class": "standard"})
    assert relaxed.status_code == 200
    refused = await _return(client, buyer, confirmed["id"], [(variant, 1)])
    assert refused.status_code == 422
    assert "you confirmed at purchase" in refused.json()["detail"]
    accepted = await _return(client, buyer, unconfirmed["id"], [(variant, 1)])
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["status"] == "refunded" and accepted.json()["amount"] == 30_000


# ---- C32: refund on receipt ------------------------------------------------------------------------------

async def test_refund_fires_on_day_7_after_receipt_when_the_seller_stays_silent(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10, price=6_000)
    policy = await _refund_on_receipt(client, s.m)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 2)])
    await _deliver(client, s.m, order["id"])
    before = await f.levels(app)
    r = await _return(client, buyer, order["id"], [(s.variant_id, 2)], reason="尺码不合适")
    assert r.status_code == 201, r.text
    ret = r.json()
    assert ret["status"] == "awaiting_goods" and ret["refund_on"] == "receipt" and ret["amount"] == 12_000
    sent_to = ret["return_address"]["address"]
    assert (sent_to["name"], sent_to["line1"]) == (policy["return_address"]["name"], "嘉定区 退货仓 8 号")
    assert ret["return_address"]["email"].endswith("@example.com")
    assert ret["requested_at"] is not None and ret["refund_due_at"] is None
    got = (await client.get(f"/v1/orders/{order['id']}", headers=buyer)).json()
    assert got["refunded"] == 0 and await f.levels(app) == before
    # Only the merchant records receipt.
    path = f"/v1/orders/{order['id']}/returns/{ret['id']}"
    assert (await client.post(f"{path}/receive", headers=buyer)).status_code == 403
    received = await client.post(f"{path}/receive", headers=s.m.headers)
    assert received.status_code == 200, received.text
    received_at = datetime.fromisoformat(received.json()["received_at"])
    assert datetime.fromisoformat(received.json()["refund_due_at"]) == received_at + timedelta(days=7)
    assert await _run_refund_job(app) == 0
    clock.travel(timedelta(days=7) - timedelta(minutes=1))
    assert await _run_refund_job(app) == 0
    [waiting] = await _returns(client, buyer, order["id"])
    assert waiting["status"] == "received" and not waiting["escalated"]
    clock.travel(timedelta(minutes=2))
    [late] = await _returns(client, s.m.headers, order["id"])
    assert late["escalated"] and not late["alert"]  # day 7 passed unpaid: the platform steps in
    assert await _run_refund_job(app) == 1
    assert await _run_refund_job(app) == 0  # paid once
    [done] = await _returns(client, buyer, order["id"])
    assert done["status"] == "refunded" and done["refunded_at"] is not None and not done["escalated"]
    assert [h["status"] for h in done["history"]] == ["awaiting_goods", "received", "refund_pending", "refunded"]
    assert [h["actor"] for h in done["history"]] == ["customer", "merchant", "system", "system"]
    got = (await client.get(f"/v1/orders/{order['id']}", headers=buyer)).json()
    assert got["refunded"] == 12_000 and got["payment_status"] == "refunded"
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (10, 0)  # both units back on hand
    assert await f.levels(app) == await f.ledger(app)


async def test_a_coded_rejection_with_photos_blocks_the_automatic_refund(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10, price=6_000)
    await _refund_on_receipt(client, s.m)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 1)])
    await _deliver(client, s.m, order["id"])
    ret = (await _return(client, buyer, order["id"], [(s.variant_id, 1)])).json()
    path = f"/v1/orders/{order['id']}/returns/{ret['id']}"
    early = await client.post(f"{path}/reject", headers=s.m.headers,
                              json={"code": "hygiene_seal_broken", "evidence": [PHOTO]})
    assert early.status_code == 409  # nothing to inspect before the goods arrive
    await client.post(f"{path}/receive", headers=s.m.headers)
    before = await f.levels(app)
    rejected = await client.post(f"{path}/reject", headers=s.m.headers, json={
        "code": "hygiene_seal_broken", "evidence": [PHOTO], "note": "密封贴已撕开"})
    assert rejected.status_code == 200, rejected.text
    body = rejected.json()
    assert body["status"] == "rejected" and body["rejection_code"] == "hygiene_seal_broken"
    assert body["evidence"] == [PHOTO]
    clock.travel(timedelta(days=8))
    assert await _run_refund_job(app) == 0
    got = (await client.get(f"/v1/orders/{order['id']}", headers=buyer)).json()
    assert got["refunded"] == 0 and got["lines"][0]["returned_quantity"] == 0
    assert await f.levels(app) == before  # refused goods are not put back on sale
    assert (await client.post(f"{path}/approve", headers=s.m.headers)).status_code == 409


async def test_a_rejection_without_a_valid_code_or_photos_is_422(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10)
    await _refund_on_receipt(client, s.m)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 1)])
    await _deliver(client, s.m, order["id"])
    ret = (await _return(client, buyer, order["id"], [(s.variant_id, 1)])).json()
    path = f"/v1/orders/{order['id']}/returns/{ret['id']}"
    assert (await client.post(f"{path}/receive", headers=s.m.headers)).status_code == 200
    for body, field in (({"evidence": [PHOTO]}, "code"),
                        ({"code": "looks_used", "evidence": [PHOTO]}, "code"),
                        ({"code": "tags_removed_or_soiled"}, "evidence"),
                        ({"code": "tags_removed_or_soiled", "evidence": []}, "evidence"),
                        ({"code": "tags_removed_or_soiled", "evidence": ["see attached"]}, "evidence.0")):
        r = await client.post(f"{path}/reject", headers=s.m.headers, json=body)
        assert r.status_code == 422, (body, r.text)
        assert field in {e["field"] for e in r.json()["errors"]}, (body, r.json())
    [still] = await _returns(client, s.m.headers, order["id"])
    assert still["status"] == "received"
    clock.travel(timedelta(days=7, minutes=1))
    assert await _run_refund_job(app) == 1  # the refused rejections did not stop the refund


async def test_merchant_may_approve_before_the_goods_arrive(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10, price=5_000)
    await _refund_on_receipt(client, s.m)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 1)])
    await _deliver(client, s.m, order["id"])
    ret = (await _return(client, buyer, order["id"], [(s.variant_id, 1)])).json()
    path = f"/v1/orders/{order['id']}/returns/{ret['id']}"
    approved = await client.post(f"{path}/approve", headers=s.m.headers)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "refunded" and approved.json()["amount"] == 5_000
    level = (await f.levels(app))[(s.warehouse["id"], s.variant_id)]
    assert level == (9, 0)  # refunded, but the goods are not back yet
    await client.post(f"{path}/receive", headers=s.m.headers)
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (10, 0)
    assert await f.levels(app) == await f.ledger(app)
    # Nobody else's business.
    other = await f.customer(client)
    assert (await client.get(f"/v1/orders/{order['id']}/returns", headers=other)).status_code == 404
    assert (await client.post(f"{path}/approve", headers=(await f.merchant(client)).headers)).status_code == 404


# ---- C33: refund legs ------------------------------------------------------------------------------------

async def test_card_leg_is_refunded_through_stripe_and_the_coupon_comes_back(client: httpx.AsyncClient,
                                                                            fake_stripe):
    s = await f.shop(client, on_hand=10, price=15_000)
    await _promotion(client, s.m, "SPRING50", kind="amount", value=5_000, usage_limit=1)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 1)], method="stripe", coupon_code="spring50")
    assert (order["subtotal"], order["discount"], order["shipping"], order["total"]) == (15_000, 5_000, 0, 10_000)
    assert await _used(client, s.m, "SPRING50") == 1
    [pi_id] = fake_stripe.payment_intents
    payload, sig = fake_stripe.webhook("payment_intent.succeeded", fake_stripe.succeed(pi_id), WEBHOOK_SECRET)
    assert (await client.post("/v1/payments/stripe/webhook", content=payload,
                              headers={"Stripe-Signature": sig})).status_code == 200
    await _deliver(client, s.m, order["id"])
    r = await _return(client, buyer, order["id"], [(s.variant_id, 1)])
    assert r.status_code == 201, r.text
    assert (r.json()["status"], r.json()["amount"], r.json()["coupon_amount"]) == ("refunded", 10_000, 5_000)
    assert [x["amount"] for x in fake_stripe.refunds.values()] == [10_000]
    assert fake_stripe.refunded_amount(pi_id) == 10_000
    assert await _used(client, s.m, "SPRING50") == 0
    # The returned unit sells again only under a condition label (C35).
    assert (await client.patch(f"/v1/products/{s.product['id']}", headers=s.m.headers, json={
        "variants": [{"sku": s.sku, "condition_label": "二次销售"}]})).status_code == 200
    again = await client.post("/v1/checkout", headers=buyer, json=f.checkout_body(
        [(s.variant_id, 1)], email=None, coupon_code="SPRING50"))
    assert again.status_code == 201, again.text
    assert again.json()["orders"][0]["discount"] == 5_000


async def test_partial_returns_of_a_discounted_order_add_up_exactly(client: httpx.AsyncClient):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    a = (await _listing(client, m, wh, price=3_333))["variants"][0]["id"]
    b = (await _listing(client, m, wh, price=5_001))["variants"][0]["id"]
    await _promotion(client, m, "MINUS10", kind="amount", value=1_000, usage_limit=5)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(a, 3), (b, 1)], coupon_code="MINUS10")
    await _buy(client, buyer, [(a, 1)], coupon_code="MINUS10")  # a second use stays counted
    lines = {ln["variant_id"]: ln for ln in order["lines"]}
    assert (lines[a]["discount"], lines[a]["total"]) == (667, 9_332)
    assert (lines[b]["discount"], lines[b]["total"]) == (333, 4_668)
    assert order["total"] == 14_000
    await _deliver(client, m, order["id"])
    assert await _used(client, m, "MINUS10") == 2
    got = []
    for batch in ([(a, 1)], [(a, 1)], [(a, 1), (b, 1)]):
        r = await _return(client, buyer, order["id"], batch)
        assert r.status_code == 201, r.text
        got.append([(x["variant_id"], x["amount"], x["coupon"]) for x in r.json()["lines"]])
    # 3,333 of goods over the line's legs (9,332 paid, 667 coupon): each step is the cumulative split's increment.
    assert got == [[(a, 3_111, 222)], [(a, 3_110, 223)], sorted([(a, 3_111, 222), (b, 4_668, 333)])]
    final = (await client.get(f"/v1/orders/{order['id']}", headers=buyer)).json()
    assert final["refunded"] == 14_000 == final["total"] and final["payment_status"] == "refunded"
    assert await _used(client, m, "MINUS10") == 1  # given back once, for the whole order
    more = await _return(client, buyer, order["id"], [(a, 1)])
    assert more.status_code == 422
    assert await _used(client, m, "MINUS10") == 1


async def test_cancelling_gives_the_coupon_back_once(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=10, price=10_000)
    await _promotion(client, s.m, "ONCE", kind="percent", value=10, usage_limit=1)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 1)], coupon_code="ONCE")
    assert await _used(client, s.m, "ONCE") == 1
    assert (await client.post(f"/v1/orders/{order['id']}/cancel", headers=buyer)).status_code == 200
    assert await _used(client, s.m, "ONCE") == 0
    assert (await client.post(f"/v1/orders/{order['id']}/cancel", headers=buyer)).status_code == 409
    assert await _used(client, s.m, "ONCE") == 0
    await _buy(client, buyer, [(s.variant_id, 1)], coupon_code="ONCE")
    assert await _used(client, s.m, "ONCE") == 1


# ---- C34: reasons and return shipping --------------------------------------------------------------------

async def test_quality_returns_charge_the_seller_and_no_reason_returns_the_buyer(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=10)
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 3)])
    await _deliver(client, s.m, order["id"])
    plain = await _return(client, buyer, order["id"], [(s.variant_id, 1)], reason="不喜欢")
    assert plain.status_code == 201, plain.text
    assert (plain.json()["kind"], plain.json()["shipping_payer"]) == ("no_reason", "buyer")
    clock.travel(timedelta(days=10))  # past the 7 days: quality returns follow the 15-day warranty window
    quality = await _return(client, buyer, order["id"], [(s.variant_id, 1)], kind="quality", reason="拉链坏了")
    assert quality.status_code == 201, quality.text
    assert (quality.json()["kind"], quality.json()["shipping_payer"]) == ("quality", "seller")
    late_plain = await _return(client, buyer, order["id"], [(s.variant_id, 1)])
    assert late_plain.status_code == 422
    clock.travel(timedelta(days=6))
    late_quality = await _return(client, buyer, order["id"], [(s.variant_id, 1)], kind="quality")
    assert late_quality.status_code == 422 and "15-day" in late_quality.json()["detail"]
    bad_kind = await _return(client, buyer, order["id"], [(s.variant_id, 1)], kind="changed_my_mind")
    assert bad_kind.status_code == 422 and bad_kind.json()["errors"][0]["field"] == "kind"


async def test_free_return_shipping_promise_moves_no_reason_shipping_to_the_seller(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=10)
    policy = await client.put("/v1/return-policy", headers=s.m.headers, json={"free_return_shipping": True})
    assert policy.status_code == 200 and policy.json()["refund_on"] == "request"
    assert (await client.get("/v1/return-policy", headers=s.m.headers)).json()["free_return_shipping"] is True
    no_address = await client.put("/v1/return-policy", headers=s.m.headers, json={"refund_on": "receipt"})
    assert no_address.status_code == 422 and no_address.json()["errors"][0]["field"] == "return_address"
    buyer = await f.customer(client)
    order = await _buy(client, buyer, [(s.variant_id, 1)])
    await _deliver(client, s.m, order["id"])
    r = await _return(client, buyer, order["id"], [(s.variant_id, 1)])
    assert r.status_code == 201, r.text
    assert r.json()["shipping_payer"] == "seller" and r.json()["status"] == "refunded"
    # Without a return address on the policy, the warehouse's address is the one buyers get.
    assert r.json()["return_address"]["address"]["line1"] == s.warehouse["address"]["line1"]


def test_the_refund_job_runs_inside_serve_and_from_the_cli():
    from typer.testing import CliRunner

    from app.cli import cli
    from app.jobs import all_jobs

    assert any(j.run is orders_returns.refund_due_returns for j in all_jobs())
    assert "refund-due-returns" in CliRunner().invoke(cli, ["--help"]).output
    assert rules.REFUND_DAYS_AFTER_RECEIPT == 7
