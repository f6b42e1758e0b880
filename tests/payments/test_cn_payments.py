"""Alipay and WeChat Pay end to end, over HTTP on SQLite and PostgreSQL: checkout on the merchant's own account,
notifications checked before anything changes, money rules (C27), refunds, lost notifications, reconciliation.
The providers are the local fakes, which check the SDKs' real signatures and sign with keys made by the tests."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import func, select, update

from app.core import clock
from app.core.models import OutboxEvent
from app.orders import cancellation
from app.orders import payments as orders_payments
from app.orders.models import Order, Payment, ProcessedWebhook, Refund
from app.payments.models import PaymentDiscrepancy
from app.payments.sandbox.keys import rsa_key
from tests import factories as f
from tests.conftest import ADMIN_TOKEN, make_settings
from tests.fakes.alipay_server import FakeAlipay
from tests.fakes.wechatpay_server import FakeWechatPay
from tests.payments.conftest import CnShop, checkout, cn_shop


def _open(url: str) -> httpx.Response:
    """The buyer's browser opens Alipay's cashier (the trade exists at Alipay from then on)."""
    with httpx.Client(trust_env=False, timeout=10) as browser:
        r = browser.get(url)
    assert r.status_code == 200, r.text
    return r


async def _alipay_notify(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    from urllib.parse import urlencode

    return await client.post("/v1/payments/alipay/notify", content=urlencode(form).encode(),
                              headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"})


async def _wechat_notify(client: httpx.AsyncClient, notice: Any) -> httpx.Response:
    return await client.post("/v1/payments/wechatpay/notify", content=notice.body, headers=notice.headers)


async def _count(app: Any, model: Any, *where: Any) -> int:
    async with app.state.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _order(client: httpx.AsyncClient, s: CnShop, order_id: str) -> dict[str, Any]:
    r = await client.get(f"/v1/orders/{order_id}", headers=s.m.headers)
    assert r.status_code == 200, r.text
    return dict(r.json())


# ---- offered only when configured; merchants' accounts -------------------------------------------------------

async def test_unconfigured_providers_are_not_offered_and_their_notify_routes_are_404(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=5, price=10_000)
    for method in ("alipay", "wechatpay"):
        r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], method=method))
        assert r.status_code == 422, r.text
        assert [e["field"] for e in r.json()["errors"]] == ["payment_method"]
        r = await client.put(f"/v1/payment-accounts/{method}", headers=s.m.headers,
                             json={"sub_merchant_id": "1900000109"})
        assert r.status_code == 404
    r = await client.post("/v1/payments/alipay/notify", content=b"a=b",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 404
    r = await client.post("/v1/payments/wechatpay/notify", json={})
    assert r.status_code == 404


async def test_payment_accounts_are_the_merchants_own_and_gate_checkout(cn_client: httpx.AsyncClient,
                                                                       alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await f.shop(cn_client, on_hand=5, price=10_000)
    other = await f.merchant(cn_client)
    # Without an account the merchant's goods are not payable that way (422 naming payment_method).
    for method in ("alipay", "wechatpay"):
        r = await cn_client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], method=method))
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == ["payment_method"], r.text
    bad = [("wechatpay", {"sub_merchant_id": "19x"}, "sub_merchant_id"),
           ("alipay", {"sub_merchant_id": "2088000000000001"}, "app_auth_token"),
           ("alipay", {"sub_merchant_id": "123", "app_auth_token": "sbxtoken1234"}, "sub_merchant_id"),
           ("wechatpay", {"sub_merchant_id": "1900000109", "app_auth_token": "sbxtoken1234"}, "app_auth_token"),
           ("wechatpay", {"sub_merchant_id": "1900000109", "mchid": "1"}, "mchid")]
    for provider, body, field in bad:
        r = await cn_client.put(f"/v1/payment-accounts/{provider}", headers=s.m.headers, json=body)
        assert r.status_code == 422, r.text
        assert field in [e["field"] for e in r.json()["errors"]], r.json()
    assert (await cn_client.put("/v1/payment-accounts/cod", headers=s.m.headers,
                                json={"sub_merchant_id": "1"})).status_code == 404
    assert (await cn_client.put("/v1/payment-accounts/wechatpay", json={"sub_merchant_id": "1"})).status_code == 401
    wechat.bind("1900000109")
    r = await cn_client.put("/v1/payment-accounts/wechatpay", headers=s.m.headers,
                            json={"sub_merchant_id": "1900000108"})
    assert r.status_code == 201 and r.json()["sub_merchant_id"] == "1900000108"
    r = await cn_client.put("/v1/payment-accounts/wechatpay", headers=s.m.headers,
                            json={"sub_merchant_id": "1900000109"})  # replaced
    assert r.status_code == 200 and r.json()["sub_merchant_id"] == "1900000109"
    token = alipay.issue_token("2088000000000555")
    r = await cn_client.put("/v1/payment-accounts/alipay", headers=s.m.headers,
                            json={"sub_merchant_id": "2088000000000555", "app_auth_token": token})
    assert r.status_code == 201 and r.json()["authorised"] is True and token not in r.text
    listed = (await cn_client.get("/v1/payment-accounts", headers=s.m.headers)).json()["items"]
    assert [(a["provider"], a["sub_merchant_id"]) for a in listed] == [("alipay", "2088000000000555"),
                                                                       ("wechatpay", "1900000109")]
    assert token not in str(listed)
    assert (await cn_client.get("/v1/payment-accounts", headers=other.headers)).json()["items"] == []
    # Now payable: the WeChat Pay payment is made on the merchant's sub_mchid.
    r = await cn_client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], method="wechatpay"))
    assert r.status_code == 201, r.text
    [t] = wechat.transactions.values()
    assert t.sub_mchid == "1900000109" and t.total == 10_000


# ---- Alipay ------------------------------------------------------------------------------------------------

async def test_alipay_paid_into_the_merchants_account_once(cn_client: httpx.AsyncClient, cn_app: Any,
                                                           alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await cn_shop(cn_client, alipay, wechat, price=12_345)
    out = await checkout(cn_client, s, "alipay")
    payment = out["payment"]
    assert payment["provider"] == "alipay" and payment["pay_url"].startswith(alipay.gateway_url)
    assert dict(parse_qsl(urlsplit(payment["pay_url"]).query))["method"] == "alipay.trade.page.pay"
    _open(payment["pay_url"])
    trade = alipay.trade(payment["id"])
    assert (trade.seller_id, trade.total_amount) == (s.seller_id, 12_345)  # the merchant's money, our amount
    notice = alipay.pay(payment["id"])
    r = await _alipay_notify(cn_client, notice.form)
    assert (r.status_code, r.text) == (200, "success")
    order = await _order(cn_client, s, out["orders"][0]["id"])
    assert (order["status"], order["payment_status"]) == ("paid", "paid")
    # Replayed: answered `success` again (Alipay stops sending), counted once.
    r = await _alipay_notify(cn_client, notice.form)
    assert (r.status_code, r.text) == (200, "success")
    assert await _count(cn_app, OutboxEvent, OutboxEvent.kind == "order.paid") == 1
    assert await _count(cn_app, ProcessedWebhook) == 1

    # The buyer's way back from the cashier, signed by Alipay, leads to the order page; a forged one is refused.
    back = alipay.return_url(payment["id"])
    assert back is not None
    r = await cn_client.get(back.replace("http://127.0.0.1:8000", ""))
    assert r.status_code == 303 and r.headers["location"] == f"/payments/return?payment_id={payment['id']}"
    r = await cn_client.get(back.replace("http://127.0.0.1:8000", "").replace("total_amount=", "total_amount=1"))
    assert r.status_code == 400

    # A phone's browser gets Alipay's phone cashier.
    out = await checkout(cn_client, s, "alipay", phone=True)
    assert dict(parse_qsl(urlsplit(out["payment"]["pay_url"]).query))["method"] == "alipay.trade.wap.pay"


async def test_alipay_notifications_that_do_not_check_change_nothing(cn_client: httpx.AsyncClient, cn_app: Any,
                                                                   alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await cn_shop(cn_client, alipay, wechat, price=10_000)
    out = await checkout(cn_client, s, "alipay")
    pay_id, order_id = out["payment"]["id"], out["orders"][0]["id"]
    _open(out["payment"]["pay_url"])
    good = alipay.pay(pay_id).form

    tampered = {**good, "total_amount": "1.00"}  # changed after Alipay signed it
    wrong_app = alipay.notification(pay_id, app_id="2021000000000999").form
    unsigned = {k: v for k, v in good.items() if k != "sign"}
    unknown = alipay.sign_fields({**unsigned, "out_trade_no": "pay_0000000000notours00000000"})
    underpaid = alipay.notification(pay_id, total_amount="0.01").form
    forged = alipay.sign_fields(unsigned, key=rsa_key())  # not Alipay's key
    for form, status in ((tampered, 400), (forged, 400), (wrong_app, 400), (unknown, 404), (underpaid, 409),
                         ({"sign": "x"}, 400), ({}, 400)):
        r = await _alipay_notify(cn_client, form)
        assert r.status_code == status, (status, r.text)
        assert r.text != "success" and r.headers["content-type"].startswith("application/problem+json")
        order = await _order(cn_client, s, order_id)
        assert (order["status"], order["payment_status"]) == ("pending_payment", "unpaid")
    # The underpayment is kept for the operator, once however often it comes.
    assert (await _alipay_notify(cn_client, underpaid)).status_code == 409
    async with cn_app.state.sessionmaker() as session:
        [found] = (await session.scalars(select(PaymentDiscrepancy))).all()
    assert (found.payment_id, found.expected, found.received, found.kind) == (pay_id, 10_000, 1, "amount")
    listed = (await cn_client.get("/v1/admin/payments/discrepancies",
                                  headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})).json()["items"]
    assert [(d["payment_id"], d["expected"], d["received"]) for d in listed] == [(pay_id, 10_000, 1)]
    assert await _count(cn_app, ProcessedWebhook) == 0
    # Alipay's real notification still lands.
    r = await _alipay_notify(cn_client, good)
    assert (r.status_code, r.text) == (200, "success")
    assert (await _order(cn_client, s, order_id))["payment_status"] == "paid"


async def test_the_same_notification_twenty_times_at_once_pays_once(cn_client: httpx.AsyncClient, cn_app: Any,
                                                                   alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await cn_shop(cn_client, alipay, wechat)
    out = await checkout(cn_client, s, "alipay")
    _open(out["payment"]["pay_url"])
    form = alipay.pay(out["payment"]["id"]).form
    answers = await asyncio.gather(*[_alipay_notify(cn_client, form) for _ in range(20)])
    assert [(r.status_code, r.text) for r in answers] == [(200, "success")] * 20
    assert await _count(cn_app, ProcessedWebhook) == 1
    assert await _count(cn_app, OutboxEvent, OutboxEvent.kind == "order.paid") == 1
    assert await _count(cn_app, Payment) == 1
    assert await _count(cn_app, Payment, Payment.status == "succeeded") == 1

    out = await checkout(cn_client, s, "wechatpay")
    notice = wechat.pay(out["payment"]["id"])
    answers = await asyncio.gather(*[_wechat_notify(cn_client, notice) for _ in range(20)])
    assert [r.status_code for r in answers] == [200] * 20
    assert await _count(cn_app, ProcessedWebhook) == 2
    assert await _count(cn_app, OutboxEvent, OutboxEvent.kind == "order.paid") == 2
    assert await _count(cn_app, Payment, Payment.status == "succeeded") == 2


# ---- WeChat Pay --------------------------------------------------------------------------------------------

async def test_wechatpay_native_paid_and_forged_notifications_refused(cn_client: httpx.AsyncClient, cn_app: Any,
                                                                     alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await cn_shop(cn_client, alipay, wechat, price=8_800)
    out = await checkout(cn_client, s, "wechatpay")
    payment, order_id = out["payment"], out["orders"][0]["id"]
    assert payment["provider"] == "wechatpay" and payment["code_url"].startswith("weixin://")
    t = wechat.transaction(payment["id"])
    assert (t.sub_mchid, t.total, t.trade_type) == (s.sub_mchid, 9_800, "NATIVE")  # ¥88 + ¥10 delivery
    wechat.pay(payment["id"])
    import time

    refused = [
        wechat.transaction_notification(payment["id"], signing_key=rsa_key()),  # not WeChat Pay's signature
        wechat.transaction_notification(payment["id"], timestamp=int(time.time()) - 600),  # stale: a replay
        wechat.transaction_notification(payment["id"], apiv3_key="f" * 32),  # not encrypted with our key
    ]
    for notice in refused:
        r = await _wechat_notify(cn_client, notice)
        assert r.status_code == 400, r.text
    underpaid = wechat.transaction_notification(payment["id"], resource_overrides={
        "amount": {"total": 1, "payer_total": 1, "currency": "CNY", "payer_currency": "CNY"}})
    assert (await _wechat_notify(cn_client, underpaid)).status_code == 409
    unknown = wechat.transaction_notification(payment["id"], resource_overrides={"out_trade_no": "pay_notours0001"})
    assert (await _wechat_notify(cn_client, unknown)).status_code == 404
    order = await _order(cn_client, s, order_id)
    assert (order["status"], order["payment_status"]) == ("pending_payment", "unpaid")
    assert await _count(cn_app, PaymentDiscrepancy) == 1

    good = wechat.transaction_notification(payment["id"])
    r = await _wechat_notify(cn_client, good)
    assert r.status_code == 200 and r.json() == {"code": "SUCCESS"}
    assert (await _wechat_notify(cn_client, good)).status_code == 200  # replayed
    order = await _order(cn_client, s, order_id)
    assert (order["status"], order["payment_status"]) == ("paid", "paid")
    assert await _count(cn_app, OutboxEvent, OutboxEvent.kind == "order.paid") == 1

    # A phone's browser gets H5.
    out = await checkout(cn_client, s, "wechatpay", phone=True)
    assert out["payment"]["h5_url"] and "code_url" not in out["payment"]
    assert wechat.transaction(out["payment"]["id"]).trade_type == "MWEB"


# ---- holds, refunds ----------------------------------------------------------------------------------------

async def test_payment_before_and_after_the_hold_expired(cn_client: httpx.AsyncClient, cn_app: Any,
                                                        alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await cn_shop(cn_client, alipay, wechat, price=10_000)
    before = await checkout(cn_client, s, "alipay")
    late = await checkout(cn_client, s, "alipay")
    for out in (before, late):
        _open(out["payment"]["pay_url"])
    # Paid within the hold: paid.
    r = await _alipay_notify(cn_client, alipay.pay(before["payment"]["id"]).form)
    assert r.text == "success"
    # The buyer pays the other one as its hold runs out; the order is cancelled before the notification comes
    # (closing the trade fails: it is paid). The money then arrives: refunded at once, in full.
    late_notice = alipay.pay(late["payment"]["id"], deliver=False)
    clock.travel(timedelta(minutes=31))
    assert await cancellation.expire_holds(cn_app.state.sessionmaker, cn_app.state.settings) == 1
    assert (await _order(cn_client, s, late["orders"][0]["id"]))["status"] == "cancelled"
    r = await _alipay_notify(cn_client, late_notice.form)
    assert (r.status_code, r.text) == (200, "success")
    assert (await _order(cn_client, s, before["orders"][0]["id"]))["status"] == "paid"
    order = await _order(cn_client, s, late["orders"][0]["id"])
    assert (order["status"], order["payment_status"], order["refunded"]) == ("cancelled", "refunded", 10_000)
    trade = alipay.trade(late["payment"]["id"])
    assert trade.refunded == 10_000 and len(trade.refunds) == 1
    async with cn_app.state.sessionmaker() as session:
        [refund] = (await session.scalars(select(Refund))).all()
    assert (refund.status, refund.amount, refund.reason) == ("succeeded", 10_000, "paid_after_cancel")
    assert list(trade.refunds) == [refund.id]  # the refund's own request number


async def test_wechatpay_payment_after_the_hold_expired_is_refunded_at_once(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await cn_shop(cn_client, alipay, wechat, price=10_000)
    out = await checkout(cn_client, s, "wechatpay")
    notice = wechat.pay(out["payment"]["id"], deliver=False)  # paid as the hold runs out
    clock.travel(timedelta(minutes=31))
    assert await cancellation.expire_holds(cn_app.state.sessionmaker, cn_app.state.settings) == 1
    assert (await _wechat_notify(cn_client, notice)).status_code == 200
    order = await _order(cn_client, s, out["orders"][0]["id"])
    assert (order["status"], order["payment_status"], order["refunded"]) == ("cancelled", "refunded", 10_000)
    [made] = wechat.refunds.values()
    async with cn_app.state.sessionmaker() as session:
        [refund] = (await session.scalars(select(Refund))).all()
    assert (made.out_refund_no, made.refund, made.total, made.sub_mchid) == (refund.id, 10_000, 10_000, s.sub_mchid)
    assert refund.status == "processing"  # WeChat Pay took it; its notification says when the money went back
    assert (await _wechat_notify(cn_client, wechat.settle_refund(refund.id))).status_code == 200
    async with cn_app.state.sessionmaker() as session:
        assert (await session.get(Refund, refund.id)).status == "succeeded"


async def test_partial_refunds_then_a_retry_never_refund_twice(cn_client: httpx.AsyncClient, cn_app: Any,
                                                              alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await cn_shop(cn_client, alipay, wechat, price=5_000)
    paid: dict[str, dict[str, Any]] = {}
    for method in ("alipay", "wechatpay"):
        out = await checkout(cn_client, s, method, quantity=2)
        if method == "alipay":
            _open(out["payment"]["pay_url"])
            assert (await _alipay_notify(cn_client, alipay.pay(out["payment"]["id"]).form)).text == "success"
        else:
            assert (await _wechat_notify(cn_client, wechat.pay(out["payment"]["id"]))).status_code == 200
        paid[method] = out
    settings, factory = cn_app.state.settings, cn_app.state.sessionmaker
    for method, out in paid.items():
        order_id = out["orders"][0]["id"]
        refund_ids = []
        async with factory() as session:
            for amount in (3_000, 2_500):  # two partial refunds, each its own request number
                order = await session.get(Order, order_id, with_for_update=True)
                refund_ids.append(await orders_payments.record_refund(session, order, amount, "goodwill"))
                await session.commit()
            assert await orders_payments.settle_refunds(session, settings=settings, refund_ids=refund_ids)
            # The provider's answer to the second was lost: it is sent again under its own number.
            await session.execute(update(Refund).where(Refund.id == refund_ids[1]).values(status="pending"))
            await session.commit()
            assert await orders_payments.retry_refunds(factory, settings) == 1
            # More than the order has left is refused before anything is sent.
            order = await session.get(Order, order_id, with_for_update=True)
            try:
                await orders_payments.record_refund(session, order, 5_000, "goodwill")
                raise AssertionError("a refund past the order's total was accepted")
            except orders_payments.Conflict:
                await session.rollback()
        if method == "alipay":
            trade = alipay.trade(out["payment"]["id"])
            assert {k: r.amount for k, r in trade.refunds.items()} == dict(zip(refund_ids, (3_000, 2_500),
                                                                                strict=True))
            assert trade.refunded == 5_500
        else:
            made = {r.out_refund_no: r.refund for r in wechat.refunds.values()}
            assert made == dict(zip(refund_ids, (3_000, 2_500), strict=True))
        order = await _order(cn_client, s, out["orders"][0]["id"])
        assert (order["refunded"], order["payment_status"]) == (5_500, "partially_refunded")


# ---- lost notifications, reconciliation --------------------------------------------------------------------

async def test_a_lost_notification_is_settled_by_the_query_job(cn_client: httpx.AsyncClient, cn_app: Any,
                                                               alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await cn_shop(cn_client, alipay, wechat)
    a = await checkout(cn_client, s, "alipay")
    w = await checkout(cn_client, s, "wechatpay")
    unpaid = await checkout(cn_client, s, "wechatpay")
    _open(a["payment"]["pay_url"])
    alipay.pay(a["payment"]["id"], deliver=False)  # paid; the notification never arrives
    wechat.pay(w["payment"]["id"], deliver=False)
    factory, settings = cn_app.state.sessionmaker, cn_app.state.settings
    assert await orders_payments.settle_lost_payments(factory, settings) == 0  # too fresh to ask about
    clock.travel(timedelta(minutes=2))
    assert await orders_payments.settle_lost_payments(factory, settings) == 2
    for out in (a, w):
        order = await _order(cn_client, s, out["orders"][0]["id"])
        assert (order["status"], order["payment_status"]) == ("paid", "paid")
    assert (await _order(cn_client, s, unpaid["orders"][0]["id"]))["payment_status"] == "unpaid"
    # The notification that arrives after all counts once.
    assert (await _alipay_notify(cn_client, alipay.notification(a["payment"]["id"]).form)).text == "success"
    assert await orders_payments.settle_lost_payments(factory, settings) == 0
    assert await _count(cn_app, OutboxEvent, OutboxEvent.kind == "order.paid") == 2


def test_settings_without_alipay_keys_offer_no_alipay(db_url: str) -> None:
    from app.payments import registry

    settings = make_settings(db_url)
    assert [p.name for p in registry.offered(settings, "retail")] == ["cod", "stripe"]


async def test_reconciliation_finds_missing_and_mismatched_payments(cn_client: httpx.AsyncClient, cn_app: Any,
                                                                    alipay: FakeAlipay, wechat: FakeWechatPay):
    from app.core.clock import SHANGHAI
    from app.orders.reconciliation import last_runs, reconcile

    s = await cn_shop(cn_client, alipay, wechat, price=10_000)
    outs = [await checkout(cn_client, s, "alipay") for _ in range(4)]
    for out in outs:
        _open(out["payment"]["pay_url"])
    matched, dropped, changed, lost = (o["payment"]["id"] for o in outs)
    for pay_id in (matched, dropped, changed):
        assert (await _alipay_notify(cn_client, alipay.pay(pay_id).form)).text == "success"
    alipay.pay(lost, deliver=False)  # Alipay has the money; we never heard
    # The statement lacks one payment and lists another for a different amount.
    alipay.bill[:] = [e for e in alipay.bill if e.out_trade_no != dropped]
    [line] = [e for e in alipay.bill if e.out_trade_no == changed]
    line.order_amount = line.received_amount = 9_000
    day = clock.utcnow().astimezone(SHANGHAI).date()
    run = await reconcile(cn_app.state.sessionmaker, cn_app.state.settings, provider="alipay", day=day)
    assert (run.statement_lines, run.matched) == (3, 1)
    assert sorted((f["kind"], f["out_trade_no"], f["ours"], f["theirs"]) for f in run.findings) == sorted([
        ("missing_there", dropped, 10_000, None), ("amount_mismatch", changed, 10_000, 9_000),
        ("missing_here", lost, None, 10_000)])

    # WeChat Pay's trade bill: one bill for every sub-merchant.
    w1, w2 = [await checkout(cn_client, s, "wechatpay") for _ in range(2)]
    for out in (w1, w2):
        assert (await _wechat_notify(cn_client, wechat.pay(out["payment"]["id"]))).status_code == 200
    [entry] = [e for e in wechat.bill if e.out_trade_no == w2["payment"]["id"]]
    entry.total = 1
    run = await reconcile(cn_app.state.sessionmaker, cn_app.state.settings, provider="wechatpay", day=day)
    assert [(f["kind"], f["out_trade_no"]) for f in run.findings] == [("amount_mismatch", w2["payment"]["id"])]
    async with cn_app.state.sessionmaker() as session:
        assert [r.provider for r in await last_runs(session, provider=None, limit=5)] == ["wechatpay", "alipay"]
    # The operator reads the runs, the last first, a page at a time.
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    page = (await cn_client.get("/v1/admin/payments/reconciliations", headers=admin, params={"limit": 1})).json()
    assert [r["provider"] for r in page["items"]] == ["wechatpay"] and page["next_cursor"]
    page = (await cn_client.get("/v1/admin/payments/reconciliations", headers=admin,
                                params={"limit": 1, "cursor": page["next_cursor"]})).json()
    assert [(r["provider"], len(r["findings"])) for r in page["items"]] == [("alipay", 3)]
    assert (await cn_client.get("/v1/admin/payments/reconciliations", headers=s.m.headers)).status_code == 403


async def test_a_stripe_event_for_another_amount_is_recorded_and_pays_nothing(client: httpx.AsyncClient, app: Any,
                                                                              fake_stripe: Any):
    from tests.conftest import WEBHOOK_SECRET

    s = await f.shop(client, on_hand=5, price=10_000)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], method="stripe"))
    assert r.status_code == 201, r.text
    out = r.json()
    [pi_id] = [k for k, pi in fake_stripe.payment_intents.items()
               if pi["client_secret"] == out["payment"]["client_secret"]]
    paid = fake_stripe.succeed(pi_id)
    short, sig = fake_stripe.webhook("payment_intent.succeeded", {**paid, "amount_received": 9_999}, WEBHOOK_SECRET)
    r = await client.post("/v1/payments/stripe/webhook", content=short,
                          headers={"content-type": "application/json", "Stripe-Signature": sig})
    assert r.status_code == 200 and r.json() == {"status": "mismatch"}
    order = (await client.get(f"/v1/orders/{out['orders'][0]['id']}", headers=s.m.headers)).json()
    assert (order["status"], order["payment_status"]) == ("pending_payment", "unpaid")
    async with app.state.sessionmaker() as session:
        [found] = (await session.scalars(select(PaymentDiscrepancy))).all()
    assert (found.provider, found.expected, found.received) == ("stripe", 10_000, 9_999)
    good, sig = fake_stripe.webhook("payment_intent.succeeded", paid, WEBHOOK_SECRET)
    r = await client.post("/v1/payments/stripe/webhook", content=good,
                          headers={"content-type": "application/json", "Stripe-Signature": sig})
    assert r.json() == {"status": "processed"}


async def test_the_console_sets_the_merchants_payment_accounts(cn_client: httpx.AsyncClient, alipay: FakeAlipay,
                                                               wechat: FakeWechatPay):
    from tests.web.helpers import assert_good_page, csrf

    s = await f.shop(cn_client, on_hand=5, price=10_000)
    login = (await cn_client.get("/console/login")).text
    await cn_client.post("/console/login", data={"csrf": csrf(login), "api_key": s.m.api_key})
    page = assert_good_page(await cn_client.get("/console/payments"))
    assert "收款账户" in page and page.count("尚未设置") == 2
    r = await cn_client.post("/console/payments/wechatpay", data={"csrf": csrf(page), "sub_merchant_id": "19x"})
    assert r.status_code == 422 and "sub_merchant_id" in r.text
    r = await cn_client.post("/console/payments/alipay",
                             data={"csrf": csrf(page), "sub_merchant_id": "2088000000000777"})
    assert r.status_code == 422 and "app_auth_token" in r.text
    r = await cn_client.post("/console/payments/wechatpay", data={"csrf": csrf(page), "sub_merchant_id": "1900000222"})
    page = assert_good_page(r)
    assert "已保存" in page and "1900000222" in page and page.count("尚未设置") == 1
    listed = (await cn_client.get("/v1/payment-accounts", headers=s.m.headers)).json()["items"]
    assert [(a["provider"], a["sub_merchant_id"]) for a in listed] == [("wechatpay", "1900000222")]
    assert (await cn_client.post("/console/payments/cod", data={"csrf": csrf(page),
                                                                "sub_merchant_id": "1"})).status_code == 422


def test_shop_reconcile_refuses_bad_arguments() -> None:
    from typer.testing import CliRunner

    from app.cli import cli

    r = CliRunner().invoke(cli, ["reconcile", "--provider", "paypal", "--date", "2026-12-03"])
    assert r.exit_code == 2 and "alipay or wechatpay" in r.output
    r = CliRunner().invoke(cli, ["reconcile", "--provider", "alipay", "--date", "03/12/2026"])
    assert r.exit_code == 2 and "YYYY-MM-DD" in r.output
