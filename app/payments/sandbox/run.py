"""The payment sandbox (沙箱) for `make run` and demos: both fakes started on 127.0.0.1 with keys made on the spot,
and the settings that point the platform at them. Notifications are delivered at once, refunds settle at once,
and any merchant account is accepted, so the whole flow works without real credentials and no money moves."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from app.payments.sandbox.alipay import AlipaySandbox
from app.payments.sandbox.keys import private_pem, public_pem, rsa_key
from app.payments.sandbox.wechatpay import WechatPaySandbox

__all__ = ["RunningSandbox", "start_sandbox", "wechat_pay_page"]

APP_ID = "2021000000000000"
MCHID, APPID = "1900000000", "wx00000000sandbox0"


@dataclass
class RunningSandbox:
    alipay: AlipaySandbox
    wechat: WechatPaySandbox
    env: dict[str, str]  # the settings that point the platform at the sandbox (and trust its TLS authority)

    def stop(self) -> None:
        self.alipay.stop()
        self.wechat.stop()


def start_sandbox(public_url: str) -> RunningSandbox:
    """Start both sandboxes; `public_url` is where the platform is reached (notifications go there)."""
    app_key, merchant_key = rsa_key(), rsa_key()
    serial = secrets.token_hex(20).upper()
    apiv3_key = secrets.token_hex(16)
    alipay = AlipaySandbox(app_id=APP_ID, app_public_key=public_pem(app_key), deliver_notifications=True,
                           open_enrolment=True).start()
    wechat = WechatPaySandbox(mchid=MCHID, appid=APPID, apiv3_key=apiv3_key,
                              merchant_public_key=public_pem(merchant_key), merchant_serial_no=serial,
                              deliver_notifications=True, settle_refunds_at_once=True, open_enrolment=True).start()
    env = {
        "SHOP_PAYMENTS_SANDBOX": "true", "SHOP_PUBLIC_URL": public_url,
        "ALIPAY_APP_ID": APP_ID, "ALIPAY_APP_PRIVATE_KEY": private_pem(app_key),
        "ALIPAY_PUBLIC_KEY": alipay.alipay_public_key_pem, "ALIPAY_GATEWAY": alipay.gateway_url,
        "ALIPAY_AUTH_URL": alipay.auth_url,
        "WECHATPAY_MCHID": MCHID, "WECHATPAY_APPID": APPID, "WECHATPAY_APIV3_KEY": apiv3_key,
        "WECHATPAY_PRIVATE_KEY": private_pem(merchant_key), "WECHATPAY_CERT_SERIAL_NO": serial,
        "WECHATPAY_PUBLIC_KEY": wechat.platform_public_key_pem, "WECHATPAY_PUBLIC_KEY_ID": wechat.public_key_id,
        "WECHATPAY_API_BASE": wechat.url, "REQUESTS_CA_BUNDLE": wechat.ca_bundle_path or "",
    }
    return RunningSandbox(alipay, wechat, env)


def wechat_pay_page(api_base: str, code_url: str, back: str | None = None) -> str:
    """The sandbox page a buyer opens instead of scanning `code_url` with WeChat (the sandbox at `api_base`)."""
    query = {"code": code_url.rsplit("=", 1)[-1], **({"redirect_url": back} if back else {})}
    return f"{api_base.rstrip('/')}/sandbox/wechatpay/pay?{urlencode(query)}"
