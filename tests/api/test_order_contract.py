"""Contracts and cancellations (C15): a paid order is a formed contract its merchant cannot end alone; the order
terms shown at checkout stay with the order and can be downloaded."""

from __future__ import annotations

from typing import Any

import httpx

from app.orders import terms
from tests import factories as f
from tests.conftest import WEBHOOK_SECRET
from tests.fakes.stripe_server import FakeStripe


async def _paid_order(client: httpx.AsyncClient, fake_stripe: FakeStripe, shop: f.Shop,
                      buyer: dict[str, str]) -> dict[str, Any]:
    r = await client.post("/v1/checkout", headers=buyer,
                          json=f.checkout_body([(shop.variant_id, 2)], method="stripe", email=None))
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    pi_id = r.json()["payment"]["client_secret"].split("_secret")[0]
    payload, sig = fake_stripe.webhook("payment_intent.succeeded", fake_stripe.succeed(pi_id), WEBHOOK_SECRET)
    sent = await client.post("/v1/payments/stripe/webhook", content=payload,
                             headers={"Stripe-Signature": sig, "content-type": "application/json"})
    assert sent.status_code == 200, sent.text
    return dict(order)


async def _order(client: httpx.AsyncClient, shop: f.Shop, order_id: str) -> dict[str, Any]:
    return dict((await client.get(f"/v1/orders/{order_id}", headers=shop.m.headers)).json())


async def _credit(client: httpx.AsyncClient, shop: f.Shop) -> int:
    return int((await client.get(f"/v1/merchants/{shop.m.id}")).json()["credit_score"])


async def test_a_merchant_cannot_cancel_a_paid_order_alone_without_a_published_reason(
        client: httpx.AsyncClient, fake_stripe: FakeStripe):
    shop = await f.shop(client, on_hand=5, price=25_000)
    order = await _paid_order(client, fake_stripe, shop, await f.customer(client))
    alone = await client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.m.headers, json={"reason": "不想卖了"})
    assert alone.status_code == 409 and "out_of_stock" in alone.json()["codes"]
    made_up = await client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.m.headers,
                                json={"code": "changed_my_mind", "refund_now": True})
    assert made_up.status_code == 422 and [e["field"] for e in made_up.json()["errors"]] == ["code"]
    after = await _order(client, shop, order["id"])
    assert after["status"] == "paid" and after["payment_status"] == "paid" and not fake_stripe.refunds


async def test_an_unpaid_order_the_merchant_may_still_cancel_freely(client: httpx.AsyncClient):
    shop = await f.shop(client, on_hand=5)
    r = await client.post("/v1/checkout", json=f.checkout_body([(shop.variant_id, 1)]))  # cash on delivery
    order = r.json()["orders"][0]
    done = await client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.m.headers)
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert done.json()["seller_cancel_code"] is None


async def test_a_coded_cancellation_with_refund_now_refunds_at_once_and_counts_against_credit(
        client: httpx.AsyncClient, fake_stripe: FakeStripe):
    shop = await f.shop(client, on_hand=5, price=25_000)
    order = await _paid_order(client, fake_stripe, shop, await f.customer(client))
    before = await _credit(client, shop)
    r = await client.post(f"/v1/orders/{order['id']}/cancel", headers=shop.m.headers,
                          json={"code": "out_of_stock", "refund_now": True, "reason": "仓库盘亏"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled" and r.json()["payment_status"] == "refunded"
    assert r.json()["seller_cancel_code"] == "out_of_stock" and r.json()["refunded"] == order["total"]
    [refund] = fake_stripe.refunds.values()
    assert refund["amount"] == order["total"]
    assert await _credit(client, shop) == before - 30


async def test_a_coded_proposal_cancels_only_when_the_buyer_accepts_and_does_not_count(
        client: httpx.AsyncClient, fake_stripe: FakeStripe):
    shop = await f.shop(client, on_hand=5, price=25_000)
    buyer = await f.customer(client)
    first = await _paid_order(client, fake_stripe, shop, buyer)
    before = await _credit(client, shop)
    proposed = await client.post(f"/v1/orders/{first['id']}/cancel", headers=shop.m.headers,
                                 json={"code": "undeliverable_address"})
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["status"] == "paid" and proposed.json()["cancel_proposal"]["code"] == "undeliverable_address"
    # The merchant cannot answer its own proposal; the buyer declines and the order goes on.
    assert (await client.post(f"/v1/orders/{first['id']}/cancel-proposal/accept",
                              headers=shop.m.headers)).status_code == 403
    declined = await client.post(f"/v1/orders/{first['id']}/cancel-proposal/decline", headers=buyer)
    assert declined.status_code == 200 and declined.json()["cancel_proposal"] is None
    assert declined.json()["status"] == "paid" and not fake_stripe.refunds
    # Proposed again and accepted: cancelled and refunded, the merchant's credit untouched.
    await client.post(f"/v1/orders/{first['id']}/cancel", headers=shop.m.headers, json={"code": "buyer_request"})
    accepted = await client.post(f"/v1/orders/{first['id']}/cancel-proposal/accept", headers=buyer)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "cancelled" and accepted.json()["payment_status"] == "refunded"
    assert accepted.json()["seller_cancel_code"] is None and "buyer_request" in accepted.json()["cancel_reason"]
    assert await _credit(client, shop) == before
    assert (await client.post(f"/v1/orders/{first['id']}/cancel-proposal/accept",
                              headers=buyer)).status_code == 409


async def test_the_terms_shown_at_checkout_stay_with_the_order_and_download(client: httpx.AsyncClient,
                                                                             monkeypatch):
    shop = await f.shop(client, on_hand=5)
    buyer = await f.customer(client)
    r = await client.post("/v1/checkout", headers=buyer, json=f.checkout_body([(shop.variant_id, 1)], email=None))
    order = r.json()["orders"][0]
    assert order["terms_version"] == terms.CURRENT
    # A newer version is published later: the order keeps the one agreed to.
    newer = terms.Terms("2099-01-v9", "2099-01-01", "# 新条款\n")
    monkeypatch.setitem(terms.TERMS, newer.version, newer)
    monkeypatch.setattr(terms, "CURRENT", newer.version)
    for who in (buyer, shop.m.headers):
        got = await client.get(f"/v1/orders/{order['id']}/terms", headers=who)
        assert got.status_code == 200, got.text
        assert got.headers["content-type"].startswith("text/markdown")
        assert got.headers["content-disposition"].startswith("attachment;")
        assert got.headers["x-terms-version"] == order["terms_version"] and "合同成立" in got.text
        assert "最终解释权" in got.text and "不享有" in got.text  # denied, never claimed (C16)
    assert (await client.get(f"/v1/orders/{order['id']}/terms", headers=await f.customer(client))).status_code == 404
    assert (await client.get("/v1/order-terms/current")).headers["x-terms-version"] == "2099-01-v9"
    old = await client.get(f"/v1/order-terms/{order['terms_version']}")
    assert old.status_code == 200 and "合同成立" in old.text
    assert (await client.get("/v1/order-terms/1999-v0")).status_code == 404
