"""WeChat Pay as a way to pay: a Native payment (a QR code) for desktops, H5 for phones' browsers, JSAPI inside
WeChat (the buyer's openid given), on the merchant's `sub_mchid`; several merchants' shares in one combined payment
(合单支付); refunds one refund number per refund, ended by their notifications or a query; queries and the daily
trade bill."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime

from app.config import Settings
from app.payments.base import (
    CombinedStart,
    Paid,
    Part,
    PaymentUnavailable,
    RefundEnded,
    StartedPayment,
    StatementLine,
)
from app.payments.credentials import resolve_pem
from app.payments.sandbox.run import wechat_pay_page
from app.payments.wechatpay import gateway

NOTIFY_PATH = "/v1/payments/wechatpay/notify"


def paid_event(out_trade_no: str) -> str:
    """The one event id of a payment, whether a notification or a query tells it: counted once."""
    return f"paid:{out_trade_no}"


def refund_event(out_refund_no: str) -> str:
    """The one event id of a refund's end, whether a notification or a query tells it: counted once."""
    return f"refund:{out_refund_no}"


def refund_ended(found: gateway.WechatRefund) -> RefundEnded | None:
    """What a refund's state says: None while it is under way (PROCESSING)."""
    if found.status == "PROCESSING":
        return None
    return RefundEnded(provider="wechatpay", event_id=refund_event(found.out_refund_no),
                       refund_id=found.out_refund_no, succeeded=found.succeeded, amount=found.refund,
                       provider_ref=found.refund_id, detail=found.status, released=found.status == "CLOSED")


def _channel(metadata: dict[str, str]) -> str:
    """JSAPI when the buyer's openid is known (inside WeChat), H5 on a phone's browser, Native (a QR) otherwise."""
    if metadata.get("openid"):
        return "jsapi"
    return "h5" if metadata.get("device") == "phone" else "native"


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
        channel = _channel(metadata)
        try:
            if channel == "jsapi":
                made = await gateway.jsapi_pay(self.config, openid=metadata["openid"], **common)  # type: ignore[arg-type]
                client = {"jsapi": made.bridge()}
            elif channel == "h5":
                client = {"h5_url": await gateway.h5_pay(self.config, payer_client_ip=metadata.get("client_ip")
                                                         or "127.0.0.1", **common)}  # type: ignore[arg-type]
            else:
                client = {"code_url": await gateway.native_pay(self.config, **common)}  # type: ignore[arg-type]
        except (gateway.WechatPayError, ValueError) as exc:
            raise PaymentUnavailable(f"WeChat Pay refused the payment: {exc}") from exc
        return StartedPayment(payment_id, self._sandboxed(client))

    def _sandboxed(self, client: dict[str, object]) -> dict[str, object]:
        if self.sandbox:
            client["sandbox"] = True
            if "code_url" in client:  # where a buyer pays without scanning
                client["sandbox_pay_url"] = wechat_pay_page(self.config.api_base, str(client["code_url"]))
        return client

    async def start_combined(self, *, group_id: str, parts: Sequence[Part], currency: str,
                             metadata: dict[str, str]) -> CombinedStart:
        """One combined payment (合单支付): the buyer pays once, each share lands in its merchant's sub_mchid."""
        if currency.upper() != "CNY":
            raise PaymentUnavailable(f"WeChat Pay takes CNY, not {currency}")
        expires = metadata.get("expires_at")
        # attach comes back with each sub-order: our payment id, so a sub-order always names its payment
        orders = [gateway.SubOrder(sub_mchid=p.account, out_trade_no=p.payment_id, amount=p.amount,
                                   description=(p.subject or p.payment_id)[:127], attach=p.payment_id)
                  for p in parts]
        channel = _channel(metadata)
        try:
            made = await gateway.combine_pay(
                self.config, combine_out_trade_no=group_id, orders=orders, channel=channel,  # type: ignore[arg-type]
                notify_url=self.notify_url, payer_client_ip=metadata.get("client_ip") or "127.0.0.1",
                openid=metadata.get("openid"), time_expire=datetime.fromisoformat(expires) if expires else None)
        except (gateway.WechatPayError, ValueError) as exc:
            raise PaymentUnavailable(f"WeChat Pay refused the combined payment: {exc}") from exc
        client: dict[str, object] = {"combined": made.combine_out_trade_no}
        if made.code_url:
            client["code_url"] = made.code_url
        if made.h5_url:
            client["h5_url"] = made.h5_url
        if made.jsapi:
            client["jsapi"] = made.jsapi.bridge()
        client = self._sandboxed(client)
        return CombinedStart(made.combine_out_trade_no, [StartedPayment(p.payment_id, dict(client)) for p in parts])

    async def cancel_combined(self, *, group_ref: str, parts: Sequence[tuple[str, str]]) -> None:
        await gateway.combine_close(self.config, combine_out_trade_no=group_ref,
                                    orders=[(account, ref) for ref, account in parts])

    async def query_combined(self, *, group_ref: str) -> list[Paid]:
        found = await gateway.combine_query(self.config, combine_out_trade_no=group_ref)
        if found is None:
            return []
        return [Paid(provider="wechatpay", event_id=paid_event(o.out_trade_no), event_kind="combine_query",
                     provider_ref=o.out_trade_no, amount_received=o.total) for o in found.sub_orders if o.paid]

    async def refund_outcome(self, *, refund_id: str, account: str | None) -> RefundEnded | None:
        if account is None:
            return None
        found = await gateway.query_refund(self.config, sub_mchid=account, out_refund_no=refund_id)
        return refund_ended(found) if found is not None else None

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
