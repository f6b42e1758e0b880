"""What every payment provider is: a name, whether the buyer pays before the goods leave, the channels that offer
it, and a gateway built from the platform's settings (or none when they do not configure it).

Provider calls talk to the outside world, so they never run inside a database transaction: a payment is started
before the order transaction (and cancelled if it fails); refunds are recorded as `pending` in the transaction and
carried out after it commits (a job retries the ones that fail).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core.errors import DomainError


class PaymentUnavailable(DomainError):
    status = 502
    type_slug = "payment-provider-error"
    title = "The payment provider failed"


@dataclass(frozen=True, slots=True)
class StartedPayment:
    provider_ref: str | None  # the provider's id of the payment (a PaymentIntent id, a trade number ...)
    client: dict[str, Any] = field(default_factory=dict)  # what the buyer needs to pay: a client secret, a URL ...


class Gateway(Protocol):
    """A configured provider's calls."""

    async def start(self, *, payment_id: str, amount: int, currency: str, metadata: dict[str, str]) -> StartedPayment:
        """Ask for `amount`; idempotent per `payment_id`."""

    async def cancel(self, *, provider_ref: str) -> None:
        """Give up a started payment (the order failed or expired)."""

    async def refund(self, *, provider_ref: str | None, amount: int, refund_id: str) -> str | None:
        """Send `amount` back; idempotent per `refund_id`. Returns the provider's reference."""


@dataclass(frozen=True, slots=True)
class Provider:
    """A way to pay, as registered in `app.payments.registry`."""

    name: str
    prepaid: bool  # the buyer pays before the goods leave: orders wait in `pending_payment`
    channels: frozenset[str]  # the channels that offer it (retail, wholesale, community)
    label: tuple[str, str]  # what buyers read: Chinese, English
    gateway: Callable[[Settings], Gateway | None]  # None: the platform's settings do not configure it
    router: APIRouter | None = None  # its notification routes (answer 404 while it is not configured)


@dataclass(frozen=True, slots=True)
class Paid:
    """A provider's word that a payment's money arrived (from a verified notification or a query)."""

    provider: str
    event_id: str  # processed once
    event_kind: str
    provider_ref: str
    amount_received: int | None  # fen, as the provider reports it; compared with what was asked, never trusted


# What a verified notification is handed to. The order core installs it (`install`); payments never import orders.
PaidHandler = Callable[[AsyncSession, Settings, Paid], Awaitable[bool]]
_HANDLERS: dict[str, PaidHandler] = {}


def install(*, paid: PaidHandler) -> None:
    """Install what happens when money arrives (the order core's `payment_succeeded`)."""
    _HANDLERS["paid"] = paid


async def money_arrived(session: AsyncSession, settings: Settings, notice: Paid) -> bool:
    """Hand a verified payment notice to the order core; False when that event was processed before."""
    handler = _HANDLERS.get("paid")
    if handler is None:
        raise RuntimeError("no handler installed for payments (app.orders.payments.install)")
    return await handler(session, settings, notice)
