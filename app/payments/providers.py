"""One interface for every way an order is paid: Stripe, cash on delivery, credit terms.

Provider calls talk to the outside world, so they never run inside a database transaction: a
payment is started before the order transaction (and cancelled if it fails), refunds are recorded
as `pending` in the transaction and carried out after it commits (a job retries the ones that fail).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.config import Settings
from app.core.errors import DomainError
from app.payments import stripe_gateway


class PaymentUnavailable(DomainError):
    status = 502
    type_slug = "payment-provider-error"
    title = "The payment provider failed"


@dataclass(frozen=True, slots=True)
class StartedPayment:
    provider_ref: str | None  # e.g. the PaymentIntent id
    client_secret: str | None  # handed to the browser to confirm the payment


class PaymentProvider(Protocol):
    name: str
    prepaid: bool  # the customer pays before the goods leave

    async def start(self, *, payment_id: str, amount: int, currency: str, metadata: dict[str, str]) -> StartedPayment:
        """Ask for `amount`; idempotent per `payment_id`."""

    async def cancel(self, *, provider_ref: str) -> None:
        """Give up a started payment (the order failed or expired)."""

    async def refund(self, *, provider_ref: str | None, amount: int, refund_id: str) -> str | None:
        """Send `amount` back; idempotent per `refund_id`. Returns the provider's reference."""


class OfflineProvider:
    """Cash on delivery or credit terms: no money moves through the platform at checkout.

    A refund is recorded for the merchant to pay out (cash back at the door, a credit note on the account).
    """

    prepaid = False

    def __init__(self, name: str) -> None:
        self.name = name

    async def start(self, *, payment_id: str, amount: int, currency: str, metadata: dict[str, str]) -> StartedPayment:
        return StartedPayment(None, None)

    async def cancel(self, *, provider_ref: str) -> None:
        return None

    async def refund(self, *, provider_ref: str | None, amount: int, refund_id: str) -> str | None:
        return f"{self.name}:{refund_id}"


class StripeProvider:
    name = "stripe"
    prepaid = True

    def __init__(self, config: stripe_gateway.StripeConfig) -> None:
        self.config = config

    async def start(self, *, payment_id: str, amount: int, currency: str, metadata: dict[str, str]) -> StartedPayment:
        try:
            intent_id, secret = await stripe_gateway.create_payment_intent(
                self.config, amount=amount, currency=currency, metadata={**metadata, "payment_id": payment_id},
                idempotency_key=f"pi:{payment_id}")
        except stripe_gateway.PaymentGatewayError as exc:
            raise PaymentUnavailable(f"Stripe refused the payment: {exc.message}") from exc
        return StartedPayment(intent_id, secret)

    async def cancel(self, *, provider_ref: str) -> None:
        try:
            await stripe_gateway.cancel_payment_intent(self.config, payment_intent_id=provider_ref)
        except stripe_gateway.PaymentGatewayError as exc:
            if exc.code != "payment_intent_unexpected_state":
                raise

    async def refund(self, *, provider_ref: str | None, amount: int, refund_id: str) -> str | None:
        if provider_ref is None:
            raise PaymentUnavailable("no Stripe payment to refund")
        return await stripe_gateway.refund(self.config, payment_intent_id=provider_ref, amount=amount,
                                           idempotency_key=f"re:{refund_id}")


def stripe_config(settings: Settings) -> stripe_gateway.StripeConfig:
    if not settings.stripe_api_key:
        raise PaymentUnavailable("Stripe is not configured on this platform (STRIPE_API_KEY)")
    return stripe_gateway.StripeConfig(api_key=settings.stripe_api_key,
                                       webhook_secret=settings.stripe_webhook_secret or "",
                                       api_base=settings.stripe_api_base)


def provider(settings: Settings, name: str) -> PaymentProvider:
    if name == "stripe":
        return StripeProvider(stripe_config(settings))
    return OfflineProvider(name)
