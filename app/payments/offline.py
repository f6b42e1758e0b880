"""Ways to pay in which no money moves through a provider at checkout (cash on delivery, credit terms)."""

from __future__ import annotations

from collections.abc import Callable

from app.config import Settings
from app.payments.base import Gateway, StartedPayment


class OfflineGateway:
    """A refund is recorded for the merchant to pay out (cash back at the door, a credit note on the account)."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def start(self, *, payment_id: str, amount: int, currency: str, metadata: dict[str, str],
                    account: str | None = None) -> StartedPayment:
        return StartedPayment(None)

    async def cancel(self, *, provider_ref: str, account: str | None = None) -> None:
        return None

    async def refund(self, *, provider_ref: str | None, amount: int, refund_id: str, account: str | None = None,
                     paid: int | None = None) -> str | None:
        return f"{self.name}:{refund_id}"


def always(name: str) -> Callable[[Settings], Gateway]:
    """The gateway factory of an offline way to pay: configured on every platform."""
    gateway = OfflineGateway(name)

    def build(_settings: Settings) -> Gateway:
        return gateway

    return build
