"""Stripe's notifications: `POST /v1/payments/stripe/webhook`, verified with the SDK's signature check."""

from __future__ import annotations

from fastapi import APIRouter, Request

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import DomainError, NotFound
from app.payments.base import Paid, money_arrived
from app.payments.stripe import gateway
from app.payments.stripe.provider import config

router = APIRouter(prefix="/v1", tags=["payments"])


class BadWebhook(DomainError):
    status = 400
    type_slug = "invalid-webhook"
    title = "Webhook rejected"


@router.post("/payments/stripe/webhook", responses={400: {"description": "Signature missing or wrong"},
                                                    404: {"description": "Stripe is not configured here"}})
async def stripe_webhook(request: Request, session: SessionDep, settings: SettingsDep) -> dict[str, str]:
    """Stripe events; each event id is processed once. 404 while the platform has no Stripe settings."""
    found = config(settings)
    if found is None or not found.webhook_secret:
        raise NotFound("payment provider", "stripe")
    try:
        event = gateway.parse_webhook(found, payload=await request.body(),
                                      signature=request.headers.get("stripe-signature"))
    except gateway.InvalidWebhook as exc:
        raise BadWebhook(f"invalid Stripe webhook: {exc}") from None
    obj = event["object"]
    if event["type"] != "payment_intent.succeeded":
        return {"status": "ignored"}
    outcome = await money_arrived(session, settings, Paid(
        provider="stripe", event_id=event["id"], event_kind=event["type"], provider_ref=str(obj.get("id")),
        amount_received=obj.get("amount_received")))
    # `mismatch` (an amount other than ours) is kept for the operator and marks nothing paid; answering 2xx stops
    # Stripe from sending the same event again
    return {"status": outcome}
