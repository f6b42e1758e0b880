"""The one way every channel places orders: look up the Idempotency-Key, price, start the payment outside any
transaction, place idempotently, record the payment, and cancel the payment if placing fails.

A channel (retail checkout, a wholesale batch order, a group-buy join, a service booking) is a `Channel`: it
prices its request into `OrderDraft`s, may write in the placing transaction before and after the orders (coupon
uses, a buyer's credit, a group-buy's count, a cart checked out), and says what the answer is. A new channel is
a new `Channel`, not a new copy of this protocol.

    priced  = channel.price()                  reads only: no locks held
    payment = provider.start(amount)           prepaid only; outside any transaction
    transaction:
        channel.before(priced)                 e.g. count a coupon use (refused: nothing happens)
        plan the takes of stock                from the levels read at pricing, or now
        placing.place(orders, takes, answer)   stock, orders, events and the key's answer, or nothing
        record the payment; channel.after(priced, orders)
    on failure: rollback, cancel the payment

When the placing statement is the unit's only write (no payment, nothing before or after it), it is the whole
transaction (`placing.place(commit=True)`). If a take no longer fits when the orders are placed (a concurrent
order took the units), the request is priced again and its stock planned from fresh levels, a few times at most.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core import idempotency
from app.core.clock import rfc3339, utcnow
from app.core.errors import Conflict
from app.core.ids import new_id
from app.db import execute
from app.inventory import service as inventory_service
from app.inventory.errors import OutOfStock
from app.orders.models import Payment
from app.orders.placing import statement
from app.orders.placing.drafts import OrderDraft, Placed, build
from app.orders.views import OrderView, order_view
from app.payments import accounts, registry
from app.payments.base import Gateway

PRICINGS = 3  # a request is priced at most this many times when concurrent orders take the stock it planned
RETRIES = 5  # a transaction that loses a deadlock or serialization race is run again


@dataclass
class Priced:
    """A channel's request, priced: one draft per merchant, and whether the channel writes around the orders."""

    drafts: list[OrderDraft]
    writes_before: bool = False  # `Channel.before` writes or locks: the placement needs a transaction of its own
    writes_after: bool = False  # `Channel.after` writes

    @property
    def total(self) -> int:
        return sum(d.totals().total for d in self.drafts)

    @property
    def currency(self) -> str:
        return self.drafts[0].currency


P = TypeVar("P", bound=Priced)


@dataclass(frozen=True, slots=True)
class StartedPayment:
    """A payment started for a checkout's total, before its orders were placed."""

    id: str
    provider: str
    amount: int
    currency: str
    provider_ref: str | None
    client: dict[str, Any]
    account: str | None = None  # the merchant's account the money goes to (providers with `accounts`)

    def public(self) -> dict[str, Any]:
        """What the buyer's answer shows (`PaymentOut`)."""
        return {"id": self.id, "provider": self.provider, "amount": self.amount, "currency": self.currency,
                **self.client}


class Channel(Protocol, Generic[P]):
    """What a channel gives the pipeline. `price` may run more than once (see the module)."""

    name: str  # retail | wholesale | community: which payment providers it offers
    lookup_first: bool  # look the key up before pricing: pricing is costly (thousands of lines) or has effects

    async def price(self, session: AsyncSession) -> P:
        """Read and check the request; one draft per merchant, prices decided. Reads only."""

    async def before(self, session: AsyncSession, priced: P) -> None:
        """In the placing transaction, before the orders (only if `priced.writes_before`)."""

    async def after(self, session: AsyncSession, priced: P, orders: Sequence[OrderView]) -> None:
        """In the placing transaction, after the orders (only if `priced.writes_after`)."""

    def answer(self, priced: P, orders: list[OrderView], payment: dict[str, Any] | None) -> dict[str, Any]:
        """The 201 body: given before the orders are written, so that it is recorded with them."""


@dataclass(frozen=True, slots=True)
class Request:
    """Who asks, under which key, to pay how."""

    scope: str  # the Idempotency-Key's owner (`Principal.scope`; guests share one scope)
    key: str | None
    fingerprint: str  # `idempotency.request_hash` of the request
    payment_method: str
    hold_minutes: int  # how long an unpaid prepaid order holds its stock
    device: str = "desktop"  # desktop | phone: the provider's page or QR code to answer with
    client_ip: str | None = None  # the buyer's address (WeChat Pay's H5 payments ask for it)


class _StockMoved(Exception):
    """A take no longer fits: price again from fresh levels."""

    def __init__(self, variant_ids: Sequence[str]) -> None:
        super().__init__(", ".join(variant_ids))
        self.variant_ids = variant_ids


async def place(session: AsyncSession, *, settings: Settings, channel: Channel[P],
                request: Request) -> idempotency.Result:
    """Place a channel's request (see the module); returns (201, body), or the first answer to its key."""
    gateway = registry.gateway(settings, request.payment_method)
    prepaid = registry.prepaid(request.payment_method)
    if request.key and (channel.lookup_first or prepaid):  # a retry must not start a second payment
        found = await idempotency.lookup(session, scope=request.scope, key=request.key,
                                         fingerprint=request.fingerprint)
        if found is not None:
            return found
    payment: StartedPayment | None = None
    try:
        priced = await channel.price(session)
        if prepaid:
            account = await accounts.account_for(session, request.payment_method,
                                                 [d.merchant_id for d in priced.drafts])
            await session.rollback()  # hold nothing while the provider is called
            payment = await _start(gateway, request, priced, account)
        for pricing in range(1, PRICINGS + 1):
            try:
                return await _placed(session, channel, request, priced, payment, attempt=pricing)
            except _StockMoved as moved:
                await session.rollback()
                if pricing == PRICINGS:
                    sku_of = {ln.variant_id: ln.sku for d in priced.drafts for ln in d.lines}
                    raise OutOfStock(sorted({sku_of.get(v, v) for v in moved.variant_ids})) from None
            priced = await channel.price(session)  # from fresh levels
            if payment is not None and priced.total != payment.amount:
                raise Conflict("stock or prices changed while the payment was being prepared; send the order again")
        raise AssertionError("unreachable")
    except BaseException as failure:
        # A failure may be no failure: the key got its answer meanwhile (a retry whose work would now fail).
        try:
            found = await _stored(session, request) if isinstance(failure, Exception) else None
        finally:
            await session.rollback()
            await _cancel(gateway, payment)
        if found is not None:
            return found
        raise


async def _cancel(gateway: Gateway, payment: StartedPayment | None) -> None:
    if payment is not None and payment.provider_ref:
        with contextlib.suppress(Exception):  # nothing was charged; an unconfirmed payment expires anyway
            await gateway.cancel(provider_ref=payment.provider_ref, account=payment.account)


async def _start(gateway: Gateway, request: Request, priced: Priced, account: str | None) -> StartedPayment:
    payment_id = new_id("pay")
    lines = [ln for d in priced.drafts for ln in d.lines]
    subject = lines[0].title + (f" 等 {len(lines)} 件" if len(lines) > 1 else "")
    # The provider refuses the payment once the stock hold has run out (a minute early: clocks differ)
    expires = utcnow() + timedelta(minutes=max(request.hold_minutes - 1, 1))
    metadata = {"payment_id": payment_id, "device": request.device, "subject": subject,
                "expires_at": rfc3339(expires)}
    if request.client_ip:
        metadata["client_ip"] = request.client_ip
    started = await gateway.start(payment_id=payment_id, amount=priced.total, currency=priced.currency,
                                  metadata=metadata, account=account)
    return StartedPayment(payment_id, request.payment_method, priced.total, priced.currency, started.provider_ref,
                          started.client, account)


async def _placed(session: AsyncSession, channel: Channel[P], request: Request, priced: P,
                  payment: StartedPayment | None, *, attempt: int) -> idempotency.Result:
    """One pricing's placement, run again when its transaction loses a deadlock; the stored answer if the key got
    one meanwhile."""
    for retry in range(1, RETRIES + 1):
        try:
            return await _transaction(session, channel, request, priced, payment, attempt=attempt)
        except idempotency.AlreadyAnswered:
            found = await _stored(session, request)
            if found is None:  # the other request's row is gone again (it cannot be: answers are kept)
                raise
            return found
        except DBAPIError as exc:
            await session.rollback()
            if retry == RETRIES or not idempotency.is_retryable(exc):
                raise
            await asyncio.sleep(0.005 * retry)
    raise AssertionError("unreachable")


async def _stored(session: AsyncSession, request: Request) -> idempotency.Result | None:
    if request.key is None:
        await session.rollback()
        return None
    return await idempotency.answer_after_rollback(session, scope=request.scope, key=request.key,
                                                   fingerprint=request.fingerprint)


async def _transaction(session: AsyncSession, channel: Channel[P], request: Request, priced: P,
                       payment: StartedPayment | None, *, attempt: int) -> idempotency.Result:
    now = utcnow()
    checkout_id = new_id("chk")
    placed = [build(d, checkout_id=checkout_id, payment_id=payment.id if payment else None, now=now,
                    hold_minutes=request.hold_minutes) for d in sorted(priced.drafts, key=lambda d: d.merchant_id)]
    orders = [order_view(p.order, p.lines, []) for p in placed]
    result = (201, channel.answer(priced, orders, payment.public() if payment else None))
    record = (idempotency.answer_row(scope=request.scope, key=request.key, fingerprint=request.fingerprint,
                                     result=result) if request.key else None)
    last = payment is None and not priced.writes_before and not priced.writes_after
    if priced.writes_before:  # first: what it writes may free the units the orders take (a flash sale's hold)
        await channel.before(session, priced)
    takes = await plan(session, placed, fresh=attempt > 1)
    outcome = await statement.place(session, placed, takes, attempt=attempt, record=record, now=now, commit=last)
    if outcome.answered:
        raise idempotency.AlreadyAnswered("this Idempotency-Key was answered by another request meanwhile")
    if not outcome.placed:
        raise _StockMoved(outcome.short or sorted({t.take.variant_id for t in takes}))
    if last:
        return result
    if payment is not None:
        await execute(session, _INSERT_PAYMENT, {
            "id": payment.id, "checkout_id": checkout_id, "provider": payment.provider,
            "provider_ref": payment.provider_ref, "amount": payment.amount, "currency": payment.currency,
            "status": "pending", "account": payment.account, "created_at": now})
    if priced.writes_after:
        await channel.after(session, priced, orders)
    await session.commit()
    return result


_INSERT_PAYMENT = insert(Payment)


async def plan(session: AsyncSession, placed: Sequence[Placed], *, fresh: bool) -> list[statement.OrderTake]:
    """Where each order's stock is taken from (`inventory.service.plan_takes`): from the levels its draft was
    priced with, or from levels read now (`fresh`, or a draft priced without them). In the (variant, location)
    order every stock writer locks in. OutOfStock names every short SKU of every order."""
    sku_of = {ln.variant_id: ln.sku for p in placed for ln in p.draft.lines}
    takes: list[statement.OrderTake] = []
    short: list[str] = []
    for p in placed:
        if p.draft.stock_hold == "none":
            continue
        needs: dict[str, int] = defaultdict(int)
        for need in p.draft.needs():
            needs[need.variant_id] += need.quantity
        try:
            planned = await inventory_service.plan_takes(
                session, merchant_id=p.draft.merchant_id, needs=needs, sku_of=sku_of,
                pickup_location_id=p.draft.hold_at(), snapshot=None if fresh else p.draft.stock)
        except OutOfStock as exc:
            short.extend(exc.skus)
            continue
        takes.extend(statement.OrderTake(p.draft.merchant_id, p.order["id"], t) for t in planned)
    if short:
        raise OutOfStock(sorted(set(short)))
    return sorted(takes, key=lambda t: (t.take.variant_id, t.take.location_id))
