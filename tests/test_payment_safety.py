"""Payment safety (C27), end to end over HTTP on SQLite and PostgreSQL with the real Stripe SDK against the fake:
prices come from the catalogue only, callbacks are signature-checked and counted once, and money sent back
never exceeds money received."""

import asyncio
import json
import time

import httpx
from sqlalchemy import func, select

from app.core.models import OutboxEvent
from app.orders import payments as orders_payments
from app.orders.models import Order, Payment, ProcessedWebhook, Refund
from tests import factories as f
from tests.conftest import WEBHOOK_SECRET
from tests.fakes.stripe_server import FakeStripe, sign_payload


async def _send(client: httpx.AsyncClient, payload: bytes, signature: str | None) -> httpx.Response:
    headers = {"content-type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    return await client.post("/v1/payments/stripe/webhook", content=payload, headers=headers)


async def _checkout(client: httpx.AsyncClient, lines, headers: dict[str, str] | None = None, **kw) -> dict:
    r = await client.post("/v1/checkout", headers=headers or {},
                          json=f.checkout_body(lines, method="stripe", email=None if headers else "p@example.com",
                                               **kw))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _intent_of(fake_stripe: FakeStripe, out: dict) -> str:
    [pi_id] = [k for k, pi in fake_stripe.payment_intents.items()
               if pi["client_secret"] == out["payment"]["client_secret"]]
    return pi_id


async def _pay(client: httpx.AsyncClient, fake_stripe: FakeStripe, pi_id: str) -> None:
    payload, sig = fake_stripe.webhook("payment_intent.succeeded", fake_stripe.succeed(pi_id), WEBHOOK_SECRET)
    r = await _send(client, payload, sig)
    assert r.status_code == 200 and r.json()["status"] == "processed", r.text


async def _count(app, model, *where) -> int:
    async with app.state.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _refunds(app, order_ids: list[str]) -> list[Refund]:
    async with app.state.sessionmaker() as s:
        return list((await s.scalars(select(Refund).where(Refund.order_id.in_(order_ids)).order_by(Refund.id))).all())


async def _payment(app, payment_id: str) -> Payment:
    async with app.state.sessionmaker() as s:
        payment = await s.get(Payment, payment_id)
        assert payment is not None
        return payment


# ---- prices come from the catalogue ----------------------------------------------------------------------

async def test_prices_and_totals_sent_by_the_client_are_refused_and_nothing_is_created(
        client: httpx.AsyncClient, fake_stripe: FakeStripe, app, admin_headers):
    s = await f.shop(client, on_hand=5, price=19_900)
    before = await f.levels(app)

    def body(**extra) -> dict:
        b = f.checkout_body([(s.variant_id, 2)], method="stripe")
        b.update(extra)
        return b

    line_price = body()
    line_price["lines"][0].update(unit_price=1, total=2)
    attempts = {"lines.0.unit_price": line_price, "total": body(total=1), "subtotal": body(subtotal=1, discount=0),
                "amount": body(amount=1), "price": body(price=1)}
    for field, attempt in attempts.items():
        r = await client.post("/v1/checkout", json=attempt)
        assert r.status_code == 422, (field, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in {e["field"] for e in r.json()["errors"]}, r.json()
    # Nothing was reserved, ordered or charged.
    assert await f.levels(app) == before
    assert (await client.get("/v1/orders", headers=admin_headers)).json()["items"] == []
    assert fake_stripe.payment_intents == {}
    assert await _count(app, Payment) == 0
    # A cart line cannot carry a price either, nor a wholesale line or a group-buy join.
    cart = (await client.post("/v1/carts")).json()
    r = await client.post(f"/v1/carts/{cart['id']}/items",
                          json={"variant_id": s.variant_id, "quantity": 1, "price": 1})
    assert r.status_code == 422
    buyer = await f.buyer(client, s.m)
    r = await client.post("/v1/wholesale/orders", headers=buyer.headers, json={
        "merchant_id": s.m.id, "lines": [{"sku": s.sku, "quantity": 1, "unit_price": 1}]})
    assert r.status_code == 422 and any(e["field"].endswith("unit_price") for e in r.json()["errors"])

    # The same checkout without the forged fields is priced from the catalogue.
    out = await _checkout(client, [(s.variant_id, 2)])
    [order] = out["orders"]
    assert (order["subtotal"], order["shipping"], order["total"]) == (39_800, 0, 39_800)
    assert out["payment"]["amount"] == 39_800


async def test_the_payment_intent_asks_for_the_server_side_total(client: httpx.AsyncClient, fake_stripe: FakeStripe,
                                                                 app):
    a = await f.shop(client, on_hand=5, price=3_000)
    b = await f.shop(client, on_hand=5, price=12_000)
    promo = await client.post("/v1/promotions", headers=a.m.headers, json={
        "code": "TENOFF", "kind": "percent", "value": 10, "channels": ["online"],
        "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z"})
    assert promo.status_code == 201, promo.text
    out = await _checkout(client, [(a.variant_id, 2), (b.variant_id, 1)], coupon_code="TENOFF")
    totals = {o["merchant_id"]: (o["subtotal"], o["discount"], o["shipping"], o["total"]) for o in out["orders"]}
    # A: 2 × ¥30 = ¥60, 10 % off = ¥54, below ¥99 so ¥10 delivery: ¥64. B: ¥120, free delivery.
    assert totals == {a.m.id: (6_000, 600, 1_000, 6_400), b.m.id: (12_000, 0, 0, 12_000)}
    pi_id = _intent_of(fake_stripe, out)
    intent = fake_stripe.payment_intents[pi_id]
    assert intent["amount"] == out["payment"]["amount"] == 18_400 and intent["currency"] == "cny"
    assert (await _payment(app, out["payment"]["id"])).amount == 18_400
    [create] = fake_stripe.requests_to("POST", "/v1/payment_intents")
    assert int(create.params["amount"]) == 18_400


# ---- callbacks --------------------------------------------------------------------------------------------

async def test_forged_callbacks_are_refused_and_change_nothing(client: httpx.AsyncClient, fake_stripe: FakeStripe,
                                                                app):
    s = await f.shop(client, on_hand=5, price=10_000)
    out = await _checkout(client, [(s.variant_id, 1)])
    order_id = out["orders"][0]["id"]
    pi_id = _intent_of(fake_stripe, out)
    paid = fake_stripe.succeed(pi_id)
    payload, good_signature = fake_stripe.webhook("payment_intent.succeeded", paid, WEBHOOK_SECRET)
    event = json.loads(payload)
    event["data"]["object"]["amount_received"] = 1
    tampered = json.dumps(event).encode()
    stale = sign_payload(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 3_600)  # a replay an hour later
    forged = [(payload, sign_payload(payload, "whsec_guessed")), (tampered, good_signature), (payload, stale),
              (payload, None), (payload, "t=1,v1=00"), (b"{not json", sign_payload(b"{not json", WEBHOOK_SECRET))]
    for body, signature in forged:
        r = await _send(client, body, signature)
        assert r.status_code == 400, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    order = (await client.get(f"/v1/orders/{order_id}", headers=s.m.headers)).json()
    assert (order["status"], order["payment_status"]) == ("pending_payment", "unpaid")
    assert await _count(app, ProcessedWebhook) == 0  # a refused callback does not use up the event id
    assert await _count(app, OutboxEvent, OutboxEvent.kind == "order.paid") == 0
    assert (await _payment(app, out["payment"]["id"])).status == "pending"

    # A correctly signed event about a payment this platform never started changes nothing either.
    stranger, sig = fake_stripe.webhook("payment_intent.succeeded", {**paid, "id": "pi_not_ours"}, WEBHOOK_SECRET)
    assert (await _send(client, stranger, sig)).status_code == 200
    order = (await client.get(f"/v1/orders/{order_id}", headers=s.m.headers)).json()
    assert order["payment_status"] == "unpaid"

    assert (await _send(client, payload, good_signature)).json()["status"] == "processed"
    order = (await client.get(f"/v1/orders/{order_id}", headers=s.m.headers)).json()
    assert (order["status"], order["payment_status"]) == ("paid", "paid")


async def test_a_duplicate_callback_is_processed_once(client: httpx.AsyncClient, fake_stripe: FakeStripe, app):
    s = await f.shop(client, on_hand=5, price=10_000)
    out = await _checkout(client, [(s.variant_id, 1)])
    order_id = out["orders"][0]["id"]
    pi_id = _intent_of(fake_stripe, out)
    paid = fake_stripe.succeed(pi_id)
    payload, sig = fake_stripe.webhook("payment_intent.succeeded", paid, WEBHOOK_SECRET)
    results = await asyncio.gather(*[_send(client, payload, sig) for _ in range(5)])
    assert all(r.status_code == 200 for r in results), [r.text for r in results]
    assert sorted(r.json()["status"] for r in results) == ["duplicate"] * 4 + ["processed"]
    # Stripe may also announce the same payment again under a new event id: still paid once.
    again, sig2 = fake_stripe.webhook("payment_intent.succeeded", paid, WEBHOOK_SECRET)
    assert (await _send(client, again, sig2)).json()["status"] == "processed"
    assert await _count(app, OutboxEvent, OutboxEvent.kind == "order.paid") == 1
    assert await _count(app, ProcessedWebhook) == 2
    assert await _count(app, Refund) == 0
    order = (await client.get(f"/v1/orders/{order_id}", headers=s.m.headers)).json()
    assert (order["status"], order["payment_status"], order["refunded"]) == ("paid", "paid", 0)


# ---- refunds ----------------------------------------------------------------------------------------------

async def test_partial_returns_never_refund_more_than_was_paid(client: httpx.AsyncClient, fake_stripe: FakeStripe,
                                                               app):
    s = await f.shop(client, on_hand=10, price=3_000)
    customer = await f.customer(client)
    out = await _checkout(client, [(s.variant_id, 3)], headers=customer)
    [order] = out["orders"]
    assert order["total"] == 10_000  # 3 × ¥30 + ¥10 delivery
    pi_id = _intent_of(fake_stripe, out)
    await _pay(client, fake_stripe, pi_id)
    assert (await client.post(f"/v1/orders/{order['id']}/shipments", headers=s.m.headers,
                              json={"carrier": "SF", "tracking_no": "SF1234567890123"})).status_code == 201
    assert (await client.post(f"/v1/orders/{order['id']}/deliver", headers=s.m.headers)).status_code == 200

    async def give_back(quantity: int) -> httpx.Response:
        return await client.post(f"/v1/orders/{order['id']}/returns", headers=customer,
                                 json={"lines": [{"variant_id": s.variant_id, "quantity": quantity}]})

    first = await give_back(1)
    assert first.status_code == 201, first.text
    # Two requests for the last two units at once, then one more than is left: each unit is refunded once.
    racing = await asyncio.gather(give_back(2), give_back(2))
    assert sorted(r.status_code for r in racing) == [201, 422], [r.text for r in racing]
    assert (await give_back(1)).status_code == 422
    assert (await client.post(f"/v1/orders/{order['id']}/cancel", headers=customer)).status_code == 409

    refunds = await _refunds(app, [order["id"]])
    paid = (await _payment(app, out["payment"]["id"])).amount
    assert [r.amount for r in refunds] == [3_000, 6_000] and sum(r.amount for r in refunds) <= paid == 10_000
    assert fake_stripe.refunded_amount(pi_id) == 9_000
    final = (await client.get(f"/v1/orders/{order['id']}", headers=customer)).json()
    assert (final["refunded"], final["payment_status"]) == (9_000, "partially_refunded")


async def test_cancelling_a_checkout_paid_at_once_refunds_each_order_once(client: httpx.AsyncClient,
                                                                          fake_stripe: FakeStripe, app):
    a = await f.shop(client, on_hand=5, price=25_000)
    b = await f.shop(client, on_hand=5, price=4_000)
    customer = await f.customer(client)
    out = await _checkout(client, [(a.variant_id, 1), (b.variant_id, 2)], headers=customer)
    pi_id = _intent_of(fake_stripe, out)
    await _pay(client, fake_stripe, pi_id)
    ids = [o["id"] for o in out["orders"]]
    # The same cancel sent three times at once (a double tap, a retry): one succeeds.
    racing = await asyncio.gather(*[client.post(f"/v1/orders/{ids[0]}/cancel", headers=customer)
                                    for _ in range(3)])
    assert sorted(r.status_code for r in racing) == [200, 409, 409], [r.text for r in racing]
    assert (await client.post(f"/v1/orders/{ids[1]}/cancel", headers=customer)).status_code == 200
    refunds = await _refunds(app, ids)
    paid = (await _payment(app, out["payment"]["id"])).amount
    assert len(refunds) == 2 and sum(r.amount for r in refunds) == paid == sum(o["total"] for o in out["orders"])
    assert {r.status for r in refunds} == {"succeeded"}
    assert fake_stripe.refunded_amount(pi_id) == paid
    assert await _count(app, OutboxEvent, OutboxEvent.kind == "refund.succeeded") == 2


async def test_a_payment_that_lands_after_a_cancel_is_refunded_once(client: httpx.AsyncClient,
                                                                    fake_stripe: FakeStripe, app):
    s = await f.shop(client, on_hand=5, price=15_000)
    customer = await f.customer(client)
    out = await _checkout(client, [(s.variant_id, 1)], headers=customer)
    order_id = out["orders"][0]["id"]
    pi_id = _intent_of(fake_stripe, out)
    paid = fake_stripe.succeed(pi_id)  # the customer paid just as they cancelled
    cancelled = await client.post(f"/v1/orders/{order_id}/cancel", headers=customer)
    assert cancelled.status_code == 200 and cancelled.json()["refunded"] == 0
    for _ in range(2):  # the event, its redelivery, and the same payment under a new event id
        payload, sig = fake_stripe.webhook("payment_intent.succeeded", paid, WEBHOOK_SECRET)
        for _ in range(2):
            assert (await _send(client, payload, sig)).status_code == 200
    refunds = await _refunds(app, [order_id])
    assert [(r.amount, r.reason) for r in refunds] == [(15_000, "paid_after_cancel")]
    assert fake_stripe.refunded_amount(pi_id) == 15_000 == (await _payment(app, out["payment"]["id"])).amount
    async with app.state.sessionmaker() as session:
        order = await session.get(Order, order_id)
        assert order is not None and (order.refunded, order.payment_status) == (15_000, "refunded")


async def test_replaying_a_refund_does_not_pay_it_twice(client: httpx.AsyncClient, fake_stripe: FakeStripe, app):
    s = await f.shop(client, on_hand=5, price=20_000)
    customer = await f.customer(client)
    settings = app.state.settings
    outs = [await _checkout(client, [(s.variant_id, 1)], headers=customer) for _ in range(2)]
    intents = [_intent_of(fake_stripe, out) for out in outs]
    for pi_id in intents:
        await _pay(client, fake_stripe, pi_id)
    ids = [out["orders"][0]["id"] for out in outs]
    # The provider fails while the cancels are processed: the refunds stay pending, owed but not yet sent.
    for order_id in ids:
        fake_stripe.inject_error(status=400, type="api_error", message="temporarily unavailable")
        r = await client.post(f"/v1/orders/{order_id}/cancel", headers=customer)
        assert r.status_code == 200 and r.json()["refunded"] == 20_000
    first, second = await _refunds(app, ids)
    assert (first.status, second.status) == ("pending", "pending") and fake_stripe.refunds == {}

    # The retry job runs twice in a row: the first sends the refunds, the second finds nothing to do.
    assert await orders_payments.retry_refunds(app.state.sessionmaker, settings) == 2
    assert await orders_payments.retry_refunds(app.state.sessionmaker, settings) == 0
    async with app.state.sessionmaker() as session:  # a stray replay of an already settled refund
        assert await orders_payments.settle_refunds(session, settings=settings, refund_ids=[first.id])
    assert [fake_stripe.refunded_amount(pi) for pi in intents] == [20_000, 20_000]
    assert len(fake_stripe.refunds) == 2

    # Two workers settling the same pending refund at the same moment: one refund at the provider, one event.
    third = await _checkout(client, [(s.variant_id, 1)], headers=customer)
    pi3 = _intent_of(fake_stripe, third)
    await _pay(client, fake_stripe, pi3)
    fake_stripe.inject_error(status=400, type="api_error", message="temporarily unavailable")
    assert (await client.post(f"/v1/orders/{third['orders'][0]['id']}/cancel", headers=customer)).status_code == 200
    [pending] = await _refunds(app, [third["orders"][0]["id"]])
    assert pending.status == "pending"

    async def settle() -> bool:
        async with app.state.sessionmaker() as session:
            return await orders_payments.settle_refunds(session, settings=settings, refund_ids=[pending.id])

    assert all(await asyncio.gather(settle(), settle()))
    assert fake_stripe.refunded_amount(pi3) == 20_000 and len(fake_stripe.refunds) == 3
    async with app.state.sessionmaker() as session:
        settled = await session.scalar(select(func.count()).select_from(OutboxEvent).where(
            OutboxEvent.kind == "refund.succeeded", OutboxEvent.payload["refund_id"].as_string() == pending.id))
    assert settled == 1
    [done] = await _refunds(app, [third["orders"][0]["id"]])
    assert done.status == "succeeded"
