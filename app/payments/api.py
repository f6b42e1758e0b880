from __future__ import annotations

from fastapi import APIRouter, Request

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import DomainError
from app.orders import service as orders_service
from app.payments import stripe_gateway
from app.payments.providers import stripe_config

router = APIRouter(prefix="/v1", tags=["payments"])


class BadWebhook(DomainError):
    status = 400
    type_slug = "invalid-webhook"
    title = "Webhook rejected"


@router.post("/payments/stripe/webhook")
async def stripe_webhook(request: Request, session: SessionDep, settings: SettingsDep) -> dict[str, str]:
    """Stripe events, verified with the SDK's signature check; each event id is processed once."""
    payload = await request.body()
    config = stripe_config(settings)
    if not config.webhook_secret:
        raise BadWebhook("STRIPE_WEBHOOK_SECRET is not configured")
    try:
        event = stripe_gateway.parse_webhook(config, payload=payload,
                                             signature=request.headers.get("stripe-signature"))
    except stripe_gateway.InvalidWebhook as exc:
        raise BadWebhook(f"invalid Stripe webhook: {exc}") from None
    obj = event["object"]
    if event["type"] == "payment_intent.succeeded":
        fresh = await orders_service.payment_succeeded(
            session, settings=settings, provider_name="stripe", event_id=event["id"], event_kind=event["type"],
            provider_ref=str(obj.get("id")), amount_received=obj.get("amount_received"))
        return {"status": "processed" if fresh else "duplicate"}
    return {"status": "ignored"}
