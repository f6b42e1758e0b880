"""Stripe as a way to pay: a PaymentIntent per checkout, confirmed in the browser with its client secret."""

from __future__ import annotations

from app.config import Settings
from app.payments.base import PaymentUnavailable, StartedPayment
from app.payments.stripe import gateway


def config(settings: Settings) -> gateway.StripeConfig | None:
    """Stripe's settings, or None when the platform has no Stripe key."""
    if not settings.stripe_api_key:
        return None
    return gateway.StripeConfig(api_key=settings.stripe_api_key, webhook_secret=settings.stripe_webhook_secret or "",
                                api_base=settings.stripe_api_base)


class StripeGateway:
    def __init__(self, config: gateway.StripeConfig) -> None:
        self.config = config

    async def start(self, *, payment_id: str, amount: int, currency: str, metadata: dict[str, str],
                    account: str | None = None) -> StartedPayment:
        try:
            intent_id, secret = await gateway.create_payment_intent(
                self.config, amount=amount, currency=currency, metadata={"payment_id": payment_id},
                idempotency_key=f"pi:{payment_id}")
        except gateway.PaymentGatewayError as exc:
            raise PaymentUnavailable(f"Stripe refused the payment: {exc.message}") from exc
        return StartedPayment(intent_id, {"client_secret": secret})

    async def cancel(self, *, provider_ref: str, account: str | None = None) -> None:
        try:
            await gateway.cancel_payment_intent(self.config, payment_intent_id=provider_ref)
        except gateway.PaymentGatewayError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise

    async def refund(self, *, provider_ref: str | None, amount: int, refund_id: str, account: str | None = None,
                     paid: int | None = None) -> str | None:
        if provider_ref is None:
            raise PaymentUnavailable("no Stripe payment to refund")
        return await gateway.refund(self.config, payment_intent_id=provider_ref, amount=amount,
                                    idempotency_key=f"re:{refund_id}")


def build(settings: Settings) -> StripeGateway | None:
    found = config(settings)
    return StripeGateway(found) if found else None
