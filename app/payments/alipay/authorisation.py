"""A merchant authorises the platform's Alipay app (第三方应用授权): the console links to Alipay's authorisation
page; Alipay sends the merchant's browser back with an `app_auth_code`, which is exchanged here for the merchant's
`app_auth_token` (`alipay.open.auth.token.app`). The token, kept encrypted, goes with every Alipay call made for
that merchant, so its buyers' money lands in its own Alipay account."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from app.config import Settings
from app.core.errors import field_error
from app.payments.alipay import gateway
from app.payments.alipay.provider import config
from app.payments.base import PaymentUnavailable

CALLBACK_PATH = "/console/payments/alipay/authorised"
_CODE = re.compile(r"[A-Za-z0-9._-]{8,128}")


def authorisation_url(settings: Settings, *, state: str) -> str | None:
    """Where the merchant authorises the platform's app; None while Alipay is not configured. `state` comes back
    with the merchant and says who asked."""
    found = config(settings)
    if found is None:
        return None
    redirect_uri = settings.shop_public_url.rstrip("/") + CALLBACK_PATH
    query = urlencode({"app_id": found.app_id, "redirect_uri": redirect_uri, "state": state})
    return f"{settings.alipay_auth_url}?{query}"


async def exchange(settings: Settings, *, app_auth_code: str) -> gateway.AlipayAppAuth:
    """The merchant's tokens for the code its authorisation brought; 422 on `app_auth_code` when Alipay refuses
    it (expired, used), 502 when Alipay cannot be reached. Call it with no transaction open."""
    found = config(settings)
    if found is None:
        raise field_error("app_auth_code", "Alipay is not offered on this platform")
    if not _CODE.fullmatch(app_auth_code):
        raise field_error("app_auth_code", "not an authorisation code")
    try:
        return await gateway.exchange_app_auth_code(found, code=app_auth_code)
    except gateway.AlipayError as exc:
        if exc.verified or exc.sub_code:  # Alipay's own answer: the code is no good
            raise field_error("app_auth_code", f"Alipay refused the code: {exc.sub_msg or exc.message}") from None
        raise PaymentUnavailable(f"Alipay could not be reached: {exc.message}") from exc
