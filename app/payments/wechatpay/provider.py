"""WeChat Pay as a way to pay: a Native payment (a QR code) for desktops, H5 for phones' browsers, on the
merchant's `sub_mchid`; refunds one refund number per refund; queries and the daily trade bill."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime

from app.config import Settings
from app.payments.base import Paid, PaymentUnavailable, StartedPayment, StatementLine
from app.payments.credentials import resolve_pem
from app.payments.sandbox.run import wechat_pay_page
from app.payments.wechatpay import gateway

NOTIFY_PATH = "/v1/payments/wechatpay/notify"


def paid_event(out_trade_no: str) -> str:
    """The one event id of a payment, whether a notification or a query tells it: counted once."""
    return f"paid:{out_trade_no}"


class WechatPayGateway:
    def __init__(self, config: gateway.WechatPayConfig, public_url: str, sandbox: bool) -> None:
        self.config = config
        self.notify_url = public_url.rstrip("/") + NOTIFY_PATH
        self.sandbox = sandbox

    async def start(self, *, payment_id: str, amount: int, currency: str, metadata: dict[str, str],
                    account: str | None = None) -> StartedPayment:
        if currency.upper() != "CNY":
            raise PaymentUnavailable(f"WeChat Pay takes CNY, not {currency}")
        if account is None:
            raise PaymentUnavailable("WeChat Pay pays a merchant's own sub_mchid: none was given")
        expires = metadata.get("expires_at")
        common = {"sub_mchid": account, "out_trade_no": payment_id, "amount": amount,
                  "description": (metadata.get("subject") or payment_id)[:127], "notify_url": self.notify_url,
                  "time_expire": datetime.fromisoformat(expires) if expires else None}
        client: dict[str, object]
        try:
            if metadata.get("device") == "phone":
                client = {"h5_url": await gateway.h5_pay(self.config, payer_client_ip=metadata.get("client_ip")
                                                         or "127.0.0.1", **common)}  # type: ignore[arg-type]
            else:
                client = {"code_url": await gateway.native_pay(self.config, **common)}  # type: ignore[arg-type]
        except (gateway.WechatPayError, ValueError) as exc:
            raise PaymentUnavailable(f"WeChat Pay refused the payment: {exc}") from exc
        if self.sandbox:
            client["sandbox"] = True
            if "code_url" in client:  # where a buyer pays without scanning
                client["sandbox_pay_url"] = wechat_pay_page(self.config.api_base, str(client["code_url"]))
        return StartedPayment(payment_id, client)

    async def cancel(self, *, provider_ref: str, account: str | None = None) -> None:
        if account is not None:
            await gateway.close(self.config, sub_mchid=account, out_trade_no=provider_ref)

    async def refund(self, *, provider_ref: str | None, amount: int, refund_id: str, account: str | None = None,
                     paid: int | None = None) -> str | None:
        if provider_ref is None or account is None or paid is None:
            raise PaymentUnavailable("no WeChat Pay payment to refund")
        # the refund's id is its refund number: sent again after a lost answer, WeChat Pay refunds nothing more
        done = await gateway.refund(self.config, sub_mchid=account, out_trade_no=provider_ref,
                                    out_refund_no=refund_id, amount=amount, total=paid, notify_url=self.notify_url)
        return done.refund_id

    async def query(self, *, provider_ref: str, account: str | None) -> Paid | None:
        if account is None:
            return None
        found = await gateway.query(self.config, sub_mchid=account, out_trade_no=provider_ref)
        if found is None or not found.paid:
            return None
        return Paid(provider="wechatpay", event_id=paid_event(provider_ref), event_kind="query",
                    provider_ref=provider_ref, amount_received=found.total)

    async def statement(self, *, day: date, accounts: Sequence[str]) -> list[StatementLine]:
        data = await gateway.trade_bill(self.config, bill_date=day)  # every sub-merchant's, in one bill
        if data is None:
            return []
        return [StatementLine(r.out_trade_no, r.order_total) for r in gateway.parse_trade_bill(data)
                if r.trade_state == "SUCCESS"]


@functools.lru_cache(maxsize=8)
def _cached(config: gateway.WechatPayConfig, public_url: str, sandbox: bool) -> WechatPayGateway:
    return WechatPayGateway(config, public_url, sandbox)


@functools.lru_cache(maxsize=8)
def _config(mchid: str | None, appid: str | None, apiv3_key: str | None, private_key: str | None,
            serial: str | None, public_key: str | None, public_key_id: str | None,
            api_base: str) -> gateway.WechatPayConfig | None:
    # keys are parsed once per setting value, not on every checkout
    if not (mchid and appid and apiv3_key and private_key and serial):
        return None
    return gateway.WechatPayConfig(
        mchid=mchid, appid=appid, apiv3_key=apiv3_key, cert_serial_no=serial,
        private_key=resolve_pem(private_key, kind="private", setting="WECHATPAY_PRIVATE_KEY"),
        public_key=resolve_pem(public_key, kind="public", setting="WECHATPAY_PUBLIC_KEY") if public_key else None,
        public_key_id=public_key_id or None, api_base=api_base)


def config(settings: Settings) -> gateway.WechatPayConfig | None:
    return _config(settings.wechatpay_mchid, settings.wechatpay_appid, settings.wechatpay_apiv3_key,
                   settings.wechatpay_private_key, settings.wechatpay_cert_serial_no, settings.wechatpay_public_key,
                   settings.wechatpay_public_key_id, settings.wechatpay_api_base)


def build(settings: Settings) -> WechatPayGateway | None:
    found = config(settings)
    return _cached(found, settings.shop_public_url, settings.shop_payments_sandbox) if found else None
