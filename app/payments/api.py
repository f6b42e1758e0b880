"""The providers' notification routes, one router (each provider's own routes, from the registry), and the
merchants' payment accounts."""

from __future__ import annotations

from fastapi import APIRouter

from app.payments import accounts, operator
from app.payments.registry import PROVIDERS

router = APIRouter()
for _provider in PROVIDERS.values():
    if _provider.router is not None:
        router.include_router(_provider.router)
router.include_router(accounts.router)
router.include_router(operator.router)
