"""The WeChat Pay fake for tests: the sandbox in ``app.payments.sandbox.wechatpay``, with keys made by the test.

The ``wechatpayv3`` SDK only talks to https://api.mch.weixin.qq.com, through a proxy if given one; the fake is
that proxy and serves the API itself over TLS, so the test must trust its authority::

    merchant_key = rsa_key()
    with FakeWechatPay(mchid=MCHID, appid=APPID, apiv3_key=KEY, merchant_public_key=public_pem(merchant_key),
                       merchant_serial_no=SERIAL, sub_mchids=["1900000109"]) as fake:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", fake.ca_bundle_path)
        config = wechatpay_config(fake, merchant_key)          # api_base=fake.url: the SDK's proxy
        code_url = await gateway.native_pay(config, sub_mchid="1900000109", out_trade_no="T0000001", ...)
        notice = fake.pay("T0000001")                          # paid; notice.headers/body to POST
        fake.deliver(notice)                                   # or POST it to its notify_url (loopback only)

Other helpers: ``fake.transaction_notification(no, timestamp=..., signing_key=..., apiv3_key=...,
serial=..., resource_overrides=...)`` (stale, forged, wrongly encrypted or changed notifications),
``fake.pay_combined(no)``, ``fake.settle_refund(no)``, ``fake.verify_jsapi(bridge)`` (what the WeChat client
checks), ``fake.transactions``, ``fake.refunds``, ``fake.bill`` (editable bill lines), ``fake.calls_to(method,
prefix)``, ``fake.platform_mode`` ("public_key" or "certificate").
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

from app.payments.sandbox.keys import private_pem, public_pem, rsa_key
from app.payments.sandbox.wechatpay import WechatBillEntry, WechatNotice, WechatPaySandbox
from app.payments.wechatpay.gateway import WechatPayConfig

FakeWechatPay = WechatPaySandbox

__all__ = ["FakeWechatPay", "WechatBillEntry", "WechatNotice", "private_pem", "public_pem", "rsa_key",
           "wechatpay_config"]


def wechatpay_config(fake: WechatPaySandbox, merchant_key: rsa.RSAPrivateKey, *, public_key: bool = True,
                     ) -> WechatPayConfig:
    """The gateway configuration that talks to ``fake`` as its service provider. ``public_key=False``: platform
    certificate mode (the SDK downloads the certificate from the fake)."""
    return WechatPayConfig(
        mchid=fake.mchid,
        appid=fake.appid,
        apiv3_key=fake.apiv3_key,
        private_key=private_pem(merchant_key),
        cert_serial_no=fake.merchant_serial_no,
        public_key=fake.platform_public_key_pem if public_key else None,
        public_key_id=fake.public_key_id if public_key else None,
        api_base=fake.url,
    )
