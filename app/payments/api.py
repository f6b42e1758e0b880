"""The providers' notification routes (each provider's own router, from the registry), the merchants' payment
accounts and the operator's payment pages, as the list of routers the app includes."""

from __future__ import annotations

from fastapi import APIRouter

from app.payments import accounts, operator
from app.payments.registry import PROVIDERS

routers: list[APIRouter] = [p.router for p in PROVIDERS.values() if p.router is not None]
routers += [accounts.router, operator.router]
