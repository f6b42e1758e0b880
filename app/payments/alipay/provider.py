"""Alipay as a way to pay: a cashier URL per checkout (desktop page pay, phone wap pay) on the merchant's own
account (its `app_auth_token`); refunds one request number per refund; queries and daily statements."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime

from app.config import Settings
from app.payments.alipay import gateway
from app.payments.base import Paid, PaymentUnavailable, StartedPayment, StatementLine
from app.payments.credentials import resolve_pem

NOTIFY_PATH = "/v1/payments/alipay/notify"
RETURN_PATH = "/v1/payments/alipay/return"


def paid_event(out_trade_no: str) -> str:
    """The one event id of a trade's payment, whether a notification or a query tells it: counted once."""
    return f"paid:{out_trade_no}"


class AlipayGateway:
    def __init__(self, config: gateway.AlipayConfig, public_url: str, sandbox: bool) -> None:
        self.config = config
        self.public_url = public_url.rstrip("/")
        self.sandbox = sandbox

    async def start(self, *, payment_id: str, amount: int, currency: str, metadata: dict[str, str],
                    account: str | None = None) -> StartedPayment:
        if currency.upper() != "CNY":
            raise PaymentUnavailable(f"Alipay takes CNY, not {currency}")
        expires = metadata.get("expires_at")
        pay = gateway.wap_pay_url if metadata.get("device") == "phone" else gateway.page_pay_url
        try:
            url = await pay(self.config, out_trade_no=payment_id, amount=amount,
                            subject=metadata.get("subject") or payment_id,
                            notify_url=self.public_url + NOTIFY_PATH, return_url=self.public_url + RETURN_PATH,
                            time_expire=datetime.fromisoformat(expires) if expires else None,
                            app_auth_token=account)
        except (gateway.AlipayError, ValueError) as exc:
            raise PaymentUnavailable(f"Alipay refused the payment: {exc}") from exc
        client: dict[str, object] = {"pay_url": url}
        if self.sandbox:
            client["sandbox"] = True
        return StartedPayment(payment_id, client)

    async def cancel(self, *, provider_ref: str, account: str | None = None) -> None:
        await gateway.close(self.config, out_trade_no=provider_ref, app_auth_token=account)

    async def refund(self, *, provider_ref: str | None, amount: int, refund_id: str, account: str | None = None,
                     paid: int | None = None) -> str | None:
        if provider_ref is None:
            raise PaymentUnavailable("no Alipay trade to refund")
        # the refund's id is its request number: sent again after a lost answer, Alipay refunds nothing more
        done = await gateway.refund(self.config, out_trade_no=provider_ref, amount=amount, out_request_no=refund_id,
                                    app_auth_token=account)
        return f"{done.trade_no}:{refund_id}"

    async def query(self, *, provider_ref: str, account: str | None) -> Paid | None:
        trade = await gateway.query(self.config, out_trade_no=provider_ref, app_auth_token=account)
        if trade is None or not trade.paid:
            return None
        return Paid(provider="alipay", event_id=paid_event(provider_ref), event_kind="alipay.trade.query",
                    provider_ref=provider_ref, amount_received=trade.total_amount)

    async def statement(self, *, day: date, accounts: Sequence[str]) -> list[StatementLine]:
        lines: list[StatementLine] = []
        for account in accounts:  # one statement per merchant: its own Alipay account's
            url = await gateway.bill_download_url(self.config, bill_date=day, app_auth_token=account)
            rows = gateway.parse_bill(await gateway.download_bill(self.config, url=url))
            lines.extend(StatementLine(r.out_trade_no, r.order_amount) for r in rows if r.kind == "trade")
        return lines


@functools.lru_cache(maxsize=8)
def _cached(config: gateway.AlipayConfig, public_url: str, sandbox: bool) -> AlipayGateway:
    return AlipayGateway(config, public_url, sandbox)


def config(settings: Settings) -> gateway.AlipayConfig | None:
    return _config(settings.alipay_app_id, settings.alipay_app_private_key, settings.alipay_public_key,
                   settings.alipay_gateway)


@functools.lru_cache(maxsize=8)
def _config(app_id: str | None, private_key: str | None, public_key: str | None,
            gateway_url: str) -> gateway.AlipayConfig | None:
    # keys are parsed once per setting value, not on every checkout
    if not (app_id and private_key and public_key):
        return None
    return gateway.AlipayConfig(
        app_id=app_id, app_private_key=resolve_pem(private_key, kind="private", setting="ALIPAY_APP_PRIVATE_KEY"),
        alipay_public_key=resolve_pem(public_key, kind="public", setting="ALIPAY_PUBLIC_KEY"), gateway=gateway_url)


def build(settings: Settings) -> AlipayGateway | None:
    found = config(settings)
    return _cached(found, settings.shop_public_url, settings.shop_payments_sandbox) if found else None
