"""The sandboxes' own pages, as a buyer's browser uses them: the cashier pays, the notification is delivered
to the shop (on loopback) and the browser comes back to the shop."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from app.payments.alipay import gateway as alipay
from app.payments.sandbox.server import Delivery
from app.payments.wechatpay import gateway as wechatpay
from tests.fakes.alipay_server import FakeAlipay, alipay_config, public_pem, rsa_key
from tests.fakes.wechatpay_server import FakeWechatPay, wechatpay_config

SHOP = "1900000109"


class _Shop(BaseHTTPRequestHandler):
    """The shop's notify endpoint: records what arrives and answers as each provider expects."""

    received: list[tuple[dict[str, str], bytes]]

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(({k: v for k, v in self.headers.items()}, body))
        answer = b"success" if self.path.endswith("/alipay") else b""
        self.send_response(200 if answer else 204)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


@pytest.fixture
def shop() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Shop", (_Shop,), {"received": received}))
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


async def test_the_alipay_cashier_pays_notifies_and_returns(
    shop: tuple[str, list[tuple[dict[str, str], bytes]]]
) -> None:
    base, received = shop
    app_key = rsa_key()
    with FakeAlipay(app_id="2021000000000042", app_public_key=public_pem(app_key)) as fake:
        config = alipay_config(fake, app_key)
        url = await alipay.page_pay_url(config, out_trade_no="SB1", amount=2599, subject="茶叶",
                                        notify_url=f"{base}/notify/alipay", return_url=f"{base}/orders/SB1")
        async with httpx.AsyncClient() as browser:
            cashier = await browser.get(url)
            assert "沙箱" in cashier.text and "25.99" in cashier.text
            paid = await browser.post(f"{fake.url}/sandbox/alipay/pay",
                                      data={"seller_id": fake.seller_id, "out_trade_no": "SB1"})

        assert paid.status_code == 303
        back = paid.headers["location"]
        assert back.startswith(f"{base}/orders/SB1?")
        assert alipay.verify_return(config, dict(parse_qsl(urlsplit(back).query))).total_amount == 2599
        [(_, body)] = received
        assert alipay.verify_notification(config, dict(parse_qsl(body.decode()))).paid
        assert [delivery for _, delivery in fake.deliveries] == [Delivery(200, "success")]


async def test_the_wechat_pay_page_pays_and_notifies(
    shop: tuple[str, list[tuple[dict[str, str], bytes]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, received = shop
    merchant_key = rsa_key()
    with FakeWechatPay(mchid="1900000100", appid="wx8888888888888888", apiv3_key="liutong-sandbox-apiv3-key-32byte",
                       merchant_public_key=public_pem(merchant_key), merchant_serial_no="5157F09E",
                       sub_mchids=[SHOP]) as fake:
        assert fake.ca_bundle_path is not None
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle_path)
        config = wechatpay_config(fake, merchant_key)
        code_url = await wechatpay.native_pay(config, sub_mchid=SHOP, out_trade_no="SB000002", amount=880,
                                              description="帽子", notify_url=f"{base}/notify/wechatpay")
        async with httpx.AsyncClient() as browser:
            page = await browser.get(fake.pay_page_url(code_url))
            assert "沙箱" in page.text and "8.80" in page.text
            code = dict(parse_qsl(urlsplit(fake.pay_page_url(code_url)).query))["code"]
            paid = await browser.post(f"{fake.url}/sandbox/wechatpay/pay",
                                      data={"code": code, "redirect_url": f"{base}/orders/SB000002"})

        assert paid.status_code == 303 and paid.headers["location"] == f"{base}/orders/SB000002"
        [(headers, body)] = received
        parsed = await wechatpay.verify_notification(config, headers=headers, body=body)
        assert parsed.transaction is not None and parsed.transaction.paid and parsed.transaction.total == 880
        found = await wechatpay.query(config, sub_mchid=SHOP, out_trade_no="SB000002")
        assert found is not None and found.paid
