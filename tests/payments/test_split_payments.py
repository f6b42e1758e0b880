"""A checkout across merchants paid with Alipay or WeChat Pay: each merchant's money into its own account (C27);
WeChat Pay's JSAPI inside WeChat; WeChat Pay's refund notifications. Over HTTP on SQLite and PostgreSQL, against
the local fakes, which check the SDKs' real signatures with keys made by the tests."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
from sqlalchemy import func, select

from app.core import clock
from app.core.models import OutboxEvent
from app.orders import cancellation
from app.orders import payments as orders_payments
from app.orders.models import Order, Payment, ProcessedWebhook, Refund
from tests import factories as f
from tests.fakes.alipay_server import FakeAlipay
from tests.fakes.wechatpay_server import FakeWechatPay
from tests.payments.conftest import CnShop, cn_shop

WECHAT_BROWSER = {"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile MicroMessenger/8.0"}
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"


def _open(url: str) -> None:
    """The buyer's browser opens Alipay's cashier (the trade exists at Alipay from then on)."""
    with httpx.Client(trust_env=False, timeout=10) as browser:
        assert browser.get(url).status_code == 200


async def _alipay_notify(client: httpx.AsyncClient, form: dict[str, str]) -> httpx.Response:
    return await client.post("/v1/payments/alipay/notify", content=urlencode(form).encode(),
                             headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"})


async def _wechat_notify(client: httpx.AsyncClient, notice: Any) -> httpx.Response:
    return await client.post("/v1/payments/wechatpay/notify", content=notice.body, headers=notice.headers)


async def _count(app: Any, model: Any, *where: Any) -> int:
    async with app.state.sessionmaker() as s:
        return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _state(client: httpx.AsyncClient, s: CnShop, order_id: str) -> tuple[str, str, int]:
    r = await client.get(f"/v1/orders/{order_id}", headers=s.m.headers)
    assert r.status_code == 200, r.text
    return r.json()["status"], r.json()["payment_status"], r.json()["refunded"]


async def _two_shops(client: httpx.AsyncClient, alipay: FakeAlipay, wechat: FakeWechatPay) -> list[CnShop]:
    return [await cn_shop(client, alipay, wechat, price=12_000), await cn_shop(client, alipay, wechat, price=3_000)]


async def _checkout(client: httpx.AsyncClient, shops: list[CnShop], method: str, *,
                    headers: dict[str, str] | None = None, **extra: Any) -> dict[str, Any]:
    r = await client.post("/v1/checkout", headers=headers or {},
                          json=f.checkout_body([(s.variant_id, 1) for s in shops], method=method, **extra))
    assert r.status_code == 201, r.text
    return dict(r.json())


def _by_merchant(out: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["merchant_id"]: p for p in out["payments"]}


# ---- Alipay: one payment per merchant, each on its own authorisation -------------------------------------------

async def test_alipay_across_two_merchants_is_one_payment_each_into_its_own_account(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    shops = await _two_shops(cn_client, alipay, wechat)
    out = await _checkout(cn_client, shops, "alipay")
    orders = {o["merchant_id"]: o for o in out["orders"]}
    payments = _by_merchant(out)
    assert len(out["orders"]) == 2 and set(payments) == set(orders)
    assert out["payment"] == out["payments"][0]  # the contract's field: the first of them
    for s in shops:
        p, o = payments[s.m.id], orders[s.m.id]
        assert (p["provider"], p["amount"], p["order_id"]) == ("alipay", o["total"], o["id"])
        _open(p["pay_url"])
        trade = alipay.trade(p["id"])
        assert (trade.seller_id, trade.total_amount) == (s.seller_id, o["total"])  # the merchant's own account

    # Each payment lands on its own: the first merchant's order is paid, the other still waits.
    first, second = shops
    r = await _alipay_notify(cn_client, alipay.pay(payments[first.m.id]["id"]).form)
    assert r.text == "success"
    assert (await _state(cn_client, first, orders[first.m.id]["id"]))[:2] == ("paid", "paid")
    assert (await _state(cn_client, second, orders[second.m.id]["id"]))[:2] == ("pending_payment", "unpaid")
    r = await _alipay_notify(cn_client, alipay.pay(payments[second.m.id]["id"]).form)
    assert r.text == "success"
    assert (await _state(cn_client, second, orders[second.m.id]["id"]))[:2] == ("paid", "paid")
    assert await _count(cn_app, Payment, Payment.status == "succeeded") == 2

    # A refund of one merchant's order goes back through that merchant's own trade.
    async with cn_app.state.sessionmaker() as session:
        order = await session.get(Order, orders[second.m.id]["id"], with_for_update=True)
        assert order is not None
        refund_id = await orders_payments.record_refund(session, order, 1_000, "goodwill")
        await session.commit()
        assert refund_id and await orders_payments.settle_refunds(session, settings=cn_app.state.settings,
                                                                  refund_ids=[refund_id])
    assert alipay.trade(payments[second.m.id]["id"]).refunded == 1_000
    assert alipay.trade(payments[first.m.id]["id"]).refunded == 0


async def test_a_merchant_without_an_account_is_named_and_nothing_is_started(
        cn_client: httpx.AsyncClient, alipay: FakeAlipay, wechat: FakeWechatPay):
    s = await cn_shop(cn_client, alipay, wechat)
    other = await f.shop(cn_client)  # no Alipay account
    r = await cn_client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1), (other.variant_id, 1)],
                                                                  method="alipay"))
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "payment_method" and other.m.id in r.json()["errors"][0]["message"]
    assert not alipay.trades and not alipay.calls_to("alipay.trade.page.pay")


# ---- WeChat Pay: one combined payment (合单支付) ----------------------------------------------------------------

async def test_wechatpay_across_two_merchants_is_one_combined_payment(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    shops = await _two_shops(cn_client, alipay, wechat)
    out = await _checkout(cn_client, shops, "wechatpay")
    payments = _by_merchant(out)
    [combine] = wechat.combines.values()
    assert {p["combined"] for p in out["payments"]} == {combine.combine_out_trade_no}
    assert len({p["code_url"] for p in out["payments"]}) == 1  # one QR code pays both
    for s in shops:
        t = wechat.transaction(payments[s.m.id]["id"])
        assert (t.sub_mchid, t.total, t.combine_out_trade_no) == (
            s.sub_mchid, payments[s.m.id]["amount"], combine.combine_out_trade_no)

    notice = wechat.pay_combined(combine.combine_out_trade_no)
    answers = await asyncio.gather(*[_wechat_notify(cn_client, notice) for _ in range(20)])  # at once
    assert [r.status_code for r in answers] == [200] * 20
    for s in shops:
        assert (await _state(cn_client, s, payments[s.m.id]["order_id"]))[:2] == ("paid", "paid")
    assert await _count(cn_app, ProcessedWebhook) == 2  # one per share
    assert await _count(cn_app, OutboxEvent, OutboxEvent.kind == "order.paid") == 2
    assert await _count(cn_app, Payment, Payment.status == "succeeded") == 2


async def test_a_combined_share_for_another_amount_pays_nothing_of_it(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    shops = await _two_shops(cn_client, alipay, wechat)
    out = await _checkout(cn_client, shops, "wechatpay")
    [combine] = wechat.combines.values()
    wechat.pay_combined(combine.combine_out_trade_no, deliver=False)
    shares = []  # what WeChat Pay sends for the two shares, the second's amount changed
    for n, (sub_mchid, out_trade_no) in enumerate(combine.orders):
        t = wechat.transaction(out_trade_no)
        amount = 1 if n == 1 else t.total
        shares.append({"mchid": wechat.mchid, "sub_mchid": sub_mchid, "trade_type": t.trade_type,
                       "trade_state": "SUCCESS", "attach": t.attach, "out_trade_no": out_trade_no,
                       "transaction_id": t.transaction_id, "success_time": "2026-12-03T22:00:00+08:00",
                       "amount": {"total_amount": amount, "payer_amount": amount, "currency": "CNY"}})
    notice = wechat.combine_notification(combine.combine_out_trade_no, resource_overrides={"sub_orders": shares})
    assert (await _wechat_notify(cn_client, notice)).status_code == 409
    changed = combine.orders[1][1]
    for p in out["payments"]:
        expected = ("pending_payment", "unpaid") if p["id"] == changed else ("paid", "paid")
        s = next(s for s in shops if s.m.id == p["merchant_id"])
        assert (await _state(cn_client, s, p["order_id"]))[:2] == expected


async def test_a_lost_combined_notification_is_settled_by_the_query_job(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    shops = await _two_shops(cn_client, alipay, wechat)
    out = await _checkout(cn_client, shops, "wechatpay")
    [combine] = wechat.combines.values()
    wechat.pay_combined(combine.combine_out_trade_no, deliver=False)  # the notification never comes
    clock.travel(timedelta(minutes=2))
    assert await orders_payments.settle_lost_payments(cn_app.state.sessionmaker, cn_app.state.settings) == 2
    assert len(wechat.calls_to("GET", "/v3/combine-transactions/out-trade-no/")) == 1  # one question for both
    for p in out["payments"]:
        s = next(s for s in shops if s.m.id == p["merchant_id"])
        assert (await _state(cn_client, s, p["order_id"]))[:2] == ("paid", "paid")


async def test_an_unpaid_combined_payment_is_closed_once_every_share_is_cancelled(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    shops = await _two_shops(cn_client, alipay, wechat)
    out = await _checkout(cn_client, shops, "wechatpay")
    [combine] = wechat.combines.values()
    clock.travel(timedelta(minutes=31))
    assert await cancellation.expire_holds(cn_app.state.sessionmaker, cn_app.state.settings) == 2
    assert len(wechat.calls_to("POST", "/v3/combine-transactions/out-trade-no/")) == 1
    assert {wechat.transaction(p["id"]).trade_state for p in out["payments"]} == {"CLOSED"}
    assert await _count(cn_app, Payment, Payment.status == "cancelled") == 2
    assert combine.combine_out_trade_no


# ---- WeChat Pay inside WeChat: JSAPI ----------------------------------------------------------------------------

async def test_inside_wechat_the_answer_carries_the_signed_jsapi_parameters(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    shops = await _two_shops(cn_client, alipay, wechat)
    one = await _checkout(cn_client, shops[:1], "wechatpay", headers=WECHAT_BROWSER, wechat_openid=OPENID)
    bridge = one["payment"]["jsapi"]
    assert set(bridge) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert "code_url" not in one["payment"] and "h5_url" not in one["payment"]
    assert wechat.verify_jsapi(bridge)  # what the WeChat client checks before it shows the payment
    t = wechat.transaction(one["payment"]["id"])
    assert (t.trade_type, t.openid) == ("JSAPI", OPENID)
    assert not wechat.verify_jsapi({**bridge, "package": "prepay_id=wx000forged"})

    both = await _checkout(cn_client, shops, "wechatpay", headers=WECHAT_BROWSER, wechat_openid=OPENID)
    [combine] = [c for c in wechat.combines.values()]
    assert combine.openid == OPENID and all(wechat.verify_jsapi(p["jsapi"]) for p in both["payments"])
    r = await cn_client.post("/v1/checkout", json=f.checkout_body([(shops[0].variant_id, 1)], method="wechatpay",
                                                                  wechat_openid="bad openid!"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"].endswith("wechat_openid")


# ---- WeChat Pay refund notifications -----------------------------------------------------------------------------

async def _paid_wechat_order(client: httpx.AsyncClient, alipay: FakeAlipay,
                             wechat: FakeWechatPay) -> tuple[CnShop, dict[str, Any]]:
    s = await cn_shop(client, alipay, wechat, price=10_000)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], method="wechatpay"))
    out = r.json()
    assert (await _wechat_notify(client, wechat.pay(out["payment"]["id"]))).status_code == 200
    return s, out


async def _refund(app: Any, order_id: str, amount: int) -> str:
    async with app.state.sessionmaker() as session:
        order = await session.get(Order, order_id, with_for_update=True)
        refund_id = await orders_payments.record_refund(session, order, amount, "goodwill")
        await session.commit()
        assert refund_id and await orders_payments.settle_refunds(session, settings=app.state.settings,
                                                                  refund_ids=[refund_id])
    return refund_id


async def _refund_row(app: Any, refund_id: str) -> Refund:
    async with app.state.sessionmaker() as session:
        found = await session.get(Refund, refund_id)
        assert found is not None
        return found


async def test_a_refund_notification_settles_the_refund_once(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    s, out = await _paid_wechat_order(cn_client, alipay, wechat)
    order_id = out["orders"][0]["id"]
    refund_id = await _refund(cn_app, order_id, 4_000)
    assert (await _refund_row(cn_app, refund_id)).status == "processing"  # WeChat Pay took it, not yet paid back

    notice = wechat.settle_refund(refund_id)
    assert notice is not None
    forged = wechat.refund_notification(refund_id, apiv3_key="f" * 32)
    assert (await _wechat_notify(cn_client, forged)).status_code == 400
    assert (await _refund_row(cn_app, refund_id)).status == "processing"
    answers = await asyncio.gather(*[_wechat_notify(cn_client, notice) for _ in range(20)])  # at once
    assert [r.status_code for r in answers] == [200] * 20
    row = await _refund_row(cn_app, refund_id)
    assert (row.status, row.settled_at is not None) == ("succeeded", True)
    assert await _count(cn_app, OutboxEvent, OutboxEvent.kind == "refund.succeeded") == 1
    assert await _state(cn_client, s, order_id) == ("paid", "partially_refunded", 4_000)


async def test_a_closed_refund_is_given_back_to_the_order_an_abnormal_one_stays_owed(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    s, out = await _paid_wechat_order(cn_client, alipay, wechat)
    order_id = out["orders"][0]["id"]
    closed = await _refund(cn_app, order_id, 4_000)
    abnormal = await _refund(cn_app, order_id, 6_000)
    assert await _state(cn_client, s, order_id) == ("paid", "refunded", 10_000)
    for refund_id, status in ((closed, "CLOSED"), (abnormal, "ABNORMAL")):
        notice = wechat.settle_refund(refund_id, status=status)
        assert (await _wechat_notify(cn_client, notice)).status_code == 200
        assert (await _wechat_notify(cn_client, notice)).status_code == 200  # again: nothing more
        assert (await _refund_row(cn_app, refund_id)).status == "failed"
    # The closed refund's money stayed with the merchant: the order may be refunded that much again. The abnormal
    # one left the merchant but did not reach the buyer: still owed (by hand, with the buyer), never refunded twice.
    assert await _state(cn_client, s, order_id) == ("paid", "partially_refunded", 6_000)
    assert await _count(cn_app, OutboxEvent, OutboxEvent.kind == "refund.failed") == 2
    again = await _refund(cn_app, order_id, 4_000)
    assert (await _refund_row(cn_app, again)).status == "processing"


async def test_refund_notifications_that_do_not_check_change_nothing(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay, wechat: FakeWechatPay):
    s, out = await _paid_wechat_order(cn_client, alipay, wechat)
    refund_id = await _refund(cn_app, out["orders"][0]["id"], 4_000)
    wechat.settle_refund(refund_id, deliver=False)
    other_amount = wechat.refund_notification(refund_id, resource_overrides={
        "amount": {"total": 10_000, "refund": 1, "payer_total": 10_000, "payer_refund": 1}})
    assert (await _wechat_notify(cn_client, other_amount)).status_code == 409
    unknown = wechat.refund_notification(refund_id, resource_overrides={"out_refund_no": "ref_notours0000001"})
    assert (await _wechat_notify(cn_client, unknown)).status_code == 404
    assert (await _refund_row(cn_app, refund_id)).status == "processing"
    # Its notification lost, the refund is settled by asking WeChat Pay (the refund job, after a minute).
    clock.travel(timedelta(minutes=2))
    await orders_payments.retry_refunds(cn_app.state.sessionmaker, cn_app.state.settings)
    assert (await _refund_row(cn_app, refund_id)).status == "succeeded"
    assert await _state(cn_client, s, out["orders"][0]["id"]) == ("paid", "partially_refunded", 4_000)



async def test_inside_wechat_the_storefront_learns_the_openid_and_offers_the_js_bridge(
        db_url: str, fake_stripe: Any, alipay: FakeAlipay, wechat: FakeWechatPay, app_key: Any, merchant_key: Any,
        tmp_path: Any):
    import html
    import json
    import re

    from app.main import create_app
    from tests.conftest import _empty_tables, make_settings
    from tests.payments.conftest import cn_settings
    from tests.web.helpers import assert_good_page, csrf

    await _empty_tables(db_url)
    oauth = "https://oauth.example.com/wechat/base"  # the platform's OAuth step: configured, never called here
    app = create_app(make_settings(db_url, **cn_settings(
        db_url, alipay=alipay, wechat=wechat, app_key=app_key, merchant_key=merchant_key,
        stripe_api_base=fake_stripe.url, shop_media_root=str(tmp_path / "media"), wechatpay_oauth_url=oauth)))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver",
                                     headers=WECHAT_BROWSER, timeout=60) as c:
            s = await cn_shop(c, alipay, wechat, price=10_000)
            page = assert_good_page(await c.get(f"/products/{s.shop.product['id']}"))
            await c.post("/cart/items", data={"csrf": csrf(page), "variant_id": s.variant_id, "quantity": "1"})
            sent = await c.get("/checkout")  # no openid yet: to the OAuth step first
            assert sent.status_code in (302, 303) and sent.headers["location"].startswith(oauth + "?")
            step = dict(parse_qsl(urlsplit(sent.headers["location"]).query))
            assert step["appid"] == wechat.appid and step["redirect_uri"].endswith("/wechat/openid?next=%2Fcheckout")
            forged = await c.get("/wechat/openid", params={"openid": OPENID, "state": "not-ours"})
            assert forged.status_code == 400 and "微信授权已失效" in forged.text
            back = await c.get("/wechat/openid", params={"openid": OPENID, "state": step["state"],
                                                         "next": "/checkout"})
            assert back.status_code in (302, 303) and back.headers["location"] == "/checkout"
            form = assert_good_page(await c.get("/checkout"))
            placed = await c.post("/checkout", data={
                "csrf": csrf(form), "email": "li@example.com", "fulfilment": "delivery", "name": "李四",
                "phone": "13800138000", "province": "上海市", "city": "上海市", "district": "徐汇区",
                "line1": "漕溪北路 398 号", "postal_code": "200030", "payment_method": "wechatpay"})
            assert placed.status_code in (302, 303), placed.text
            shown = await c.get(placed.headers["location"])
            assert_good_page(shown)
            found = re.search(r'data-jsapi="([^"]+)" data-testid="wechat-jsapi"', shown.text)
            assert found, "no WeChat Pay button on the order page"
            bridge = json.loads(html.unescape(found.group(1)))
            assert wechat.verify_jsapi(bridge)
            [t] = wechat.transactions.values()
            assert (t.trade_type, t.openid, t.sub_mchid) == ("JSAPI", OPENID, s.sub_mchid)
    finally:
        await app.state.engine.dispose()
