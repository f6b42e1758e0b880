"""app.payments.alipay.gateway through the real python-alipay-sdk against the local Alipay fake.

Every key is made here; the fake checks the SDK's RSA2 signatures with the app's public key and signs its
answers and notifications with its own Alipay key, which the gateway checks.
"""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.config import Settings
from app.core.clock import SHANGHAI
from app.payments.alipay import gateway as gw
from app.payments.alipay.gateway import AlipayConfig, AlipayError, BillFormatError, InvalidNotification
from app.payments.credentials import InvalidKey
from app.payments.sandbox.server import Delivery
from tests.fakes.alipay_server import FakeAlipay, alipay_config, private_pem, public_pem, rsa_key

APP_ID = "2021000000000042"
NOTIFY_URL = "https://shop.example/v1/payments/alipay/notify"


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def stranger_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="module")
def server(app_key: rsa.RSAPrivateKey) -> Iterator[FakeAlipay]:
    with FakeAlipay(app_id=APP_ID, app_public_key=public_pem(app_key)) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeAlipay) -> FakeAlipay:
    server.reset()
    return server


@pytest.fixture
def config(fake: FakeAlipay, app_key: rsa.RSAPrivateKey) -> AlipayConfig:
    return alipay_config(fake, app_key)


def _verifies(public: rsa.RSAPublicKey, content: str, sign: str) -> bool:
    try:
        public.verify(base64.b64decode(sign), content.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


async def _open_trade(config: AlipayConfig, out_trade_no: str, amount: int, *, token: str | None = None,
                      wap: bool = False) -> str:
    """What a buyer's browser does: open the signed cashier URL (which creates the trade at Alipay)."""
    make = gw.wap_pay_url if wap else gw.page_pay_url
    url = await make(config, out_trade_no=out_trade_no, amount=amount, subject="男士羽绒服 Down Jacket",
                     notify_url=NOTIFY_URL, return_url="https://shop.example/orders/1", app_auth_token=token)
    async with httpx.AsyncClient() as client:
        page = await client.get(url)
    assert page.status_code == 200, page.text
    return url


async def _paid_trade(config: AlipayConfig, fake: FakeAlipay, out_trade_no: str, amount: int) -> None:
    await _open_trade(config, out_trade_no, amount)
    fake.pay(out_trade_no)


# --------------------------------------------------------------------------- paying


async def test_page_pay_url_is_signed_by_the_app_and_opens_the_cashier(
    config: AlipayConfig, fake: FakeAlipay, app_key: rsa.RSAPrivateKey
) -> None:
    expires = datetime(2031, 5, 6, 1, 2, 3, tzinfo=UTC)
    url = await gw.page_pay_url(config, out_trade_no="T20310506_1", amount=1234, subject="羽绒服",
                                notify_url=NOTIFY_URL, return_url="https://shop.example/back", time_expire=expires)

    assert url.startswith(fake.gateway_url + "?")
    params = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert params["method"] == "alipay.trade.page.pay"
    assert params["app_id"] == APP_ID
    assert params["sign_type"] == "RSA2"
    assert params["notify_url"] == NOTIFY_URL
    signed = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v)
    assert _verifies(app_key.public_key(), signed, params["sign"])
    assert json.loads(params["biz_content"]) == {
        "out_trade_no": "T20310506_1",
        "total_amount": "12.34",
        "subject": "羽绒服",
        "product_code": "FAST_INSTANT_TRADE_PAY",
        "time_expire": "2031-05-06 09:02:03",  # Beijing time
    }

    async with httpx.AsyncClient() as client:
        page = await client.get(url)
    assert page.status_code == 200
    assert "12.34" in page.text and "沙箱" in page.text
    trade = fake.trade("T20310506_1")
    assert (trade.total_amount, trade.status, trade.seller_id) == (1234, "WAIT_BUYER_PAY", fake.seller_id)


async def test_wap_pay_url_opens_the_phone_cashier(config: AlipayConfig, fake: FakeAlipay) -> None:
    url = await gw.wap_pay_url(config, out_trade_no="W1", amount=99, subject="水果", notify_url=NOTIFY_URL,
                               quit_url="https://shop.example/cart")
    params = dict(parse_qsl(urlsplit(url).query))
    biz = json.loads(params["biz_content"])
    assert params["method"] == "alipay.trade.wap.pay"
    assert (biz["product_code"], biz["total_amount"], biz["quit_url"]) == ("QUICK_WAP_WAY", "0.99",
                                                                           "https://shop.example/cart")
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 200
    assert fake.trade("W1").method == "alipay.trade.wap.pay"


async def test_a_pay_url_changed_after_signing_is_refused(config: AlipayConfig, fake: FakeAlipay) -> None:
    url = await gw.page_pay_url(config, out_trade_no="T2", amount=10000, subject="电视机", notify_url=NOTIFY_URL)
    tampered = url.replace("100.00", "1.00")
    assert tampered != url
    async with httpx.AsyncClient() as client:
        page = await client.get(tampered)
    assert page.status_code == 400
    assert "isv.invalid-signature" in page.text
    assert fake.trades == {}


async def test_subject_loses_the_characters_alipay_refuses(config: AlipayConfig, fake: FakeAlipay) -> None:
    url = await gw.page_pay_url(config, out_trade_no="T3", amount=500, subject="T恤/短袖 = 好&便宜",
                                notify_url=NOTIFY_URL)
    assert json.loads(dict(parse_qsl(urlsplit(url).query))["biz_content"])["subject"] == "T恤 短袖 好 便宜"
    async with httpx.AsyncClient() as client:
        assert (await client.get(url)).status_code == 200


@pytest.mark.parametrize(
    ("field", "value"),
    [("amount", 0), ("amount", -5), ("amount", 10_000_000_001), ("amount", True), ("out_trade_no", "T-1"),
     ("out_trade_no", ""), ("out_trade_no", "T" * 65), ("subject", " / "),
     ("time_expire", datetime(2031, 1, 1))],  # naive: which day is that in Beijing?
)
async def test_pay_url_refuses_what_alipay_would(config: AlipayConfig, field: str, value: Any) -> None:
    args: dict[str, Any] = {"out_trade_no": "T4", "amount": 100, "subject": "袜子", "notify_url": NOTIFY_URL}
    args[field] = value
    with pytest.raises(ValueError):
        await gw.page_pay_url(config, **args)


async def test_reopening_a_trade_with_another_amount_is_refused(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _open_trade(config, "T5", 100)
    url = await gw.page_pay_url(config, out_trade_no="T5", amount=200, subject="男士羽绒服 Down Jacket",
                                notify_url=NOTIFY_URL)
    async with httpx.AsyncClient() as client:
        page = await client.get(url)
    assert page.status_code == 400 and "ACQ.CONTEXT_INCONSISTENT" in page.text
    assert fake.trade("T5").total_amount == 100


# --------------------------------------------------------------------------- notifications


@pytest.mark.parametrize(("amount", "text"), [(10, "0.10"), (123456, "1234.56"), (1, "0.01"), (100000, "1000.00")])
async def test_notification_of_a_payment_verifies_with_exact_fen(
    config: AlipayConfig, fake: FakeAlipay, amount: int, text: str
) -> None:
    await _open_trade(config, "N1", amount)
    notice = fake.pay("N1")
    assert notice.url == NOTIFY_URL
    assert notice.form["total_amount"] == text

    parsed = gw.verify_notification(config, notice.form)

    trade = fake.trade("N1")
    assert parsed.total_amount == amount
    assert parsed.receipt_amount == amount
    assert (parsed.out_trade_no, parsed.trade_no, parsed.trade_status) == ("N1", trade.trade_no, "TRADE_SUCCESS")
    assert parsed.paid
    assert parsed.app_id == APP_ID
    assert parsed.seller_id == fake.seller_id
    assert parsed.notify_id == notice.form["notify_id"]
    assert parsed.gmt_payment is not None


async def test_a_tampered_notification_is_rejected(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _open_trade(config, "N2", 5000)
    form = fake.pay("N2").form

    for changed in (
        {**form, "total_amount": "0.01"},  # the amount changed after Alipay signed it
        {**form, "out_trade_no": "N3"},
        {**form, "sign": form["sign"][:-8] + "AAAAAAA="},
        {**form, "sign": "not base64 at all!"},
        {k: v for k, v in form.items() if k != "sign"},
        {**form, "extra": "added after signing"},
    ):
        with pytest.raises(InvalidNotification):
            gw.verify_notification(config, changed)
    assert gw.verify_notification(config, form).out_trade_no == "N2"


async def test_a_notification_signed_with_another_key_is_rejected(
    config: AlipayConfig, fake: FakeAlipay, stranger_key: rsa.RSAPrivateKey
) -> None:
    await _open_trade(config, "N4", 5000)
    forged = fake.sign_fields({k: v for k, v in fake.pay("N4").form.items() if k != "sign"}, key=stranger_key)
    with pytest.raises(InvalidNotification, match="signature"):
        gw.verify_notification(config, forged)


async def test_a_notification_for_another_app_is_rejected(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _open_trade(config, "N5", 5000)
    fake.pay("N5")
    other_app = fake.notification("N5", app_id="2021000000009999")  # validly signed by Alipay, not for us
    with pytest.raises(InvalidNotification, match="app_id"):
        gw.verify_notification(config, other_app.form)


async def test_a_notification_with_another_sign_type_is_rejected(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _open_trade(config, "N6", 5000)
    fake.pay("N6")
    with pytest.raises(InvalidNotification):
        gw.verify_notification(config, fake.notification("N6", sign_type="RSA").form)


async def test_a_signed_notification_for_another_amount_parses_as_sent(
    config: AlipayConfig, fake: FakeAlipay
) -> None:
    """A correctly signed notification for another amount is Alipay's word: parsed as sent, never rounded."""
    await _open_trade(config, "N7", 5000)
    fake.pay("N7")
    parsed = gw.verify_notification(config, fake.notification("N7", total_amount="49.99").form)
    assert parsed.total_amount == 4999


async def test_a_notification_with_a_malformed_amount_is_rejected(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _open_trade(config, "N8", 5000)
    fake.pay("N8")
    for amount in ("50.001", "5e1", "50.00 ", ""):
        with pytest.raises(InvalidNotification):
            gw.verify_notification(config, fake.notification("N8", total_amount=amount).form)
    assert gw.verify_notification(config, fake.notification("N8", total_amount="50").form).total_amount == 5000


class _Receiver(BaseHTTPRequestHandler):
    received: list[dict[str, str]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(dict(parse_qsl(body.decode())))
        self.send_response(200)
        self.send_header("Content-Length", "7")
        self.end_headers()
        self.wfile.write(b"success")


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: list[dict[str, str]] = []
    handler = type("Receiver", (_Receiver,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/notify", received
    server.shutdown()
    server.server_close()


async def test_the_fake_delivers_the_notification_to_the_notify_url(
    config: AlipayConfig, fake: FakeAlipay, receiver: tuple[str, list[dict[str, str]]]
) -> None:
    url, received = receiver
    pay_url = await gw.page_pay_url(config, out_trade_no="D1", amount=777, subject="茶叶", notify_url=url)
    async with httpx.AsyncClient() as client:
        await client.get(pay_url)

    fake.pay("D1", deliver=True)

    [form] = received
    assert gw.verify_notification(config, form).total_amount == 777
    [(_, delivery)] = fake.deliveries
    assert delivery == Delivery(200, "success")


async def test_notifications_go_to_loopback_only(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _open_trade(config, "D2", 100)
    notice = fake.pay("D2")  # its notify URL is a public address
    with pytest.raises(ValueError, match="loopback"):
        fake.deliver(notice)


async def test_the_return_url_parameters_verify(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _open_trade(config, "R1", 4321)
    fake.pay("R1")
    back = fake.return_url("R1")
    assert back is not None and back.startswith("https://shop.example/orders/1?")
    params = dict(parse_qsl(urlsplit(back).query))

    returned = gw.verify_return(config, params)

    assert (returned.out_trade_no, returned.total_amount) == ("R1", 4321)
    with pytest.raises(InvalidNotification):
        gw.verify_return(config, {**params, "total_amount": "0.01"})


# --------------------------------------------------------------------------- query, close


async def test_query_follows_the_trade_from_unknown_to_paid(config: AlipayConfig, fake: FakeAlipay) -> None:
    assert await gw.query(config, out_trade_no="Q1") is None  # the buyer never opened the cashier

    await _open_trade(config, "Q1", 123456)
    waiting = await gw.query(config, out_trade_no="Q1")
    assert waiting is not None and waiting.trade_status == "WAIT_BUYER_PAY" and not waiting.paid

    fake.pay("Q1")
    paid = await gw.query(config, out_trade_no="Q1")
    assert paid is not None
    assert (paid.trade_status, paid.total_amount, paid.buyer_pay_amount) == ("TRADE_SUCCESS", 123456, 123456)
    assert paid.paid and paid.trade_no == fake.trade("Q1").trade_no and paid.send_pay_date


async def test_close_closes_an_unpaid_trade_and_refuses_a_paid_one(config: AlipayConfig, fake: FakeAlipay) -> None:
    assert await gw.close(config, out_trade_no="C1") is False  # nothing at Alipay to close

    await _open_trade(config, "C1", 100)
    assert await gw.close(config, out_trade_no="C1") is True
    closed = await gw.query(config, out_trade_no="C1")
    assert closed is not None and closed.trade_status == "TRADE_CLOSED"

    await _paid_trade(config, fake, "C2", 100)
    with pytest.raises(AlipayError) as caught:
        await gw.close(config, out_trade_no="C2")
    assert (caught.value.sub_code, caught.value.verified) == ("ACQ.TRADE_STATUS_ERROR", True)


# --------------------------------------------------------------------------- refunds


async def test_partial_refund_then_a_retry_with_the_same_request_number_refunds_once(
    config: AlipayConfig, fake: FakeAlipay
) -> None:
    await _paid_trade(config, fake, "F1", 10000)

    first = await gw.refund(config, out_trade_no="F1", amount=3000, out_request_no="F1_R1", reason="少发一件")
    retry = await gw.refund(config, out_trade_no="F1", amount=3000, out_request_no="F1_R1", reason="少发一件")

    assert (first.fund_change, first.refund_fee) == (True, 3000)
    assert (retry.fund_change, retry.refund_fee) == (False, 3000)
    assert fake.trade("F1").refunded == 3000
    status = await gw.refund_query(config, out_trade_no="F1", out_request_no="F1_R1")
    assert status is not None and status.refund_amount == 3000
    assert await gw.refund_query(config, out_trade_no="F1", out_request_no="F1_R2") is None

    rest = await gw.refund(config, out_trade_no="F1", amount=7000, out_request_no="F1_R2")
    assert (rest.fund_change, rest.refund_fee) == (True, 10000)
    with pytest.raises(AlipayError) as caught:
        await gw.refund(config, out_trade_no="F1", amount=1, out_request_no="F1_R3")
    assert caught.value.sub_code == "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL" and caught.value.verified
    assert fake.trade("F1").refunded == 10000
    assert len(fake.calls_to("alipay.trade.refund")) == 4


async def test_a_refund_above_what_was_paid_moves_nothing(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _paid_trade(config, fake, "F2", 500)
    with pytest.raises(AlipayError, match=r"ACQ\.REFUND_AMT_NOT_EQUAL_TOTAL"):
        await gw.refund(config, out_trade_no="F2", amount=501, out_request_no="F2_R1")
    assert fake.trade("F2").refunded == 0


async def test_an_unpaid_trade_cannot_be_refunded(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _open_trade(config, "F3", 500)
    with pytest.raises(AlipayError, match=r"ACQ\.TRADE_STATUS_ERROR"):
        await gw.refund(config, out_trade_no="F3", amount=100, out_request_no="F3_R1")


async def test_the_refund_notification_verifies(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _paid_trade(config, fake, "F4", 2000)
    await gw.refund(config, out_trade_no="F4", amount=500, out_request_no="F4_R1")

    parsed = gw.verify_notification(config, fake.refund_notification("F4", "F4_R1").form)

    assert (parsed.refund_fee, parsed.out_biz_no, parsed.total_amount) == (500, "F4_R1", 2000)
    assert parsed.gmt_refund is not None


# --------------------------------------------------------------------------- merchants (app authorisation)


async def test_merchant_calls_carry_its_app_auth_token(config: AlipayConfig, fake: FakeAlipay) -> None:
    shop_a = fake.issue_token("2088000000000101")
    shop_b = fake.issue_token("2088000000000202")
    await _open_trade(config, "M1", 800, token=shop_a)
    notice = fake.pay("M1")

    assert gw.verify_notification(config, notice.form).seller_id == "2088000000000101"
    assert fake.calls_to("alipay.trade.page.pay")[0].params["app_auth_token"] == shop_a
    assert await gw.query(config, out_trade_no="M1") is None  # not the platform's own trade
    assert await gw.query(config, out_trade_no="M1", app_auth_token=shop_b) is None
    found = await gw.query(config, out_trade_no="M1", app_auth_token=shop_a)
    assert found is not None and found.paid
    refunded = await gw.refund(config, out_trade_no="M1", amount=800, out_request_no="M1_R1", app_auth_token=shop_a)
    assert refunded.refund_fee == 800


async def test_an_unknown_app_auth_token_is_refused(config: AlipayConfig) -> None:
    with pytest.raises(AlipayError) as caught:
        await gw.query(config, out_trade_no="M2", app_auth_token="sbxtoken-revoked")
    assert (caught.value.code, caught.value.sub_code) == ("20001", "aop.invalid-app-auth-token")


async def test_an_authorisation_code_is_exchanged_once(config: AlipayConfig, fake: FakeAlipay) -> None:
    code = fake.authorise_merchant("2088000000000303")

    auth = await gw.exchange_app_auth_code(config, code=code)

    assert auth.user_id == "2088000000000303" and auth.expires_in > 0
    assert auth.app_auth_token not in repr(auth)
    await _open_trade(config, "M3", 300, token=auth.app_auth_token)
    assert fake.trade("M3").seller_id == "2088000000000303"
    with pytest.raises(AlipayError, match=r"isv\.code-invalid"):
        await gw.exchange_app_auth_code(config, code=code)


# --------------------------------------------------------------------------- signatures on answers


async def test_an_answer_signed_by_someone_else_is_refused(
    fake: FakeAlipay, app_key: rsa.RSAPrivateKey, stranger_key: rsa.RSAPrivateKey, config: AlipayConfig
) -> None:
    await _paid_trade(config, fake, "S1", 100)
    wrong = AlipayConfig(app_id=APP_ID, app_private_key=private_pem(app_key),
                         alipay_public_key=public_pem(stranger_key), gateway=fake.gateway_url)
    with pytest.raises(AlipayError, match="signature"):
        await gw.query(config=wrong, out_trade_no="S1")
    with pytest.raises(AlipayError, match="signature"):
        await gw.query(config=wrong, out_trade_no="S2")  # a signed "no such trade" is not believed either


async def test_a_request_signed_with_another_app_key_is_refused(
    fake: FakeAlipay, stranger_key: rsa.RSAPrivateKey, config: AlipayConfig
) -> None:
    await _paid_trade(config, fake, "S3", 100)
    wrong = AlipayConfig(app_id=APP_ID, app_private_key=private_pem(stranger_key),
                         alipay_public_key=fake.alipay_public_key_pem, gateway=fake.gateway_url)
    with pytest.raises(AlipayError) as caught:
        await gw.refund(wrong, out_trade_no="S3", amount=100, out_request_no="S3_R1")
    assert (caught.value.sub_code, caught.value.verified) == ("isv.invalid-signature", False)
    assert fake.trade("S3").refunded == 0


async def test_an_unreachable_gateway_is_an_alipay_error(app_key: rsa.RSAPrivateKey, fake: FakeAlipay) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    closed = AlipayConfig(app_id=APP_ID, app_private_key=private_pem(app_key),
                          alipay_public_key=fake.alipay_public_key_pem, gateway=f"http://127.0.0.1:{port}/gateway.do")
    with pytest.raises(AlipayError, match="ConnectError"):
        await gw.query(closed, out_trade_no="U1")


# --------------------------------------------------------------------------- the daily statement


async def test_the_daily_statement_lists_payments_and_refunds(config: AlipayConfig, fake: FakeAlipay) -> None:
    await _paid_trade(config, fake, "B1", 1999)
    await _paid_trade(config, fake, "B2", 123456)
    await _open_trade(config, "B3", 500)  # never paid: not in the statement
    await gw.refund(config, out_trade_no="B2", amount=456, out_request_no="B2_R1")
    today = datetime.now(SHANGHAI).date()

    url = await gw.bill_download_url(config, bill_date=today)
    data = await gw.download_bill(config, url=url)
    rows = gw.parse_bill(data)

    assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == 2  # the details and their summary
    by_kind = {(row.out_trade_no, row.kind): row for row in rows}
    assert set(by_kind) == {("B1", "trade"), ("B2", "trade"), ("B2", "refund")}
    assert (by_kind["B1", "trade"].order_amount, by_kind["B1", "trade"].received_amount) == (1999, 1999)
    assert by_kind["B1", "trade"].trade_no == fake.trade("B1").trade_no
    refund = by_kind["B2", "refund"]
    assert (refund.order_amount, refund.received_amount, refund.refund_request_no) == (123456, -456, "B2_R1")
    assert by_kind["B2", "trade"].service_fee == -741  # 0.6 % of 1234.56, rounded


async def test_a_statement_for_a_future_day_does_not_exist(config: AlipayConfig) -> None:
    tomorrow = datetime.now(SHANGHAI).date() + timedelta(days=1)
    with pytest.raises(AlipayError, match=r"isp\.bill_not_exist"):
        await gw.bill_download_url(config, bill_date=tomorrow)


def test_a_statement_that_is_not_alipays_is_refused() -> None:
    with pytest.raises(BillFormatError):
        gw.parse_bill(b"PK\x03\x04 not really a zip")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "nothing here".encode("gbk"))
    with pytest.raises(BillFormatError, match="业务明细"):
        gw.parse_bill(buffer.getvalue())


def test_a_statement_line_with_a_broken_amount_is_refused() -> None:
    lines = "支付宝交易号,商户订单号,业务类型,订单金额（元）,商家实收（元）\n2024\t,B9\t,交易,12.345,12.00\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("x_业务明细.csv", lines.encode("gbk"))
    with pytest.raises(BillFormatError, match="订单金额"):
        gw.parse_bill(buffer.getvalue())


# --------------------------------------------------------------------------- settings


def test_settings_without_alipay_configure_nothing() -> None:
    assert AlipayConfig.from_settings(Settings(alipay_app_id=APP_ID)) is None


def test_keys_come_as_pem_base64_or_a_file(app_key: rsa.RSAPrivateKey, fake: FakeAlipay, tmp_path: Path) -> None:
    der = app_key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption())
    key_file = tmp_path / "alipay_public_key.pem"
    key_file.write_text(fake.alipay_public_key_pem)
    config = AlipayConfig.from_settings(Settings(
        alipay_app_id=APP_ID,
        alipay_app_private_key=base64.b64encode(der).decode(),  # the bare base64 Alipay's key tool prints
        alipay_public_key=f"@{key_file}",
        alipay_gateway=fake.gateway_url,
    ))
    assert config is not None
    assert config.app_private_key == private_pem(app_key)
    assert config.alipay_public_key == fake.alipay_public_key_pem
    assert "PRIVATE" not in repr(config)


def test_a_key_that_is_not_a_key_fails_at_start(tmp_path: Path) -> None:
    with pytest.raises(InvalidKey, match="ALIPAY_APP_PRIVATE_KEY"):
        AlipayConfig.from_settings(Settings(alipay_app_id=APP_ID, alipay_app_private_key="secret",
                                            alipay_public_key="x"))
    with pytest.raises(InvalidKey, match="cannot read"):
        AlipayConfig.from_settings(Settings(alipay_app_id=APP_ID, alipay_app_private_key=f"@{tmp_path}/none",
                                            alipay_public_key="x"))
