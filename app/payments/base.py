"""What every payment provider is: a name, whether the buyer pays before the goods leave, the channels that offer
it, and a gateway built from the platform's settings (or none when they do not configure it).

Provider calls talk to the outside world, so they never run inside a database transaction: a payment is started
before the order transaction (and cancelled if it fails); refunds are recorded as `pending` in the transaction and
carried out after it commits (a job retries the ones that fail).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol, runtime_checkable

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
    """A configured provider's calls. `account` is the merchant's own account at the provider (`PaymentAccount`,
    for providers that pay each merchant directly), as recorded on the payment; None for the others."""

    async def start(self, *, payment_id: str, amount: int, currency: str, metadata: dict[str, str],
                    account: str | None = None) -> StartedPayment:
        """Ask for `amount`; idempotent per `payment_id`. `metadata` may say `device` (desktop | phone),
        `client_ip`, `expires_at` (RFC 3339: the payment may not be made later), `subject`, `return_url`."""

    async def cancel(self, *, provider_ref: str, account: str | None = None) -> None:
        """Give up a started payment (the order failed or expired)."""

    async def refund(self, *, provider_ref: str | None, amount: int, refund_id: str, account: str | None = None,
                     paid: int | None = None) -> str | None:
        """Send `amount` back; idempotent per `refund_id` (the refund's request number at the provider, so a retry
        never refunds twice). `paid`: what the payment took. Returns the provider's reference."""


@dataclass(frozen=True, slots=True)
class StatementLine:
    """A payment as a provider's daily statement lists it."""

    provider_ref: str  # our reference at the provider (the out_trade_no)
    amount: int  # fen


@runtime_checkable
class Settling(Protocol):
    """A gateway that can be asked whether a payment was made (for payments whose notification never came) and
    can fetch its daily statement (reconciliation)."""

    async def query(self, *, provider_ref: str, account: str | None) -> Paid | None:
        """The provider's word that the payment was made, or None while it was not."""

    async def statement(self, *, day: date, accounts: Sequence[str]) -> list[StatementLine]:
        """The payments of `day` (Asia/Shanghai) on the platform's statement (or each account's)."""


@dataclass(frozen=True, slots=True)
class Part:
    """One merchant's share of a checkout, paid into that merchant's own account."""

    payment_id: str  # our payment of this share (its reference at the provider)
    amount: int  # fen
    account: str  # the merchant's account at the provider
    subject: str


@dataclass(frozen=True, slots=True)
class CombinedStart:
    """A payment of several merchants' shares that the buyer makes in one step."""

    group_ref: str  # the provider's reference of the whole (a combined trade number)
    parts: list[StartedPayment]  # one per `Part`, in their order


@runtime_checkable
class Combining(Protocol):
    """A gateway that takes several merchants' shares in one payment, each share landing in its merchant's own
    account (WeChat Pay's combined payment). Without it, a checkout across merchants is one payment per merchant."""

    async def start_combined(self, *, group_id: str, parts: Sequence[Part], currency: str,
                             metadata: dict[str, str]) -> CombinedStart:
        """Ask for every share at once (`metadata` as in `Gateway.start`)."""

    async def cancel_combined(self, *, group_ref: str, parts: Sequence[tuple[str, str]]) -> None:
        """Give up a combined payment; `parts` are its shares' `(provider_ref, account)` as started."""

    async def query_combined(self, *, group_ref: str) -> list[Paid]:
        """The provider's word for each share that was paid (for lost notifications)."""


@runtime_checkable
class RefundQuerying(Protocol):
    """A gateway whose refunds end later (`Provider.refunds_notified`) and can be asked how one ended."""

    async def refund_outcome(self, *, refund_id: str, account: str | None) -> RefundEnded | None:
        """How the refund ended, or None while it is still under way."""


@dataclass(frozen=True, slots=True)
class Provider:
    """A way to pay, as registered in `app.payments.registry`."""

    name: str
    prepaid: bool  # the buyer pays before the goods leave: orders wait in `pending_payment`
    channels: frozenset[str]  # the channels that offer it (retail, wholesale, community)
    label: tuple[str, str]  # what buyers read: Chinese, English
    gateway: Callable[[Settings], Gateway | None]  # None: the platform's settings do not configure it
    router: APIRouter | None = None  # its notification routes (answer 404 while it is not configured)
    # Each merchant is paid into its own account at the provider (service-provider mode, C27): a merchant's goods
    # are payable this way only once it has set its account (`PUT /v1/payment-accounts/{provider}`).
    accounts: bool = False
    # The provider's answer to a refund only accepts it: its notification (or a query) says later whether the
    # money went back. Such refunds stay `processing` until then, and a failed one is given back to the order.
    refunds_notified: bool = False


@dataclass(frozen=True, slots=True)
class Paid:
    """A provider's word that a payment's money arrived (from a verified notification or a query)."""

    provider: str
    event_id: str  # processed once
    event_kind: str
    provider_ref: str
    amount_received: int | None  # fen, as the provider reports it; compared with what was asked, never trusted


@dataclass(frozen=True, slots=True)
class RefundEnded:
    """A provider's word that a refund ended: the money went back, or it could not (closed, abnormal)."""

    provider: str
    event_id: str  # processed once
    refund_id: str  # our refund's id: its request number at the provider
    succeeded: bool
    amount: int | None  # fen, as the provider reports it; compared with the refund's, never trusted
    # A failed refund whose money stayed with the merchant (closed): the order may be refunded again. Otherwise
    # (abnormal: the money left but did not reach the buyer) it is owed still and handled by hand, with the buyer.
    released: bool = False
    provider_ref: str | None = None  # the provider's id of the refund
    detail: str = ""  # the provider's status word (SUCCESS, CLOSED, ABNORMAL)


# What became of a provider's word: the payment's orders were marked paid; it was counted before; no payment of
# ours has that reference; the amount differs from what we asked (recorded for the operator, nothing paid).
Outcome = Literal["processed", "duplicate", "unknown", "mismatch"]

# What a verified notification is handed to. The order core installs it (`install`); payments never import orders.
PaidHandler = Callable[[AsyncSession, Settings, Paid], Awaitable[Outcome]]
RefundHandler = Callable[[AsyncSession, Settings, RefundEnded], Awaitable[Outcome]]
_HANDLERS: dict[str, PaidHandler] = {}
_REFUND_HANDLERS: dict[str, RefundHandler] = {}


def install(*, paid: PaidHandler, refund_ended: RefundHandler) -> None:
    """Install what happens when money arrives and when a refund ends (the order core's `payment_succeeded` and
    `refund_settled`)."""
    _HANDLERS["paid"] = paid
    _REFUND_HANDLERS["ended"] = refund_ended


async def money_arrived(session: AsyncSession, settings: Settings, notice: Paid) -> Outcome:
    """Hand a verified payment notice to the order core (see `Outcome`)."""
    handler = _HANDLERS.get("paid")
    if handler is None:
        raise RuntimeError("no handler installed for payments (app.orders.payments.install)")
    return await handler(session, settings, notice)


async def refund_ended(session: AsyncSession, settings: Settings, notice: RefundEnded) -> Outcome:
    """Hand a verified refund outcome to the order core (see `Outcome`: `unknown` when no refund of ours has that
    id, `mismatch` when the amount is not the refund's)."""
    handler = _REFUND_HANDLERS.get("ended")
    if handler is None:
        raise RuntimeError("no handler installed for refunds (app.orders.payments.install)")
    return await handler(session, settings, notice)
