"""The Alipay fake for tests: the sandbox gateway in ``app.payments.sandbox.alipay``, with keys made by the test.

Usage::

    app_key = rsa_key()
    with FakeAlipay(app_id=APP_ID, app_public_key=public_pem(app_key)) as fake:
        config = alipay_config(fake, app_key)
        url = await gateway.page_pay_url(config, out_trade_no="T1", amount=1234, subject="...", notify_url=...)
        httpx.get(url)                    # the buyer opens the cashier: the trade exists at the fake now
        notice = fake.pay("T1")           # paid; notice.form is the signed notification to POST
        fake.deliver(notice)              # or POST it to its notify_url (loopback only)

Other helpers: ``fake.notification(no, **overrides)`` (re-signed with changed fields), ``fake.sign_fields(form,
key=other)`` (signed by someone else), ``fake.return_url(no)``, ``fake.issue_token(seller_id)`` and
``fake.authorise_merchant()`` (third-party app authorisation), ``fake.trades``, ``fake.bill`` (editable
statement lines), ``fake.calls_to(method)``.
"""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import rsa

from app.payments.alipay.gateway import AlipayConfig
from app.payments.sandbox.alipay import AlipayNotice, AlipaySandbox, BillEntry, SandboxTrade
from app.payments.sandbox.keys import private_pem, public_pem, rsa_key

FakeAlipay = AlipaySandbox

__all__ = ["AlipayNotice", "BillEntry", "FakeAlipay", "SandboxTrade", "alipay_config", "private_pem", "public_pem",
           "rsa_key"]


def alipay_config(fake: AlipaySandbox, app_key: rsa.RSAPrivateKey) -> AlipayConfig:
    """The gateway configuration that talks to ``fake`` as the app whose key pair is ``app_key``."""
    return AlipayConfig(
        app_id=fake.app_id,
        app_private_key=private_pem(app_key),
        alipay_public_key=fake.alipay_public_key_pem,
        gateway=fake.gateway_url,
    )
