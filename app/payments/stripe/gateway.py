"""Thin async wrapper over the official ``stripe`` SDK (v16 ``StripeClient``).

The SDK is synchronous here; every network call runs in a worker thread via ``anyio.to_thread``.
One ``StripeClient`` is built lazily per (api_key, api_base) and reused; ``stripe`` module globals
(``stripe.api_key`` etc.) are never touched.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

import anyio.to_thread
import stripe

__all__ = [
    "InvalidWebhook",
    "PaymentGatewayError",
    "StripeConfig",
    "cancel_payment_intent",
    "create_payment_intent",
    "parse_webhook",
    "refund",
]

_MAX_NETWORK_RETRIES = 2
_CURRENCY_RE = re.compile(r"[A-Za-z]{3}")


@dataclass(frozen=True)
class StripeConfig:
    api_key: str = field(repr=False)  # secrets stay out of logs and tracebacks
    webhook_secret: str = field(repr=False)
    api_base: str | None = None


class PaymentGatewayError(Exception):
    """The Stripe API call failed (declined, invalid request, auth, network...)."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        http_status: int | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status
        self.request_id = request_id


class InvalidWebhook(Exception):
    """The webhook signature is missing/invalid or the payload is not a Stripe event."""


@functools.lru_cache(maxsize=16)
def _client_for(api_key: str, api_base: str | None) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else {},
        max_network_retries=_MAX_NETWORK_RETRIES,
    )


def _client(config: StripeConfig) -> stripe.StripeClient:
    return _client_for(config.api_key, config.api_base)


def _gateway_error(exc: stripe.StripeError) -> PaymentGatewayError:
    message = exc.user_message or str(exc) or type(exc).__name__
    return PaymentGatewayError(
        f"Stripe {type(exc).__name__}: {message}",
        code=exc.code,
        http_status=exc.http_status,
        request_id=exc.request_id,
    )


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise ValueError(f"amount must be a positive integer in minor units, got {amount!r}")


async def create_payment_intent(
    config: StripeConfig,
    *,
    amount: int,
    currency: str,
    metadata: dict[str, str],
    idempotency_key: str,
) -> tuple[str, str]:
    """Create a PaymentIntent; returns ``(intent_id, client_secret)``."""
    _check_amount(amount)
    if not _CURRENCY_RE.fullmatch(currency):
        raise ValueError(f"currency must be a 3-letter ISO code, got {currency!r}")
    call = functools.partial(
        _client(config).v1.payment_intents.create,
        params={"amount": amount, "currency": currency.lower(), "metadata": dict(metadata)},
        options={"idempotency_key": idempotency_key},
    )
    try:
        intent = await anyio.to_thread.run_sync(call)
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    if not intent.client_secret:
        raise PaymentGatewayError(f"Stripe returned PaymentIntent {intent.id} without a client_secret")
    return intent.id, intent.client_secret


async def refund(config: StripeConfig, *, payment_intent_id: str, amount: int, idempotency_key: str) -> str:
    """Refund ``amount`` (minor units) of a succeeded PaymentIntent; returns the refund id."""
    _check_amount(amount)
    call = functools.partial(
        _client(config).v1.refunds.create,
        params={"payment_intent": payment_intent_id, "amount": amount},
        options={"idempotency_key": idempotency_key},
    )
    try:
        created = await anyio.to_thread.run_sync(call)
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc
    return created.id


async def cancel_payment_intent(config: StripeConfig, *, payment_intent_id: str) -> None:
    """Cancel a PaymentIntent that has not been paid yet."""
    call = functools.partial(_client(config).v1.payment_intents.cancel, payment_intent_id)
    try:
        await anyio.to_thread.run_sync(call)
    except stripe.StripeError as exc:
        raise _gateway_error(exc) from exc


def parse_webhook(config: StripeConfig, *, payload: bytes, signature: str | None) -> dict[str, Any]:
    """Verify a webhook with the SDK and return ``{"id", "type", "object"}`` (``object`` = ``data.object``
    as a plain dict). Raises :class:`InvalidWebhook` on a missing/bad signature or malformed payload.
    Signatures older than the SDK's default tolerance (300 s) are rejected."""
    if not signature:
        raise InvalidWebhook("missing Stripe-Signature header")
    try:
        event = _client(config).construct_event(payload, signature, config.webhook_secret)
        data = event.to_dict()
    except stripe.SignatureVerificationError as exc:
        raise InvalidWebhook(f"bad signature: {exc.user_message or exc}") from exc
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        # ValueError covers invalid JSON and non-UTF-8 bodies; the others a JSON value that isn't an object.
        raise InvalidWebhook(f"malformed webhook payload: {exc}") from exc
    event_id, event_type, inner = data.get("id"), data.get("type"), data.get("data")
    obj = inner.get("object") if isinstance(inner, dict) else None
    if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(obj, dict):
        raise InvalidWebhook("payload is not a Stripe event (missing id, type or data.object)")
    return {"id": event_id, "type": event_type, "object": obj}
