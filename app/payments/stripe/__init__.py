"""Stripe (cards, cross-border sellers): settings `STRIPE_API_KEY`, `STRIPE_WEBHOOK_SECRET`, `STRIPE_API_BASE`."""

from app.payments.base import Provider
from app.payments.stripe.provider import build
from app.payments.stripe.webhook import router

PROVIDER = Provider(name="stripe", prepaid=True, channels=frozenset({"retail", "wholesale", "community"}),
                    label=("银行卡（Stripe）", "Card (Stripe)"), gateway=build, router=router)
