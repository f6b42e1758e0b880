"""The one way every channel places orders: look up the Idempotency-Key, price, start the payment outside any
transaction, place idempotently, record the payment, and cancel the payment if placing fails.

A channel (retail checkout, a wholesale batch order, a group-buy join, a service booking) is a `Channel`: it
prices its request into `OrderDraft`s, may write in the placing transaction before and after the orders (coupon
uses, a buyer's credit, a group-buy's count, a cart checked out), and says what the answer is. A new channel is
a new `Channel`, not a new copy of this protocol.

    priced  = channel.price()                  reads only: no locks held
    payment = provider.start(amount)           prepaid only; outside any transaction; one per merchant when
                                               each merchant is paid into its own account (or one combined)
    transaction:
        channel.before(priced)                 e.g. count a coupon use (refused: nothing happens)
        plan the takes of stock                from the levels read at pricing, or now
        placing.place(orders, takes, answer)   stock, orders, events and the key's answer, or nothing
        record the payment; channel.after(priced, orders)
    on failure: rollback, cancel the payment

When the placing statement is the unit's only write (no payment, nothing written before or after it), it is the whole
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
from typing import Any, Generic, Protocol, TypeVar, cast

from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core import coalesce, events, idempotency
from app.core.clock import rfc3339, utcnow
from app.core.errors import Conflict
from app.core.ids import new_id
from app.core.logging import get_logger
from app.db import execute
from app.inventory import service as inventory_service
from app.inventory.errors import OutOfStock
from app.orders.models import Payment
from app.orders.placing import statement
from app.orders.placing.drafts import OrderDraft, Placed, build
from app.orders.views import OrderView, order_view
from app.payments import accounts, registry
from app.payments.base import Combining, Gateway, Part

log = get_logger("app.orders")
PRICINGS = 3  # a request is priced at most this many times when concurrent orders take the stock it planned
RETRIES = 5  # a transaction that loses a deadlock or serialization race is run again


@dataclass
class Priced:
    """A channel's request, priced: one draft per merchant, and whether the channel writes around the orders."""

    drafts: list[OrderDraft]
    writes_before: bool = False  # `Channel.before` writes or locks: the placement needs a transaction of its own
    writes_after: bool = False  # `Channel.after` writes
    reads_before: bool = False  # `Channel.before` only reads (and completes the drafts): it runs, needing none

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
    account_kept: str | None = None  # that account as the payment row keeps it (tokens encrypted)
    merchant_id: str | None = None  # whose share this is, when each merchant is paid on its own
    group_ref: str | None = None  # the combined payment it is a share of

    def public(self) -> dict[str, Any]:
        """What the buyer's answer shows (`PaymentOut`)."""
        shown = {"id": self.id, "provider": self.provider, "amount": self.amount, "currency": self.currency,
                 **self.client}
        if self.merchant_id:
            shown["merchant_id"] = self.merchant_id
        return shown


class Channel(Protocol, Generic[P]):
    """What a channel gives the pipeline. `price` may run more than once (see the module).

    A channel whose requests are written together (`Together`) may also give, on its class, `before_together`
    and `after_together`: `before` and `after` of several of its requests at once, in a statement each rather
    than one per request (`_hooks`)."""

    name: str  # retail | wholesale | community: which payment providers it offers
    lookup_first: bool  # look the key up before pricing: pricing is costly (thousands of lines) or has effects

    async def price(self, session: AsyncSession) -> P:
        """Read and check the request; one draft per merchant, prices decided. Reads only."""

    async def before(self, session: AsyncSession, priced: P) -> None:
        """Before the orders are built (only if `priced.writes_before` or `priced.reads_before`): it may complete
        the drafts from what it reads (the same totals); in the placing transaction, it may lock and write
        (`writes_before`)."""

    async def after(self, session: AsyncSession, priced: P, orders: Sequence[OrderView]) -> None:
        """In the placing transaction, after the orders (only if `priced.writes_after`)."""

    def answer(self, priced: P, orders: list[OrderView], payment: dict[str, Any] | None) -> dict[str, Any]:
        """The 201 body: given before the orders are written, so that it is recorded with them. `payment` is the
        first of the checkout's payments; an answer that shows `payment` also gets `payments`, all of them."""


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
    openid: str | None = None  # the buyer's WeChat openid (JSAPI payments inside WeChat)


class _StockMoved(Exception):
    """A take no longer fits: price again from fresh levels."""

    def __init__(self, variant_ids: Sequence[str]) -> None:
        super().__init__(", ".join(variant_ids))
        self.variant_ids = variant_ids


async def place(session: AsyncSession, *, settings: Settings, channel: Channel[P], request: Request,
                together: Together | None = None) -> idempotency.Result:
    """Place a channel's request (see the module); returns (201, body), or the first answer to its key.
    `together`: written with the requests that arrive while another is being written (`Together`)."""
    gateway = registry.gateway(settings, request.payment_method)
    prepaid = registry.prepaid(request.payment_method)
    if request.key and (channel.lookup_first or prepaid):  # a retry must not start a second payment
        found = await idempotency.lookup(session, scope=request.scope, key=request.key,
                                         fingerprint=request.fingerprint)
        if found is not None:
            return found
    payments: list[StartedPayment] = []
    try:
        priced = await channel.price(session)
        if prepaid:
            accounts_of = await accounts.accounts_for(session, settings, request.payment_method,
                                                      [d.merchant_id for d in priced.drafts])
            await session.rollback()  # hold nothing while the provider is called
            payments = await _start(gateway, request, priced, accounts_of)
        for pricing in range(1, PRICINGS + 1):
            try:
                if together is not None and pricing == 1 and not events.pending(session):
                    return await together.place(session, _Job(channel, request, priced, payments))
                return await _placed(session, channel, request, priced, payments, attempt=pricing)
            except _StockMoved as moved:
                await session.rollback()
                if pricing == PRICINGS:
                    sku_of = {ln.variant_id: ln.sku for d in priced.drafts for ln in d.lines}
                    raise OutOfStock(sorted({sku_of.get(v, v) for v in moved.variant_ids})) from None
            priced = await channel.price(session)  # from fresh levels
            if payments and not _unchanged(priced, payments):
                raise Conflict("stock or prices changed while the payment was being prepared; send the order again")
        raise AssertionError("unreachable")
    except BaseException as failure:
        # A failure may be no failure: the key got its answer meanwhile (a retry whose work would now fail).
        try:
            found = await _stored(session, request) if isinstance(failure, Exception) else None
        finally:
            await session.rollback()
            await _cancel(gateway, payments)
        if found is not None:
            return found
        raise


def _unchanged(priced: Priced, payments: Sequence[StartedPayment]) -> bool:
    """Whether the payments still ask what the request, priced again, comes to (each merchant's share)."""
    if len(payments) == 1 and payments[0].merchant_id is None:
        return priced.total == payments[0].amount
    shares: dict[str | None, int] = {d.merchant_id: d.totals().total for d in priced.drafts}
    return shares == {p.merchant_id: p.amount for p in payments}


async def _cancel(gateway: Gateway, payments: Sequence[StartedPayment]) -> None:
    groups = {p.group_ref for p in payments if p.group_ref}
    for group in groups:
        if isinstance(gateway, Combining):
            with contextlib.suppress(Exception):  # nothing was charged; an unconfirmed payment expires anyway
                await gateway.cancel_combined(group_ref=group, parts=[
                    (p.provider_ref, p.account or "") for p in payments if p.group_ref == group and p.provider_ref])
    for payment in payments:
        if payment.provider_ref and not payment.group_ref:
            with contextlib.suppress(Exception):
                await gateway.cancel(provider_ref=payment.provider_ref, account=payment.account)


def _subject(lines: Sequence[Any]) -> str:
    return str(lines[0].title) + (f" 等 {len(lines)} 件" if len(lines) > 1 else "")


async def _start(gateway: Gateway, request: Request, priced: Priced,
                 accounts_of: dict[str, accounts.Credential] | None) -> list[StartedPayment]:
    """The checkout's payments: one for its total; or, when each merchant is paid into its own account, one per
    merchant (a combined payment when the provider takes several merchants' shares at once)."""
    # The provider refuses the payment once the stock hold has run out (a minute early: clocks differ)
    expires = utcnow() + timedelta(minutes=max(request.hold_minutes - 1, 1))
    metadata = {"device": request.device, "expires_at": rfc3339(expires)}
    if request.client_ip:
        metadata["client_ip"] = request.client_ip
    if request.openid:
        metadata["openid"] = request.openid
    method, currency = request.payment_method, priced.currency
    if accounts_of is None:
        payment_id = new_id("pay")
        started = await gateway.start(payment_id=payment_id, amount=priced.total, currency=currency, metadata={
            **metadata, "payment_id": payment_id, "subject": _subject([ln for d in priced.drafts for ln in d.lines])})
        return [StartedPayment(payment_id, method, priced.total, currency, started.provider_ref, started.client)]
    drafts = sorted(priced.drafts, key=lambda d: d.merchant_id)
    parts = [Part(new_id("pay"), d.totals().total, accounts_of[d.merchant_id].value, _subject(d.lines))
             for d in drafts]
    if len(parts) > 1 and isinstance(gateway, Combining):
        combined = await gateway.start_combined(group_id=new_id("cmb"), parts=parts, currency=currency,
                                                metadata=metadata)
        return [StartedPayment(part.payment_id, method, part.amount, currency, made.provider_ref, made.client,
                               part.account, accounts_of[d.merchant_id].kept, d.merchant_id, combined.group_ref)
                for part, made, d in zip(parts, combined.parts, drafts, strict=True)]
    payments: list[StartedPayment] = []
    try:
        for part, d in zip(parts, drafts, strict=True):  # one after another: each merchant's own payment
            made = await gateway.start(payment_id=part.payment_id, amount=part.amount, currency=currency,
                                       metadata={**metadata, "payment_id": part.payment_id, "subject": part.subject},
                                       account=part.account)
            payments.append(StartedPayment(part.payment_id, method, part.amount, currency, made.provider_ref,
                                           made.client, part.account, accounts_of[d.merchant_id].kept,
                                           d.merchant_id if len(parts) > 1 else None))
    except BaseException:
        await _cancel(gateway, payments)
        raise
    return payments


async def _placed(session: AsyncSession, channel: Channel[P], request: Request, priced: P,
                  payments: list[StartedPayment], *, attempt: int) -> idempotency.Result:
    """One pricing's placement, run again when its transaction loses a deadlock; the stored answer if the key got
    one meanwhile."""
    for retry in range(1, RETRIES + 1):
        try:
            return (await _write(session, [_Job(channel, request, priced, payments)], attempt=attempt))[0]
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


def _payment_of(payments: list[StartedPayment], merchant_id: str) -> str | None:
    """The payment a merchant's order is paid by: its own share, or the checkout's one payment."""
    if not payments:
        return None
    return next((p.id for p in payments if p.merchant_id == merchant_id), payments[0].id)


@dataclass(slots=True)
class _Job(Generic[P]):
    """A request, priced and its payments started, to be written."""

    channel: Channel[P]
    request: Request
    priced: P
    payments: list[StartedPayment]


async def _write(session: AsyncSession, jobs: Sequence[_Job[Any]], *, attempt: int) -> list[idempotency.Result]:
    """The placing transaction of one request or of several placed together (`Together`): each one's `before`,
    then every order in one placing statement, each one's payments and `after`, and one commit."""
    # First, before the orders are built: what `before` reads may complete their drafts (a flash sale's buyers),
    # and what it writes may change what the orders take.
    await _hooks(session, "before", [(j.channel, j.priced) for j in jobs
                                     if j.priced.writes_before or j.priced.reads_before])
    now = utcnow()
    placed: list[Placed] = []
    records: list[dict[str, Any]] = []
    results: list[idempotency.Result] = []
    views: list[list[OrderView]] = []
    checkouts: list[str] = []
    for job in jobs:
        request, priced, payments = job.request, job.priced, job.payments
        checkout_id = new_id("chk")
        mine = [build(d, checkout_id=checkout_id, payment_id=_payment_of(payments, d.merchant_id), now=now,
                      hold_minutes=request.hold_minutes) for d in sorted(priced.drafts, key=lambda d: d.merchant_id)]
        orders = [order_view(p.order, p.lines, []) for p in mine]
        order_of = {o["merchant_id"]: o["id"] for o in orders}
        shown = [{**p.public(), **({"order_id": order_of[p.merchant_id]} if p.merchant_id in order_of else {})}
                 for p in payments]
        body = job.channel.answer(priced, orders, shown[0] if shown else None)
        if "payment" in body:
            body["payments"] = shown
        result = (201, body)
        if request.key:
            records.append(idempotency.answer_row(scope=request.scope, key=request.key,
                                                  fingerprint=request.fingerprint, result=result))
        placed += mine
        views.append(orders)
        checkouts.append(checkout_id)
        results.append(result)
    last = not any(j.payments or j.priced.writes_before or j.priced.writes_after for j in jobs)
    takes = await plan(session, placed, fresh=attempt > 1)
    outcome = await statement.place(session, placed, takes, attempt=attempt, records=records, now=now, commit=last)
    if outcome.answered:
        raise idempotency.AlreadyAnswered("this Idempotency-Key was answered by another request meanwhile")
    if not outcome.placed:
        raise _StockMoved(outcome.short or sorted({t.take.variant_id for t in takes}))
    if last:
        return results
    for job, checkout_id in zip(jobs, checkouts, strict=True):
        for payment in job.payments:
            await execute(session, _INSERT_PAYMENT, {
                "id": payment.id, "checkout_id": checkout_id, "provider": payment.provider,
                "provider_ref": payment.provider_ref, "amount": payment.amount, "currency": payment.currency,
                "status": "pending", "account": payment.account_kept, "group_ref": payment.group_ref,
                "client": payment.client or None, "created_at": now})
    await _hooks(session, "after", [(j.channel, j.priced, orders)
                                    for j, orders in zip(jobs, views, strict=True) if j.priced.writes_after])
    await session.commit()
    return results


async def _hooks(session: AsyncSession, hook: str, calls: Sequence[tuple[Any, ...]]) -> None:
    """Each request's `before` or `after` (`calls`: the channel and that hook's other arguments), or, when they are
    all of one channel that offers it, its `before_together` / `after_together` once for all of them."""
    if not calls:
        return
    together = getattr(type(calls[0][0]), f"{hook}_together", None)
    if together is not None and all(type(c[0]) is type(calls[0][0]) for c in calls):
        await together(session, calls)
        return
    for channel, *args in calls:
        await getattr(channel, hook)(session, *args)


_INSERT_PAYMENT = insert(Payment)
GROUP_LIMIT = 64  # requests written in one transaction at most
_ALONE = object()  # a group's answer to each of its requests when it failed: write it alone


class Together:
    """Requests written together (a group commit, `coalesce.Coalescer`): a request that arrives while others of its
    kind are being written waits for that write, and is then written with every request waiting, up to
    `GROUP_LIMIT`, in one transaction: one placing statement, one commit (`_write`). Under a rush of orders of
    one thing (a flash sale's winners) the round trips and the commit of a transaction are then shared by the
    orders waiting, instead of each order queueing for a connection and the CPU to run its own. A request that
    finds none being written is written at once, alone, as it would be without this. If a group's transaction
    fails for any reason (a key answered meanwhile, stock moved, a refusal at commit, a deadlock), it is rolled
    back and each of its requests is written alone, as it would have been, and gets its own answer."""

    def __init__(self) -> None:
        self._groups: coalesce.Coalescer[_Job[Any], Any] = coalesce.Coalescer(GROUP_LIMIT)

    async def place(self, session: AsyncSession, job: _Job[Any]) -> idempotency.Result:
        await session.rollback()  # hold no connection while waiting (reads without locks so far)

        async def alone() -> idempotency.Result:
            return await _placed(session, job.channel, job.request, job.priced, job.payments, attempt=1)

        async def write(jobs: Sequence[_Job[Any]]) -> list[Any]:
            return [await alone()] if len(jobs) == 1 else await _group(session, jobs)

        result = await self._groups.run(None, job, write)
        return await alone() if result is _ALONE else cast(idempotency.Result, result)


async def _group(session: AsyncSession, jobs: Sequence[_Job[Any]]) -> list[Any]:
    """Several requests' results of one transaction, or `_ALONE` for each if it failed (undone)."""
    try:
        return await _write(session, jobs, attempt=1)
    except Exception as exc:
        await session.rollback()
        log.info("placing_group_failed", requests=len(jobs), error=type(exc).__name__)
        return [_ALONE] * len(jobs)


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
