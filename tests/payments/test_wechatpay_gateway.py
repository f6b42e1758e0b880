"""app.payments.wechatpay.gateway through the real wechatpayv3 SDK against the local WeChat Pay fake.

Every key is made here. The fake checks the SDK's request signatures with the merchant certificate's public
key, signs its answers and notifications with its platform key and encrypts notification resources with the
API v3 key; the SDK reaches it through its proxy option, over TLS the test trusts.
"""

from __future__ import annotations

import csv
import io
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.config import Settings
from app.core.clock import SHANGHAI
from app.payments.sandbox.keys import tls_identity
from app.payments.sandbox.wechatpay import API_HOST
from app.payments.wechatpay import gateway as gw
from app.payments.wechatpay.gateway import (
    BillFormatError,
    InvalidNotification,
    SubOrder,
    WechatPayConfig,
    WechatPayError,
)
from tests.fakes.wechatpay_server import FakeWechatPay, private_pem, public_pem, rsa_key, wechatpay_config

MCHID = "1900000100"
APPID = "wx8888888888888888"
APIV3_KEY = "liutong-sandbox-apiv3-key-32byte"
SERIAL = "5157F09EFDC096DE15EBE81A47057A72"
SHOP_A, SHOP_B, SHOP_C = "1900000109", "1900000110", "1900000111"
NOTIFY_URL = "https://shop.example/v1/payments/wechatpay/notify"


@pytest.fixture(scope="module")
def merchant_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def stranger_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def server(merchant_key: rsa.RSAPrivateKey) -> Iterator[FakeWechatPay]:
    with FakeWechatPay(mchid=MCHID, appid=APPID, apiv3_key=APIV3_KEY, merchant_public_key=public_pem(merchant_key),
                       merchant_serial_no=SERIAL, sub_mchids=[SHOP_A, SHOP_B]) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeWechatPay, monkeypatch: pytest.MonkeyPatch) -> FakeWechatPay:
    server.reset()
    server.platform_mode = "public_key"
    # the SDK's HTTP client (requests) must trust the fake's TLS authority for api.mch.weixin.qq.com
    assert server.ca_bundle_path is not None
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", server.ca_bundle_path)
    return server


@pytest.fixture
def config(fake: FakeWechatPay, merchant_key: rsa.RSAPrivateKey) -> WechatPayConfig:
    return wechatpay_config(fake, merchant_key)


async def _native(config: WechatPayConfig, out_trade_no: str, amount: int, sub_mchid: str = SHOP_A) -> str:
    return await gw.native_pay(config, sub_mchid=sub_mchid, out_trade_no=out_trade_no, amount=amount,
                               description="男士羽绒服 Down Jacket", notify_url=NOTIFY_URL)


async def _paid(config: WechatPayConfig, fake: FakeWechatPay, out_trade_no: str, amount: int,
                sub_mchid: str = SHOP_A) -> None:
    await _native(config, out_trade_no, amount, sub_mchid)
    fake.pay(out_trade_no, sub_mchid=sub_mchid)


# --------------------------------------------------------------------------- paying


async def test_native_pay_returns_a_code_url_for_the_merchant(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    expires = datetime(2031, 5, 6, 1, 2, 3, tzinfo=UTC)
    code_url = await gw.native_pay(config, sub_mchid=SHOP_A, out_trade_no="N0000001", amount=1234,
                                   description="羽绒服", notify_url=NOTIFY_URL, time_expire=expires, attach="ord_1")

    assert code_url.startswith("weixin://wxpay/bizpayurl?pr=")
    [call] = fake.calls_to("POST", "/v3/pay/partner/transactions/native")
    assert call.body == {
        "notify_url": NOTIFY_URL, "description": "羽绒服", "out_trade_no": "N0000001",
        "amount": {"total": 1234, "currency": "CNY"}, "time_expire": "2031-05-06T09:02:03+08:00",
        "attach": "ord_1", "sp_appid": APPID, "sp_mchid": MCHID, "sub_mchid": SHOP_A,
    }
    transaction = fake.transaction("N0000001")
    assert (transaction.total, transaction.sub_mchid, transaction.trade_state) == (1234, SHOP_A, "NOTPAY")


async def test_h5_pay_returns_the_url_to_send_the_phone_to(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    h5_url = await gw.h5_pay(config, sub_mchid=SHOP_A, out_trade_no="H0000001", amount=99, description="水果",
                             notify_url=NOTIFY_URL, payer_client_ip="203.0.113.7")

    [call] = fake.calls_to("POST", "/v3/pay/partner/transactions/h5")
    assert call.body is not None
    assert call.body["scene_info"] == {"payer_client_ip": "203.0.113.7", "h5_info": {"type": "Wap"}}
    async with httpx.AsyncClient() as client:
        page = await client.get(h5_url)
    assert page.status_code == 200 and "0.99" in page.text and "沙箱" in page.text


async def test_jsapi_pay_gives_bridge_parameters_the_wechat_client_accepts(
    config: WechatPayConfig, fake: FakeWechatPay
) -> None:
    payment = await gw.jsapi_pay(config, sub_mchid=SHOP_A, out_trade_no="J0000001", amount=500,
                                 description="茶叶", notify_url=NOTIFY_URL, openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")

    bridge = payment.bridge()
    assert bridge["appId"] == APPID and bridge["package"] == f"prepay_id={payment.prepay_id}"
    assert bridge["signType"] == "RSA"
    assert fake.verify_jsapi(bridge)
    assert not fake.verify_jsapi({**bridge, "package": "prepay_id=wx_someone_else"})
    assert not fake.verify_jsapi({**bridge, "timeStamp": str(int(bridge["timeStamp"]) + 1)})
    [call] = fake.calls_to("POST", "/v3/pay/partner/transactions/jsapi")
    assert call.body is not None and call.body["payer"] == {"sp_openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}


async def test_jsapi_pay_under_the_merchants_own_app(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    payment = await gw.jsapi_pay(config, sub_mchid=SHOP_A, out_trade_no="J0000002", amount=500, description="茶叶",
                                 notify_url=NOTIFY_URL, openid="oSubOpenId", sub_appid="wx1111111111111111")
    assert payment.bridge()["appId"] == "wx1111111111111111"
    assert fake.verify_jsapi(payment.bridge())
    [call] = fake.calls_to("POST", "/v3/pay/partner/transactions/jsapi")
    assert call.body is not None and call.body["payer"] == {"sub_openid": "oSubOpenId"}


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", 0), ("amount", True), ("out_trade_no", "T1"), ("out_trade_no", "T" * 33),
     ("out_trade_no", "T0000 01"), ("sub_mchid", "shop-a"), ("description", ""),
     ("time_expire", datetime(2031, 1, 1))],
)
async def test_prepay_refuses_what_wechat_pay_would(config: WechatPayConfig, field: str, value: Any) -> None:
    args: dict[str, Any] = {"sub_mchid": SHOP_A, "out_trade_no": "V0000001", "amount": 100, "description": "袜子",
                            "notify_url": NOTIFY_URL}
    args[field] = value
    with pytest.raises(ValueError):
        await gw.native_pay(config, **args)


async def test_a_merchant_not_bound_to_the_platform_is_refused(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    with pytest.raises(WechatPayError) as caught:
        await _native(config, "U0000001", 100, sub_mchid=SHOP_C)
    assert (caught.value.code, caught.value.http_status) == ("INVALID_REQUEST", 400)
    assert fake.transactions == {}


async def test_an_order_number_is_one_payment(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    first = await _native(config, "O0000001", 100)
    assert await _native(config, "O0000001", 100) == first  # the same request again: the same payment
    with pytest.raises(WechatPayError, match="INVALID_REQUEST"):
        await _native(config, "O0000001", 200)
    fake.pay("O0000001")
    with pytest.raises(WechatPayError) as caught:
        await _native(config, "O0000001", 100)
    assert caught.value.code == "ORDERPAID"


# --------------------------------------------------------------------------- query, close


async def test_query_follows_the_payment_from_unknown_to_paid(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    assert await gw.query(config, sub_mchid=SHOP_A, out_trade_no="Q0000001") is None

    await _native(config, "Q0000001", 123456)
    waiting = await gw.query(config, sub_mchid=SHOP_A, out_trade_no="Q0000001")
    assert waiting is not None and waiting.trade_state == "NOTPAY" and not waiting.paid
    assert waiting.transaction_id is None

    fake.pay("Q0000001")
    paid = await gw.query(config, sub_mchid=SHOP_A, out_trade_no="Q0000001")
    assert paid is not None and paid.paid
    assert (paid.total, paid.payer_total, paid.sub_mchid) == (123456, 123456, SHOP_A)
    assert paid.transaction_id == fake.transaction("Q0000001").transaction_id
    assert await gw.query(config, sub_mchid=SHOP_B, out_trade_no="Q0000001") is None  # another merchant's


async def test_close_closes_an_unpaid_payment_and_refuses_a_paid_one(config: WechatPayConfig,
                                                                     fake: FakeWechatPay) -> None:
    assert await gw.close(config, sub_mchid=SHOP_A, out_trade_no="C0000001") is False
    await _native(config, "C0000001", 100)
    assert await gw.close(config, sub_mchid=SHOP_A, out_trade_no="C0000001") is True
    closed = await gw.query(config, sub_mchid=SHOP_A, out_trade_no="C0000001")
    assert closed is not None and closed.trade_state == "CLOSED"

    await _paid(config, fake, "C0000002", 100)
    with pytest.raises(WechatPayError) as caught:
        await gw.close(config, sub_mchid=SHOP_A, out_trade_no="C0000002")
    assert caught.value.code == "ORDERPAID"


# --------------------------------------------------------------------------- notifications


async def test_a_payment_notification_verifies_and_decrypts(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    await _native(config, "P0000001", 4321)
    notice = fake.pay("P0000001")
    assert notice.url == NOTIFY_URL
    assert "ciphertext" in json.loads(notice.body)["resource"]  # the payment is not readable on the wire

    parsed = await gw.verify_notification(config, headers=notice.headers, body=notice.body)

    assert parsed.event_type == "TRANSACTION.SUCCESS"
    assert parsed.transaction is not None
    assert (parsed.transaction.out_trade_no, parsed.transaction.total, parsed.transaction.sub_mchid) == (
        "P0000001", 4321, SHOP_A)
    assert parsed.transaction.transaction_id == fake.transaction("P0000001").transaction_id
    assert parsed.transaction.paid and parsed.refund is None and parsed.combined is None
    assert parsed.id == json.loads(notice.body)["id"]


async def test_headers_are_found_whatever_their_case(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    await _native(config, "P0000002", 100)
    notice = fake.pay("P0000002")
    lowered = {name.lower(): value for name, value in notice.headers.items()}
    assert (await gw.verify_notification(config, headers=lowered, body=notice.body)).transaction is not None


async def test_a_notification_with_a_bad_signature_is_rejected(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    await _native(config, "P0000003", 100)
    await _native(config, "P0000004", 100)
    notice, other = fake.pay("P0000003"), fake.pay("P0000004")

    changed_body = notice.body.replace("支付成功".encode(), "支付失败".encode())
    assert changed_body != notice.body
    for headers, body in (
        (notice.headers, changed_body),  # the body changed after WeChat Pay signed it
        ({**notice.headers, "Wechatpay-Signature": other.headers["Wechatpay-Signature"]}, notice.body),
        ({**notice.headers, "Wechatpay-Signature": "bm90IGEgc2lnbmF0dXJl"}, notice.body),
        ({**notice.headers, "Wechatpay-Nonce": "another-nonce"}, notice.body),
    ):
        with pytest.raises(InvalidNotification):
            await gw.verify_notification(config, headers=headers, body=body)


async def test_a_notification_signed_with_another_key_is_rejected(
    config: WechatPayConfig, fake: FakeWechatPay, stranger_key: rsa.RSAPrivateKey
) -> None:
    await _paid(config, fake, "P0000005", 100)
    forged = fake.transaction_notification("P0000005", signing_key=stranger_key)
    with pytest.raises(InvalidNotification, match="signature"):
        await gw.verify_notification(config, headers=forged.headers, body=forged.body)


async def test_a_stale_or_future_notification_is_rejected(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    await _paid(config, fake, "P0000006", 100)
    for offset in (-301, -3600, 301):
        notice = fake.transaction_notification("P0000006", timestamp=int(time.time()) + offset)
        with pytest.raises(InvalidNotification, match="5 minutes"):
            await gw.verify_notification(config, headers=notice.headers, body=notice.body)


async def test_the_five_minute_window_is_inclusive(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    await _paid(config, fake, "P0000007", 100)
    stamp = int(time.time())
    notice = fake.transaction_notification("P0000007", timestamp=stamp)
    for now in (stamp + 300, stamp - 300):
        assert (await gw.verify_notification(config, headers=notice.headers, body=notice.body, now=now)).transaction
    for now in (stamp + 301, stamp - 301):
        with pytest.raises(InvalidNotification, match="5 minutes"):
            await gw.verify_notification(config, headers=notice.headers, body=notice.body, now=now)


async def test_a_notification_encrypted_with_another_key_is_rejected(config: WechatPayConfig,
                                                                     fake: FakeWechatPay) -> None:
    await _paid(config, fake, "P0000008", 100)
    notice = fake.transaction_notification("P0000008", apiv3_key="another-apiv3-key-of-thirty-two!")
    with pytest.raises(InvalidNotification, match="decrypt"):
        await gw.verify_notification(config, headers=notice.headers, body=notice.body)


async def test_a_notification_naming_another_key_is_rejected_without_asking_wechat_pay(
    config: WechatPayConfig, fake: FakeWechatPay
) -> None:
    await _paid(config, fake, "P0000009", 100)
    notice = fake.transaction_notification("P0000009", serial="PUB_KEY_ID_0000000000000000000000000000000")
    calls = len(fake.calls)
    with pytest.raises(InvalidNotification, match="platform public key"):
        await gw.verify_notification(config, headers=notice.headers, body=notice.body)
    assert len(fake.calls) == calls  # no certificate download was set off


async def test_a_notification_without_its_headers_is_rejected(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    await _paid(config, fake, "P0000010", 100)
    notice = fake.transaction_notification("P0000010")
    for name in ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
                 "Wechatpay-Signature-Type"):
        headers = {k: v for k, v in notice.headers.items() if k != name}
        with pytest.raises(InvalidNotification, match=name):
            await gw.verify_notification(config, headers=headers, body=notice.body)


async def test_a_notification_for_another_service_provider_is_rejected(config: WechatPayConfig,
                                                                       fake: FakeWechatPay) -> None:
    await _paid(config, fake, "P0000011", 100)
    notice = fake.transaction_notification("P0000011", resource_overrides={"sp_mchid": "1900009999"})
    with pytest.raises(InvalidNotification, match="mchid"):
        await gw.verify_notification(config, headers=notice.headers, body=notice.body)


async def test_a_signed_notification_for_another_amount_parses_as_sent(config: WechatPayConfig,
                                                                       fake: FakeWechatPay) -> None:
    """WeChat Pay's word on the amount is passed on exactly; whether it matches the order is the caller's."""
    await _paid(config, fake, "P0000012", 5000)
    notice = fake.transaction_notification(
        "P0000012", resource_overrides={"amount": {"total": 4999, "payer_total": 4999, "currency": "CNY"}})
    parsed = await gw.verify_notification(config, headers=notice.headers, body=notice.body)
    assert parsed.transaction is not None and parsed.transaction.total == 4999


async def test_platform_certificate_mode(fake: FakeWechatPay, merchant_key: rsa.RSAPrivateKey) -> None:
    """Accounts without a platform public key: the SDK downloads the platform certificate (from the fake)
    and checks answers and notifications with it."""
    config = wechatpay_config(fake, merchant_key, public_key=False)
    fake.platform_mode = "certificate"
    await _paid(config, fake, "K0000001", 700)

    notice = fake.transaction_notification("K0000001")
    parsed = await gw.verify_notification(config, headers=notice.headers, body=notice.body)

    assert parsed.transaction is not None and parsed.transaction.total == 700
    assert fake.calls_to("GET", "/v3/certificates")
    paid = await gw.query(config, sub_mchid=SHOP_A, out_trade_no="K0000001")
    assert paid is not None and paid.paid


# --------------------------------------------------------------------------- refunds


async def test_partial_refund_then_a_retry_with_the_same_number_refunds_once(
    config: WechatPayConfig, fake: FakeWechatPay
) -> None:
    await _paid(config, fake, "F0000001", 10000)

    first = await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000001", out_refund_no="F0000001-R1",
                            amount=3000, total=10000, notify_url=NOTIFY_URL, reason="少发一件")
    retry = await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000001", out_refund_no="F0000001-R1",
                            amount=3000, total=10000, notify_url=NOTIFY_URL, reason="少发一件")

    assert first.refund_id == retry.refund_id
    assert (first.status, first.refund, first.total) == ("PROCESSING", 3000, 10000)
    assert len(fake.refunds) == 1
    paid = await gw.query(config, sub_mchid=SHOP_A, out_trade_no="F0000001")
    assert paid is not None and paid.trade_state == "REFUND" and paid.paid

    notice = fake.settle_refund("F0000001-R1")
    assert notice is not None
    parsed = await gw.verify_notification(config, headers=notice.headers, body=notice.body)
    assert parsed.event_type == "REFUND.SUCCESS" and parsed.refund is not None
    assert (parsed.refund.out_refund_no, parsed.refund.refund, parsed.refund.status) == ("F0000001-R1", 3000,
                                                                                         "SUCCESS")
    settled = await gw.query_refund(config, sub_mchid=SHOP_A, out_refund_no="F0000001-R1")
    assert settled is not None and settled.succeeded

    rest = await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000001", out_refund_no="F0000001-R2",
                           amount=7000, total=10000)
    assert rest.refund == 7000
    with pytest.raises(WechatPayError) as caught:
        await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000001", out_refund_no="F0000001-R3",
                        amount=1, total=10000)
    assert caught.value.code == "NOT_ENOUGH"
    assert sum(r.refund for r in fake.refunds.values()) == 10000


async def test_a_refund_number_cannot_name_another_refund(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    await _paid(config, fake, "F0000002", 1000)
    await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000002", out_refund_no="F0000002-R1", amount=100,
                    total=1000)
    with pytest.raises(WechatPayError, match="INVALID_REQUEST"):
        await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000002", out_refund_no="F0000002-R1",
                        amount=200, total=1000)
    assert fake.refund("F0000002-R1").refund == 100


async def test_a_refund_number_answered_with_an_earlier_refund_is_an_error(
    config: WechatPayConfig, fake: FakeWechatPay
) -> None:
    """Were WeChat Pay to answer a reused number with the earlier refund, the caller must not take it for
    the refund it asked for."""
    fake.reused_refund_number = "return_original"
    try:
        await _paid(config, fake, "F0000004", 1000)
        await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000004", out_refund_no="F0000004-R1", amount=100,
                        total=1000)
        with pytest.raises(WechatPayError, match="names a refund of 100 fen"):
            await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000004", out_refund_no="F0000004-R1",
                            amount=300, total=1000)
    finally:
        fake.reused_refund_number = "refuse"
    assert sum(r.refund for r in fake.refunds.values()) == 100


async def test_refunds_need_a_paid_order_and_the_right_total(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    await _native(config, "F0000003", 1000)
    with pytest.raises(WechatPayError, match="INVALID_REQUEST"):
        await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000003", out_refund_no="F0000003-R1",
                        amount=100, total=1000)
    fake.pay("F0000003")
    with pytest.raises(WechatPayError, match="INVALID_REQUEST"):
        await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000003", out_refund_no="F0000003-R1",
                        amount=100, total=999)
    with pytest.raises(ValueError):
        await gw.refund(config, sub_mchid=SHOP_A, out_trade_no="F0000003", out_refund_no="F0000003-R1",
                        amount=1001, total=1000)
    assert fake.refunds == {}
    assert await gw.query_refund(config, sub_mchid=SHOP_A, out_refund_no="F0000003-R1") is None


# --------------------------------------------------------------------------- combined payment


async def test_a_combined_payment_pays_two_merchants_at_once(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    orders = [SubOrder(SHOP_A, "S0000001", 1500, "羽绒服", "ord_a"),
              SubOrder(SHOP_B, "S0000002", 2500, "茶叶", "ord_b")]
    payment = await gw.combine_pay(config, combine_out_trade_no="M0000001", orders=orders, channel="native",
                                   notify_url=NOTIFY_URL)
    assert payment.code_url is not None and payment.code_url.startswith("weixin://wxpay/bizpayurl?pr=")
    [call] = fake.calls_to("POST", "/v3/combine-transactions/native")
    assert call.body is not None and [o["sub_mchid"] for o in call.body["sub_orders"]] == [SHOP_A, SHOP_B]
    waiting = await gw.combine_query(config, combine_out_trade_no="M0000001")
    assert waiting is not None and [o.trade_state for o in waiting.sub_orders] == ["NOTPAY", "NOTPAY"]

    notice = fake.pay_combined("M0000001")
    parsed = await gw.verify_notification(config, headers=notice.headers, body=notice.body)

    assert parsed.combined is not None and parsed.transaction is None
    assert [(o.sub_mchid, o.out_trade_no, o.total, o.paid, o.attach) for o in parsed.combined.sub_orders] == [
        (SHOP_A, "S0000001", 1500, True, "ord_a"), (SHOP_B, "S0000002", 2500, True, "ord_b")]
    paid = await gw.combine_query(config, combine_out_trade_no="M0000001")
    assert paid is not None and all(o.paid for o in paid.sub_orders)
    # each merchant's part is refunded on its own
    part = await gw.refund(config, sub_mchid=SHOP_B, out_trade_no="S0000002", out_refund_no="S0000002-R1",
                           amount=2500, total=2500)
    assert part.refund == 2500
    assert fake.transaction("S0000001").trade_state == "SUCCESS"


async def test_a_combined_jsapi_payment_signs_the_bridge(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    orders = [SubOrder(SHOP_A, "S0000003", 100, "袜子", "ord_c"), SubOrder(SHOP_B, "S0000004", 200, "帽子", "ord_d")]
    payment = await gw.combine_pay(config, combine_out_trade_no="M0000002", orders=orders, channel="jsapi",
                                   notify_url=NOTIFY_URL, openid="oUpF8uMuAJO_M2pxb1Q9zNjWeS6o")
    assert payment.jsapi is not None and fake.verify_jsapi(payment.jsapi.bridge())


async def test_an_unpaid_combined_payment_closes_whole(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    orders = [SubOrder(SHOP_A, "S0000005", 100, "袜子", "ord_e"), SubOrder(SHOP_B, "S0000006", 200, "帽子", "ord_f")]
    payment = await gw.combine_pay(config, combine_out_trade_no="M0000003", orders=orders, channel="h5",
                                   notify_url=NOTIFY_URL, payer_client_ip="203.0.113.7")
    assert payment.h5_url is not None

    await gw.combine_close(config, combine_out_trade_no="M0000003",
                           orders=[(SHOP_A, "S0000005"), (SHOP_B, "S0000006")])

    closed = await gw.combine_query(config, combine_out_trade_no="M0000003")
    assert closed is not None and [o.trade_state for o in closed.sub_orders] == ["CLOSED", "CLOSED"]
    with pytest.raises(ValueError):
        await gw.combine_pay(config, combine_out_trade_no="M0000004", orders=orders, channel="h5",
                             notify_url=NOTIFY_URL)  # no payer_client_ip


# --------------------------------------------------------------------------- transport and signatures


async def test_a_request_signed_with_another_merchant_key_is_refused(
    fake: FakeWechatPay, stranger_key: rsa.RSAPrivateKey
) -> None:
    wrong = wechatpay_config(fake, stranger_key)
    with pytest.raises(WechatPayError) as caught:
        await _native(wrong, "X0000001", 100)
    assert (caught.value.code, caught.value.http_status) == ("SIGN_ERROR", 401)
    assert fake.transactions == {}


async def test_an_answer_signed_by_someone_else_is_refused(
    fake: FakeWechatPay, merchant_key: rsa.RSAPrivateKey, stranger_key: rsa.RSAPrivateKey
) -> None:
    base = wechatpay_config(fake, merchant_key)
    wrong = WechatPayConfig(mchid=MCHID, appid=APPID, apiv3_key=APIV3_KEY, private_key=base.private_key,
                            cert_serial_no=SERIAL, public_key=public_pem(stranger_key),
                            public_key_id=fake.public_key_id, api_base=fake.url)
    with pytest.raises(WechatPayError, match="verify the signature"):
        await _native(wrong, "X0000002", 100)


async def test_tls_to_the_api_is_verified(config: WechatPayConfig, fake: FakeWechatPay,
                                          monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without the fake's authority trusted, the SDK refuses its certificate: nothing turns TLS checks off."""
    other_authority = tmp_path / "other-ca.pem"
    other_authority.write_text(tls_identity([API_HOST]).ca_pem)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other_authority))
    with pytest.raises(WechatPayError, match="SSL"):
        await _native(config, "X0000003", 100)


async def test_an_unreachable_proxy_is_a_wechatpay_error(merchant_key: rsa.RSAPrivateKey,
                                                         fake: FakeWechatPay) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base = wechatpay_config(fake, merchant_key)
    closed = WechatPayConfig(mchid=MCHID, appid=APPID, apiv3_key=APIV3_KEY, private_key=base.private_key,
                             cert_serial_no=SERIAL, public_key=base.public_key, public_key_id=base.public_key_id,
                             api_base=f"http://127.0.0.1:{port}")
    with pytest.raises(WechatPayError, match=r"ProxyError|ConnectionError"):
        await _native(closed, "X0000004", 100)


# --------------------------------------------------------------------------- the trade bill


async def test_the_trade_bill_lists_payments_and_refunds(config: WechatPayConfig, fake: FakeWechatPay) -> None:
    await _paid(config, fake, "B0000001", 1234)
    await _paid(config, fake, "B0000002", 50000, sub_mchid=SHOP_B)
    await _native(config, "B0000003", 999)  # never paid: not in the bill
    await gw.refund(config, sub_mchid=SHOP_B, out_trade_no="B0000002", out_refund_no="B0000002-R1", amount=2000,
                    total=50000)
    today = datetime.now(SHANGHAI).date()

    data = await gw.trade_bill(config, bill_date=today)
    assert data is not None
    rows = gw.parse_trade_bill(data)

    by_key = {(row.out_trade_no, row.trade_state): row for row in rows}
    assert set(by_key) == {("B0000001", "SUCCESS"), ("B0000002", "SUCCESS"), ("B0000002", "REFUND")}
    first = by_key["B0000001", "SUCCESS"]
    assert (first.settlement_total, first.order_total, first.sub_mchid, first.mchid) == (1234, 1234, SHOP_A, MCHID)
    assert first.transaction_id == fake.transaction("B0000001").transaction_id
    assert first.fee == 7  # 0.6 % of 12.34 is 0.07404 yuan
    refund = by_key["B0000002", "REFUND"]
    assert (refund.refund, refund.out_refund_no, refund.sub_mchid) == (2000, "B0000002-R1", SHOP_B)

    only_b = gw.parse_trade_bill(await gw.trade_bill(config, bill_date=today, sub_mchid=SHOP_B) or b"")
    assert {row.sub_mchid for row in only_b} == {SHOP_B}
    assert await gw.trade_bill(config, bill_date=today - timedelta(days=1)) is None  # nothing that day


def test_a_bill_that_is_not_wechat_pays_is_refused() -> None:
    with pytest.raises(BillFormatError):
        gw.parse_trade_bill(b"\xff\xfe not utf-8")
    with pytest.raises(BillFormatError, match="columns"):
        gw.parse_trade_bill(b"a,b,c\n1,2,3\n")
    out = io.StringIO()
    csv.writer(out).writerows([["交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "退款金额"],
                               ["`2031-01-01 00:00:00", "`4200", "`B1", "`SUCCESS", "`1.234", "`0.00"]])
    with pytest.raises(BillFormatError, match="应结订单金额"):
        gw.parse_trade_bill(out.getvalue().encode())


# --------------------------------------------------------------------------- settings


def test_settings_without_wechat_pay_configure_nothing() -> None:
    assert WechatPayConfig.from_settings(Settings(wechatpay_mchid=MCHID)) is None


def test_settings_make_a_config_and_only_a_non_default_base_is_a_proxy(merchant_key: rsa.RSAPrivateKey) -> None:
    values: dict[str, Any] = {
        "wechatpay_mchid": MCHID, "wechatpay_appid": APPID, "wechatpay_apiv3_key": APIV3_KEY,
        "wechatpay_private_key": private_pem(merchant_key), "wechatpay_cert_serial_no": SERIAL,
    }
    direct = WechatPayConfig.from_settings(Settings(**values))
    assert direct is not None and direct.proxy is None and direct.public_key is None
    sandboxed = WechatPayConfig.from_settings(Settings(**values, wechatpay_api_base="http://127.0.0.1:8100",
                                                       wechatpay_public_key=public_pem(merchant_key),
                                                       wechatpay_public_key_id="PUB_KEY_ID_01"))
    assert sandboxed is not None and sandboxed.proxy == {"https": "http://127.0.0.1:8100"}
    assert APIV3_KEY not in repr(sandboxed) and "PRIVATE" not in repr(sandboxed)
    with pytest.raises(ValueError, match="32 bytes"):
        WechatPayConfig.from_settings(Settings(**{**values, "wechatpay_apiv3_key": "short"}))
    with pytest.raises(ValueError, match="go together"):
        WechatPayConfig.from_settings(Settings(**values, wechatpay_public_key=public_pem(merchant_key)))
