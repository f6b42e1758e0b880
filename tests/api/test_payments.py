"""Stripe through the real SDK against the local fake; webhooks verified with the SDK's signature check."""

from datetime import timedelta

import httpx

from app.core import clock
from app.orders.cancellation import expire_holds
from tests import factories as f
from tests.conftest import WEBHOOK_SECRET
from tests.fakes.stripe_server import FakeStripe, sign_payload


async def _stripe_checkout(client: httpx.AsyncClient, lines, **kw):
    r = await client.post("/v1/checkout", json=f.checkout_body(lines, method="stripe", **kw))
    assert r.status_code == 201, r.text
    return r.json()


async def _send(client: httpx.AsyncClient, payload: bytes, signature: str) -> httpx.Response:
    return await client.post("/v1/payments/stripe/webhook", content=payload,
                             headers={"Stripe-Signature": signature, "content-type": "application/json"})


async def test_stripe_checkout_creates_one_intent_for_all_orders(client: httpx.AsyncClient, fake_stripe: FakeStripe):
    a = await f.shop(client, on_hand=5, price=30_000)
    b = await f.shop(client, on_hand=5, price=5_000)
    out = await _stripe_checkout(client, [(a.variant_id, 1), (b.variant_id, 1)])
    assert all(o["status"] == "pending_payment" and o["hold_expires_at"] for o in out["orders"])
    total = sum(o["total"] for o in out["orders"])
    assert out["payment"]["amount"] == total and out["payment"]["client_secret"].startswith("pi_")
    [intent] = fake_stripe.payment_intents.values()
    assert intent["amount"] == total and intent["currency"] == "cny"
    assert intent["client_secret"] == out["payment"]["client_secret"]


async def test_webhook_marks_paid_once_and_rejects_bad_signatures(client: httpx.AsyncClient, fake_stripe: FakeStripe,
                                                                  app):
    s = await f.shop(client, on_hand=5)
    out = await _stripe_checkout(client, [(s.variant_id, 1)])
    order_id = out["orders"][0]["id"]
    [pi_id] = fake_stripe.payment_intents
    paid_intent = fake_stripe.succeed(pi_id)
    payload, signature = fake_stripe.webhook("payment_intent.succeeded", paid_intent, WEBHOOK_SECRET)

    bad = await _send(client, payload, sign_payload(payload, "whsec_wrong"))
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    tampered = await _send(client, payload.replace(b'"succeeded"', b'"SUCCEEDED"'), signature)
    assert tampered.status_code == 400
    missing = await client.post("/v1/payments/stripe/webhook", content=payload)
    assert missing.status_code == 400
    order = (await client.get(f"/v1/orders/{order_id}", headers=s.m.headers)).json()
    assert order["status"] == "pending_payment" and order["payment_status"] == "unpaid"

    first = await _send(client, payload, signature)
    assert first.status_code == 200 and first.json()["status"] == "processed"
    again = await _send(client, payload, signature)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    order = (await client.get(f"/v1/orders/{order_id}", headers=s.m.headers)).json()
    assert order["status"] == "paid" and order["payment_status"] == "paid" and order["hold_expires_at"] is None
    from sqlalchemy import func, select

    from app.core.models import OutboxEvent
    async with app.state.sessionmaker() as session:
        paid_events = await session.scalar(select(func.count()).select_from(OutboxEvent)
                                           .where(OutboxEvent.kind == "order.paid"))
    assert paid_events == 1


async def test_cancelling_a_paid_order_refunds_through_stripe(client: httpx.AsyncClient, fake_stripe: FakeStripe,
                                                              app):
    s = await f.shop(client, on_hand=5, price=25_000)
    headers = await f.customer(client)
    r = await client.post("/v1/checkout", headers=headers,
                          json=f.checkout_body([(s.variant_id, 2)], method="stripe", email=None))
    order = r.json()["orders"][0]
    [pi_id] = fake_stripe.payment_intents
    payload, sig = fake_stripe.webhook("payment_intent.succeeded", fake_stripe.succeed(pi_id), WEBHOOK_SECRET)
    assert (await _send(client, payload, sig)).status_code == 200
    c = await client.post(f"/v1/orders/{order['id']}/cancel", headers=headers, json={"reason": "changed my mind"})
    assert c.status_code == 200
    assert c.json()["status"] == "cancelled" and c.json()["payment_status"] == "refunded"
    assert c.json()["refunded"] == order["total"] == 50_000
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == 50_000 and refund["payment_intent"] == pi_id
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (5, 0)


async def test_unpaid_orders_release_stock_when_the_hold_expires(client: httpx.AsyncClient, fake_stripe: FakeStripe,
                                                                 app):
    s = await f.shop(client, on_hand=3)
    out = await _stripe_checkout(client, [(s.variant_id, 3)])
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (3, 3)
    settings = app.state.settings
    assert await expire_holds(app.state.sessionmaker, settings) == 0  # not yet
    clock.travel(timedelta(minutes=settings.shop_order_hold_minutes + 1))
    assert await expire_holds(app.state.sessionmaker, settings) == 1
    assert await expire_holds(app.state.sessionmaker, settings) == 0  # each order once
    order = (await client.get(f"/v1/orders/{out['orders'][0]['id']}", headers=s.m.headers)).json()
    assert order["status"] == "cancelled" and order["cancel_reason"] == "payment not received in time"
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (3, 0)
    [intent] = fake_stripe.payment_intents.values()
    assert intent["status"] == "canceled"
    assert await f.levels(app) == await f.ledger(app)


async def test_payment_arriving_after_expiry_is_refunded(client: httpx.AsyncClient, fake_stripe: FakeStripe, app):
    s = await f.shop(client, on_hand=3, price=10_000)
    out = await _stripe_checkout(client, [(s.variant_id, 1)])
    [pi_id] = fake_stripe.payment_intents
    paid = fake_stripe.succeed(pi_id)  # paid at the last second, webhook delayed
    clock.travel(timedelta(minutes=app.state.settings.shop_order_hold_minutes + 1))
    await expire_holds(app.state.sessionmaker, app.state.settings)
    payload, sig = fake_stripe.webhook("payment_intent.succeeded", paid, WEBHOOK_SECRET)
    assert (await _send(client, payload, sig)).status_code == 200
    order = (await client.get(f"/v1/orders/{out['orders'][0]['id']}", headers=s.m.headers)).json()
    assert order["status"] == "cancelled" and order["payment_status"] == "refunded"
    assert [r["amount"] for r in fake_stripe.refunds.values()] == [order["total"]]


async def test_stripe_failure_creates_nothing(client: httpx.AsyncClient, fake_stripe: FakeStripe, app):
    s = await f.shop(client, on_hand=3)
    before = await f.levels(app)
    fake_stripe.inject_error(status=402, type="card_error", code="card_declined", message="declined", count=5)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], method="stripe"))
    assert r.status_code == 502 and r.headers["content-type"].startswith("application/problem+json")
    assert await f.levels(app) == before
    assert (await client.get("/v1/orders", headers=s.m.headers)).json()["items"] == []


async def test_failed_reservation_cancels_the_intent(client: httpx.AsyncClient, fake_stripe: FakeStripe):
    s = await f.shop(client, on_hand=1)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)], method="stripe"))
    assert r.status_code == 409
    assert [pi["status"] for pi in fake_stripe.payment_intents.values()] in ([], ["canceled"])


async def test_a_provider_the_platform_has_no_settings_for_is_neither_offered_nor_listening(db_url: str):
    """Without STRIPE_API_KEY, Stripe's webhook is 404 (not a 5xx, and not the 400 of a bad signature), a checkout
    asking for Stripe is refused naming `payment_method`, and the storefront does not offer it."""
    from app.core import clock as app_clock
    from app.main import create_app
    from app.web import security
    from tests.conftest import _empty_tables, make_settings

    await _empty_tables(db_url)
    app_clock.reset()
    app = create_app(make_settings(db_url, stripe_api_key=None, stripe_webhook_secret=None))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
            s = await f.shop(c, on_hand=5)
            hook = await c.post("/v1/payments/stripe/webhook", content=b"{}",
                                headers={"Stripe-Signature": "t=1,v1=00", "content-type": "application/json"})
            assert hook.status_code == 404, hook.text
            assert hook.headers["content-type"].startswith("application/problem+json")
            r = await c.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], method="stripe"))
            assert r.status_code == 422, r.text
            assert [e["field"] for e in r.json()["errors"]] == ["payment_method"]
            assert (await c.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]))).status_code == 201
            cart = (await c.post("/v1/carts")).json()
            await c.post(f"/v1/carts/{cart['id']}/items", json={"variant_id": s.variant_id, "quantity": 1})
            c.cookies.set("cart", security.sign(app.state.secret_key, "cart", cart["id"]))
            page = await c.get("/checkout")
            assert 'value="cod"' in page.text and 'value="stripe"' not in page.text
    finally:
        await app.state.engine.dispose()
