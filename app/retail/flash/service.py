"""Flash sales: creating one (its units held from stock), selling it unit by unit, giving units back.

A sale's `remaining` units are held (reserved) at the locations in `FlashHold` from its creation until it ends, so
no other order takes them. An order of the sale is placed through the one placement pipeline, touching no stock
level: the units are reserved already, and the sale's hold becomes the order's reservation (its allocation; the
ledger moves the units from the hold to the order). In the order's transaction the buyer's own lock comes first
(PostgreSQL; it makes the buyer's count exact), then the order's rows, and last the sale's row counted down with a
conditional UPDATE and its hold handed over: on PostgreSQL by a deferred trigger when the transaction commits
(`_FLASH_ORDER`), so the row every winner needs is locked for the commit alone, never across a round trip.
A cancelled order (unpaid when its short hold runs out, or cancelled by anyone) gives its units back to the sale
while it runs (`give_back`); when the sale ends what it still holds goes back to stock (`end_due_sales`).

In front of the database, the Redis gate (`admission`) turns away the many buyers who cannot win without a
database round trip; the database's checks decide for those it lets through.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, select, true, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog import service as catalog_service
from app.catalog.models import Product, Variant
from app.config import Settings
from app.core import cache, events, idempotency
from app.core.auth import Principal, SignedCustomer
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, NotFound, TooManyRequests, Unauthenticated, field_error
from app.core.ids import new_id
from app.core.logging import get_logger
from app.core.models import AccessToken
from app.db import dialect_of, fetch, session_scope, sqlstate
from app.inventory import service as inventory_service
from app.inventory.allocation import Take
from app.merchants.models import Location
from app.orders.models import Order
from app.orders.placing import pipeline, statement
from app.orders.placing.drafts import DraftLine, OrderDraft
from app.orders.placing.pipeline import Priced
from app.orders.views import OrderView
from app.retail.campaigns.models import Campaign
from app.retail.flash import rules
from app.retail.flash.admission import RedisGate, make_gate
from app.retail.flash.models import FlashHold, FlashOrder, FlashSale
from app.retail.flash.schemas import FlashOrderIn, FlashSaleIn
from app.retail.models import Customer

log = get_logger("app.flash")
MAX_DAYS = 31
CARD_SECONDS = 5.0  # how long a process trusts its copy of a sale's fixed terms (price, times, limit)
REHEARSE_BEFORE_S = 60.0  # a sale opening within this is rehearsed by each process that is asked about it


def refused(reason: rules.Refusal) -> Conflict:
    return Conflict(rules.REFUSALS[reason], extra={"code": reason})


# ---- creating --------------------------------------------------------------------------------------------


async def create_sale(*, session: AsyncSession, merchant_id: str, body: FlashSaleIn,
                      gate: RedisGate | None = None) -> dict[str, Any]:
    """A flash sale of one of the merchant's variants; its units are held from free stock now (409 naming
    `quantity` when there are not that many free). With the gate, its counters are set up now, so that the
    opening second's first attempts need not rebuild them from the database."""
    info = (await catalog_service.sellable_variants(session=session, variant_ids=[body.variant_id])
            ).get(body.variant_id)
    if info is None or info.merchant_id != merchant_id:
        raise field_error("variant_id", "not one of your products")
    if not info.sellable:
        raise field_error("variant_id", "the product is not on sale (draft, or the merchant is not active)")
    now = utcnow()
    starts_at, ends_at = as_utc(body.starts_at), as_utc(body.ends_at)
    if ends_at <= starts_at:
        raise field_error("ends_at", "must be after starts_at")
    if ends_at <= now:
        raise field_error("ends_at", "must be in the future")
    if ends_at - starts_at > timedelta(days=MAX_DAYS):
        raise field_error("ends_at", f"a flash sale lasts at most {MAX_DAYS} days")
    if body.per_buyer_limit > body.quantity:
        raise field_error("per_buyer_limit", "may not be more than the quantity on sale")
    if body.price > info.price:
        raise field_error("price", f"may not be above the product's own price ({info.price} fen)")
    campaign_id = await _campaign_id(session, merchant_id, body.campaign_id) if body.campaign_id else None
    sale_id = new_id("fls")
    held = await inventory_service.hold_free(session, merchant_id=merchant_id, variant_id=info.variant_id,
                                             quantity=body.quantity, source=f"flash:{sale_id}")
    if held is None:
        snapshot = await inventory_service.read_snapshot(session, merchant_id=merchant_id,
                                                         variant_ids=[info.variant_id])
        free = sum(max(a, 0) for a in snapshot.available.values())
        await session.rollback()
        raise Conflict(f"only {free} units of {info.sku} are free to put on sale",
                       extra={"field": "quantity", "available": free})
    session.add(FlashSale(id=sale_id, merchant_id=merchant_id, variant_id=info.variant_id,
                          product_id=info.product_id, campaign_id=campaign_id, price=body.price,
                          currency=info.currency, quantity=body.quantity, remaining=body.quantity,
                          per_buyer_limit=body.per_buyer_limit, starts_at=starts_at, ends_at=ends_at,
                          status="active", returned=0, created_at=now))
    await session.flush()
    session.add_all([FlashHold(sale_id=sale_id, location_id=t.location_id, quantity=t.quantity) for t in held])
    await events.emit(session, kind="flash_sale.created", merchant_id=merchant_id,
                      payload={"id": sale_id, "variant_id": info.variant_id, "quantity": body.quantity,
                               "starts_at": starts_at.isoformat(), "ends_at": ends_at.isoformat()})
    await session.commit()
    if gate is not None:
        await _quietly(gate.load(sale_id=sale_id, remaining=body.quantity, bought={}, only_if_missing=True))
    status = rules.status(now=now, starts_at=starts_at, ends_at=ends_at, remaining=body.quantity, ended=False)
    return {"id": sale_id, "status": status}


async def _campaign_id(session: AsyncSession, merchant_id: str, ref: str) -> str:
    campaign = await session.scalar(select(Campaign).where((Campaign.id == ref) | (Campaign.slug == ref)))
    if campaign is None or campaign.merchant_id not in (None, merchant_id):
        raise field_error("campaign_id", "no such campaign of yours or of the platform")
    return campaign.id


# ---- reading ---------------------------------------------------------------------------------------------


_SALE_ROW = (select(FlashSale, Product.title, Variant.sku, Variant.price.label("list_price"))
             .join(Product, Product.id == FlashSale.product_id).join(Variant, Variant.id == FlashSale.variant_id))


def _public(sale: FlashSale, title: str, sku: str, list_price: int, now: datetime) -> dict[str, Any]:
    starts_at, ends_at = as_utc(sale.starts_at), as_utc(sale.ends_at)
    status = rules.status(now=now, starts_at=starts_at, ends_at=ends_at, remaining=sale.remaining,
                          ended=sale.status == "ended")
    return {"id": sale.id, "merchant_id": sale.merchant_id, "product_id": sale.product_id,
            "variant_id": sale.variant_id, "campaign_id": sale.campaign_id, "title": title, "sku": sku,
            "price": sale.price, "list_price": list_price, "currency": sale.currency, "quantity": sale.quantity,
            "remaining": sale.remaining if status != "ended" else 0,
            "remaining_text": rules.remaining_words(sale.remaining, status),
            "per_buyer_limit": sale.per_buyer_limit, "starts_at": starts_at, "ends_at": ends_at,
            "status": status, "server_time": now,
            "starts_in_seconds": max(0, int((starts_at - now).total_seconds() + 0.999)),
            "ends_in_seconds": max(0, int((ends_at - now).total_seconds() + 0.999))}


async def get_sale(*, session: AsyncSession, sale_id: str,
                   factory: async_sessionmaker[AsyncSession] | None = None) -> dict[str, Any]:
    """The sale as the public sees it. `factory`: the app's sessions; a sale opening within a minute is then
    rehearsed by this process (`rehearse_soon`), as shoppers watching its countdown are about to rush it."""
    row = (await session.execute(_SALE_ROW.where(FlashSale.id == sale_id))).first()
    if row is None:
        raise NotFound("flash sale", sale_id)
    now = utcnow()
    public = _public(row[0], row.title, row.sku, row.list_price, now)
    if factory is not None and public["status"] == "scheduled" and public["starts_in_seconds"] <= REHEARSE_BEFORE_S:
        rehearse_soon(factory, await _card(session, sale_id), now)
    return public


async def sales_of_product(session: AsyncSession, product_id: str) -> list[dict[str, Any]]:
    """The product's flash sales that have not ended (the product and campaign pages show them)."""
    now = utcnow()
    rows = (await session.execute(_SALE_ROW.where(FlashSale.product_id == product_id, FlashSale.status == "active",
                                                  FlashSale.ends_at > now).order_by(FlashSale.starts_at))).all()
    return [_public(r[0], r.title, r.sku, r.list_price, now) for r in rows]


async def sales_of_campaign(session: AsyncSession, campaign_id: str) -> list[dict[str, Any]]:
    """The campaign's flash sales that have not ended (its page shows them)."""
    now = utcnow()
    rows = (await session.execute(_SALE_ROW.where(FlashSale.campaign_id == campaign_id, FlashSale.status == "active",
                                                  FlashSale.ends_at > now)
                                  .order_by(FlashSale.starts_at, FlashSale.id).limit(50))).all()
    return [_public(r[0], r.title, r.sku, r.list_price, now) for r in rows]


async def list_sales(*, session: AsyncSession, merchant_id: str, limit: int) -> list[dict[str, Any]]:
    """The merchant's sales, newest first, each with its live figures."""
    rows = (await session.execute(_SALE_ROW.where(FlashSale.merchant_id == merchant_id)
                                  .order_by(FlashSale.created_at.desc(), FlashSale.id.desc()).limit(limit))).all()
    figures = await _figures(session, [r[0].id for r in rows])
    now = utcnow()
    return [{**_public(r[0], r.title, r.sku, r.list_price, now), **figures.get(r[0].id, _NO_FIGURES),
             "returned": r[0].returned} for r in rows]


async def sale_stats(*, session: AsyncSession, merchant_id: str, sale_id: str) -> dict[str, Any]:
    row = (await session.execute(_SALE_ROW.where(FlashSale.id == sale_id, FlashSale.merchant_id == merchant_id))
           ).first()
    if row is None:
        raise NotFound("flash sale", sale_id)
    figures = (await _figures(session, [sale_id])).get(sale_id, _NO_FIGURES)
    return {**_public(row[0], row.title, row.sku, row.list_price, utcnow()), **figures, "returned": row[0].returned}


_NO_FIGURES = {"taken": 0, "paid": 0, "released": 0}


async def _figures(session: AsyncSession, sale_ids: Sequence[str]) -> dict[str, dict[str, int]]:
    if not sale_ids:
        return {}
    paid = Order.payment_status.in_(("paid", "partially_refunded")) | (Order.payment_method == "cod")
    rows = (await session.execute(
        select(FlashOrder.sale_id, FlashOrder.status, paid.label("paid"), func.sum(FlashOrder.quantity))
        .join(Order, Order.id == FlashOrder.order_id).where(FlashOrder.sale_id.in_(sale_ids))
        .group_by(FlashOrder.sale_id, FlashOrder.status, paid))).all()
    out: dict[str, dict[str, int]] = {}
    for sale_id, status, is_paid, units in rows:
        f = out.setdefault(sale_id, dict(_NO_FIGURES))
        if status == "held":
            f["taken"] += int(units)
            f["paid"] += int(units) if is_paid else 0
        else:
            f["released"] += int(units)
    return out


# ---- buying ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Card:
    """A sale's fixed terms, as the admission step needs them."""

    id: str
    merchant_id: str
    variant_id: str
    price: int
    currency: str
    per_buyer_limit: int
    starts_at: datetime
    ends_at: datetime
    offer: catalog_service.SellableVariant | None  # the variant as its orders' drafts are first made (None: gone)


_CARDS: dict[str, tuple[float, _Card]] = {}
_CARD_READS: cache.Flights[_Card] = cache.Flights()


async def _card(session: AsyncSession, sale_id: str) -> _Card:
    """The sale's terms and its variant, read from the database at most every few seconds per process: the rush's
    attempts are decided on the clock and the gate alone, and its winners' orders drafted without a read (the
    variant is read again just before they are written, `_FlashBuy.before_together`). One attempt at a time reads it:
    while it does, the others take the card it replaces, or wait for it when there is none (a rush's first
    attempts, or every few seconds, would otherwise all read it at once)."""
    cached = _CARDS.get(sale_id)
    if cached is not None and (time.monotonic() - cached[0] < CARD_SECONDS or _CARD_READS.under_way(sale_id)):
        return cached[1]
    return await _CARD_READS.run(sale_id, lambda: _read_card(session, sale_id))


async def _read_card(session: AsyncSession, sale_id: str) -> _Card:
    sale = await session.get(FlashSale, sale_id)
    if sale is None:
        raise NotFound("flash sale", sale_id)
    offer = (await catalog_service.sellable_variants(session=session, variant_ids=[sale.variant_id])
             ).get(sale.variant_id)
    card = _Card(sale.id, sale.merchant_id, sale.variant_id, sale.price, sale.currency, sale.per_buyer_limit,
                 as_utc(sale.starts_at), as_utc(sale.ends_at), offer)
    if len(_CARDS) > 10_000:
        _CARDS.clear()
    _CARDS[sale_id] = (time.monotonic(), card)
    return card


async def buy(*, session: AsyncSession, settings: Settings, gate: RedisGate | None, principal: Principal,
              sale_id: str, body: FlashOrderIn, idempotency_key: str | None,
              signed: SignedCustomer | None = None, attempts: Sequence[tuple[str, int]] = (),
              factory: async_sessionmaker[AsyncSession] | None = None) -> idempotency.Result:
    """A signed-in customer's order of a flash sale: 201 the order, or 409 naming why (`code`). `signed`: the
    buyer's token was read from its signature alone; it is checked against revocation before anything is
    written (an attempt the gate refuses never reaches the database). `attempts`: the route's attempt limits
    (who, a second) for the gate to count in its admission (429 once over). `factory`: the app's sessions, for
    the rehearsal an attempt before the opening starts (`rehearse_soon`)."""
    card = await _card(session, sale_id)
    now = utcnow()
    refusal = rules.time_refusal(now=now, starts_at=card.starts_at, ends_at=card.ends_at)
    if refusal is not None:
        if refusal == "not_started" and factory is not None:
            rehearse_soon(factory, card, now)
        raise refused(refusal)
    customer_id = str(principal.subject_id)
    fingerprint = idempotency.request_hash("flash-order", sale_id, body.model_dump(mode="json"))
    admitted = False
    if gate is not None:
        admission = await _admit(session, gate, card, customer_id, body.quantity, idempotency_key, attempts)
        if admission is not None:
            if admission.verdict == "rate_limited":
                raise TooManyRequests("too many attempts; try again in a second")
            if admission.verdict == "busy":
                raise TooManyRequests("an order of yours for this flash sale is already being placed")
            if admission.verdict != "ok":
                if admission.retry and idempotency_key:  # perhaps a retry of the order that bought them
                    found = await idempotency.lookup(session, scope=principal.scope, key=idempotency_key,
                                                     fingerprint=fingerprint)
                    if found is not None:
                        return found
                raise refused(cast(rules.Refusal, admission.verdict))
            admitted = True
    if not admitted:  # no gate: a read without locks turns away who cannot win before anything is priced
        remaining, bought = await _counts_of(session, card.id, customer_id)
        early = rules.count_refusal(remaining=remaining, bought=bought, quantity=body.quantity,
                                    limit=card.per_buyer_limit)
        if early is not None:
            if bought and idempotency_key:
                found = await idempotency.lookup(session, scope=principal.scope, key=idempotency_key,
                                                 fingerprint=fingerprint)
                if found is not None:
                    return found
            raise refused(early)
    try:
        channel = _FlashBuy(card, customer_id, body, signed)
        try:
            result = await pipeline.place(session, settings=settings, channel=channel,
                                          together=_TOGETHER if admitted else None,
                                          request=pipeline.Request(
                                              scope=principal.scope, key=idempotency_key, fingerprint=fingerprint,
                                              payment_method=body.payment_method,
                                              hold_minutes=settings.shop_flash_hold_minutes))
        except DBAPIError as exc:
            if sqlstate(exc) not in (REFUSED_AT_COMMIT, HOLD_SHORT_AT_COMMIT):
                raise
            raise await _refused_at_commit(session, card, customer_id, body.quantity, exc) from None
    except BaseException:
        if admitted:
            await _quietly(gate.give_back(sale_id=card.id, customer_id=customer_id, quantity=body.quantity)
                           if gate else None)
        raise
    if admitted and gate is not None:
        await _quietly(gate.done(sale_id=card.id, customer_id=customer_id) if channel.placed(result) else
                       gate.give_back(sale_id=card.id, customer_id=customer_id, quantity=body.quantity))
    return result


# The gate's winners that arrive while others are being written are written with them in one transaction. Only
# theirs: the gate has let each buyer through once, with units left, so a group nearly always commits whole; the
# attempts the database alone decides would often fail a group (a buyer's second attempt, the last units).
_TOGETHER = pipeline.Together()


async def _admit(session: AsyncSession, gate: RedisGate, card: _Card, customer_id: str, quantity: int,
                 idempotency_key: str | None, attempts: Sequence[tuple[str, int]]) -> Any:
    """The gate's verdict, rebuilding its counters from the database if it has none; None if Redis cannot be
    reached (the database then decides alone)."""
    second = int(time.time())
    try:
        admission = await gate.admit(sale_id=card.id, customer_id=customer_id, quantity=quantity,
                                     limit=card.per_buyer_limit, idempotency_key=idempotency_key, attempts=attempts,
                                     second=second, rebuild=lambda: _counts(session, card.id))
        return None if admission.verdict == "unknown" else admission
    except (OSError, ConnectionError) as exc:
        log.warning("flash_gate_unreachable", sale_id=card.id, error=str(exc))
        return None
    except Exception as exc:  # redis' own errors (connection, timeout) derive from Exception only
        if type(exc).__module__.startswith("redis"):
            log.warning("flash_gate_unreachable", sale_id=card.id, error=str(exc))
            return None
        raise


# ---- the rehearsal before the opening -------------------------------------------------------------------

_REHEARSED: dict[str, float] = {}  # sale id -> when this process last rehearsed it (monotonic seconds)
_REHEARSALS: set[asyncio.Task[bool]] = set()  # running, kept until done


def rehearse_soon(factory: async_sessionmaker[AsyncSession], card: _Card, now: datetime) -> None:
    """Once per process for a sale opening within `REHEARSE_BEFORE_S`: `rehearse` in the background."""
    if not 0 < (card.starts_at - now).total_seconds() <= REHEARSE_BEFORE_S:
        return
    last = _REHEARSED.get(card.id)
    if last is not None and time.monotonic() - last < REHEARSE_BEFORE_S:
        return
    if len(_REHEARSED) > 10_000:
        _REHEARSED.clear()
    _REHEARSED[card.id] = time.monotonic()
    task = asyncio.get_running_loop().create_task(rehearse(factory, card))
    _REHEARSALS.add(task)
    task.add_done_callback(_REHEARSALS.discard)


async def rehearse(factory: async_sessionmaker[AsyncSession], card: _Card) -> bool:
    """Runs the statements of the sale's winners (`_FlashBuy`: the buyers' read, the placing statement with the
    buyers' turns and the sale's order rows, under one Idempotency-Key and under several) with nothing to write,
    and rolls back. PostgreSQL then plans them, and the driver learns their types, on the connection the opening
    second's first write takes (the pool hands out the most recently used one), not while that write's buyers
    wait: the first write of a cold connection took several times a warm one's. Nothing is kept; a failure is only
    logged. Returns whether it ran (PostgreSQL, no failure)."""
    try:
        async with session_scope(factory) as session:
            if dialect_of(session) != "postgresql":
                return False
            await fetch(session, _BUYERS, {"customer_ids": [""], "token_hashes": [""], "ids": [card.variant_id]})
            for keys in (1, 2):
                await statement.rehearse(session, keys=keys, turns=True, tables=[_FLASH_ORDER], now=utcnow())
            await session.rollback()
        return True
    except Exception as exc:  # a rehearsal only saves time: the rush goes on without it
        log.warning("flash_rehearsal_failed", sale_id=card.id, error=str(exc))
        return False


async def _quietly(step: Any) -> None:
    if step is None:
        return
    try:
        await step
    except Exception as exc:  # the reconciliation job repairs what a lost Redis call leaves
        log.warning("flash_gate_update_failed", error=str(exc))


_BOUGHT = (select(func.coalesce(func.sum(FlashOrder.quantity), 0))
           .where(FlashOrder.sale_id == bindparam("sale_id"), FlashOrder.customer_id == bindparam("customer_id"),
                  FlashOrder.status == "held").scalar_subquery())
_COUNTS_OF = select(FlashSale.remaining, _BOUGHT.label("bought")).where(FlashSale.id == bindparam("sale_id"))


async def _counts_of(session: AsyncSession, sale_id: str, customer_id: str) -> tuple[int, int]:
    """(units left, units the buyer has) in one read without locks."""
    row = (await fetch(session, _COUNTS_OF, {"sale_id": sale_id, "customer_id": customer_id})).first()
    return (int(row.remaining), int(row.bought)) if row is not None else (0, 0)


async def _counts(session: AsyncSession, sale_id: str) -> tuple[int, dict[str, int]]:
    """(units left, units per buyer) as the database has them."""
    remaining = await session.scalar(select(FlashSale.remaining).where(FlashSale.id == sale_id))
    rows = (await session.execute(select(FlashOrder.customer_id, func.sum(FlashOrder.quantity))
                                  .where(FlashOrder.sale_id == sale_id, FlashOrder.status == "held")
                                  .group_by(FlashOrder.customer_id))).all()
    await session.rollback()
    return int(remaining or 0), {c: int(n) for c, n in rows}


class _FlashBuy:
    """A flash-sale order as a placement channel. The order is drafted from the sale's card and completed from one
    read of the buyers and the variant as they are just before it is written (`before_together`): a revoked token or
    a product taken off sale refuses the order there. The order is then written, touching no stock level (its units
    are the sale's, reserved when the sale was made: `stock_hold="none"`). Its buyer's turn comes first, so that two
    orders of one buyer never count the buyer's units at once (`OrderDraft.turn`). At the end the sale is counted
    down, its hold handed over to the order and the buyer's count checked: on PostgreSQL when the order commits,
    by the trigger on the sale's order row written with it (one statement in all, which is its own transaction);
    on SQLite by `after` (`take_from_sale`). The sale's rows, which every winner needs, are locked as briefly as
    can be. Winners written together (`Together`) share the read, the statement and the commit."""

    name = "retail"
    lookup_first = False

    def __init__(self, card: _Card, customer_id: str, body: FlashOrderIn, signed: SignedCustomer | None) -> None:
        self.card, self.customer_id, self.body = card, customer_id, body
        self.signed = signed  # a token read from its signature alone: checked against revocation in `before`
        self._fulfilment: dict[str, Any] = {}
        self._pickup: str | None = None
        self._built: set[str] = set()  # the orders this attempt made answers for (one per try at writing it)
        self._at_commit = False  # the sale's units are taken when the order commits (PostgreSQL; `price` says)

    def placed(self, result: idempotency.Result) -> bool:
        """Whether this attempt wrote the order it answers with (else the answer is an earlier attempt's)."""
        return result[0] == 201 and result[1].get("id") in self._built

    async def price(self, session: AsyncSession) -> Priced:
        card, body = self.card, self.body
        if card.offer is None:
            raise _off_sale()
        self._fulfilment = {**body.fulfilment.model_dump(exclude_none=True), "flash_sale_id": card.id}
        self._pickup = None
        if body.fulfilment.type == "pickup":
            loc = await session.get(Location, body.fulfilment.location_id)
            if loc is None or loc.kind not in ("store", "pickup_point") or loc.merchant_id != card.merchant_id:
                raise field_error("fulfilment.location_id", "pick-up needs a store of the merchant selling this")
            self._pickup, self._fulfilment["location_name"] = loc.id, loc.name
        # PostgreSQL: the sale's order row is written with the order and the commit takes the units (`_FLASH_ORDER`);
        # SQLite: `after` takes them.
        self._at_commit = dialect_of(session) == "postgresql"
        return Priced([self._draft(card.offer, email=None)], reads_before=True, writes_after=not self._at_commit)

    def _draft(self, info: catalog_service.SellableVariant, email: str | None) -> OrderDraft:
        card, body = self.card, self.body
        return OrderDraft(
            merchant_id=card.merchant_id, channel="retail", payment_method=body.payment_method,
            currency=card.currency, fulfilment=dict(self._fulfilment), pickup_location_id=self._pickup,
            customer_id=self.customer_id, email=email,
            lines=[DraftLine(info.variant_id, info.product_id, info.sku, info.title, info.category, info.returnable,
                             body.quantity, card.price, info.listing_revision_id, info.return_class,
                             info.return_reason)],
            extra_events=[("flash_sale.sold", {"flash_sale_id": card.id, "quantity": body.quantity})],
            stock_hold="none",
            with_rows=[(_FLASH_ORDER, {"sale_id": card.id, "customer_id": self.customer_id,
                                       "quantity": body.quantity, "status": "held"})] if self._at_commit else [],
            turn=(card.id, self.customer_id))

    async def before(self, session: AsyncSession, priced: Priced) -> None:
        await _FlashBuy.before_together(session, [(self, priced)])

    async def after(self, session: AsyncSession, priced: Priced, orders: Sequence[OrderView]) -> None:
        await _FlashBuy.after_together(session, [(self, priced, orders)])

    @staticmethod
    async def before_together(session: AsyncSession, calls: Sequence[tuple[_FlashBuy, Priced]]) -> None:
        # The buyers and the sales' variants as they are now, in one read, before the orders' statement.
        rows = (await fetch(session, _BUYERS, {
            "customer_ids": sorted({c.customer_id for c, _ in calls}),
            "token_hashes": sorted({c.signed.token_hash for c, _ in calls if c.signed}) or [""],
            "ids": sorted({c.card.variant_id for c, _ in calls})})).all()
        emails = {r.buyer_id: r.buyer_email for r in rows}
        issued = {(r.buyer_id, r.buyer_token) for r in rows if r.buyer_token}
        offers = {r.id: catalog_service.sellable_of(r) for r in rows if r.id is not None}
        for c, priced in calls:
            if c.signed is not None and (c.customer_id, c.signed.token_hash) not in issued:
                raise Unauthenticated("the access token is invalid, expired or revoked")
            info = offers.get(c.card.variant_id)
            if info is None or not info.sellable:
                raise _off_sale()
            priced.drafts[0] = c._draft(info, emails.get(c.customer_id))

    @staticmethod
    async def after_together(session: AsyncSession, calls: Sequence[tuple[_FlashBuy, Priced, Sequence[OrderView]]]
                             ) -> None:
        await take_from_sale(session, [(c.card, c.customer_id, c.body.quantity, orders[0]["id"])
                                       for c, _, orders in calls])

    def answer(self, priced: Priced, orders: list[OrderView], payment: dict[str, Any] | None) -> dict[str, Any]:
        self._built.add(orders[0]["id"])
        return {**orders[0], "flash_sale_id": self.card.id, "payment": payment}


def _off_sale() -> Conflict:
    return Conflict("the product of this flash sale is no longer on sale", extra={"code": "ended"})


# The buyers (their emails; with each of their tokens in `token_hashes` that is still issued) and the sales'
# variants as a checkout needs them (`ids`), in one read: every row carries the variants' columns.
_SALE_VARIANT = catalog_service.SELLABLE.subquery()
_BUYERS = (select(Customer.id.label("buyer_id"), Customer.email.label("buyer_email"),
                  AccessToken.token_hash.label("buyer_token"), *_SALE_VARIANT.c)
           .select_from(Customer)
           .outerjoin(AccessToken, and_(AccessToken.subject_id == Customer.id, AccessToken.kind == "customer",
                                        AccessToken.revoked_at.is_(None),
                                        AccessToken.token_hash.in_(bindparam("token_hashes", expanding=True))))
           .outerjoin(_SALE_VARIANT, true())
           .where(Customer.id.in_(bindparam("customer_ids", expanding=True))))


# PostgreSQL: the sale's units are taken when the order's transaction commits, by the deferred trigger
# `flash_order_take` (migration a7c3e9d1f5b2) on the sale's order row, written with the order (`_FlashBuy._draft`):
# the sale counted down (refused unless running, with units left and the buyer under the limit), its holds locked
# after it and handed over to the order. The sale's row, which every winner needs, is then locked only for the
# commit, never across a round trip.
_FLASH_ORDER = cast(Table, FlashOrder.__table__)
REFUSED_AT_COMMIT = "LTF01"  # the trigger's SQLSTATE: the sale refused the order
HOLD_SHORT_AT_COMMIT = "LTF02"  # the sale's holds had fewer units than its count: nothing was sold


Sold = tuple[_Card, str, int, str]  # the sale, the buyer, the units, the order


async def take_from_sale(session: AsyncSession, sold: Sequence[Sold]) -> None:
    """SQLite: the end of the orders' transaction, after their rows: for each (sale, buyer, units, order), count the
    sale down (refused with its reason), check the buyer's limit and hand the units the sale holds over to the order
    (the ledger moves them from the sale's hold to the order; the stock levels stay as they are). PostgreSQL does
    this when the order commits (`_FLASH_ORDER`): a refusal fails the commit (`_refused_at_commit`)."""
    now = utcnow()
    for card, customer_id, quantity, order_id in sold:
        bought = _bought(card.id, customer_id)
        taken = cast(CursorResult[Any], await session.execute(
            update(FlashSale).where(FlashSale.id == card.id, FlashSale.status == "active",
                                    FlashSale.remaining >= quantity, FlashSale.starts_at <= now,
                                    FlashSale.ends_at > now, FlashSale.per_buyer_limit >= quantity + bought)
            .values(remaining=FlashSale.remaining - quantity).execution_options(synchronize_session=False)))
        if taken.rowcount != 1:
            raise refused(await _why_refused(session, card, customer_id, quantity, now))
        takes = await _from_holds(session, card.id, card.variant_id, quantity)
        session.add(FlashOrder(order_id=order_id, sale_id=card.id, customer_id=customer_id, quantity=quantity,
                               status="held", created_at=now))
        await session.flush()
        await inventory_service.hand_over(session, merchant_id=card.merchant_id, order_id=order_id, takes=takes,
                                          source=f"flash:{card.id}")


async def _refused_at_commit(session: AsyncSession, card: _Card, customer_id: str, quantity: int,
                             exc: DBAPIError) -> Conflict:
    """The answer to a commit the sale's trigger failed (`REFUSED_AT_COMMIT` or `HOLD_SHORT_AT_COMMIT`; the
    transaction is rolled back): 409 with the reason."""
    await session.rollback()
    if sqlstate(exc) == HOLD_SHORT_AT_COMMIT:  # the sale's count and its holds disagree: nothing is sold
        log.error("flash_hold_short", sale_id=card.id, detail=str(exc.orig))
        return refused("sold_out")
    return refused(await _why_refused(session, card, customer_id, quantity, utcnow()))


def _bought(sale_id: str, customer_id: str) -> Any:
    return (select(func.coalesce(func.sum(FlashOrder.quantity), 0))
            .where(FlashOrder.sale_id == sale_id, FlashOrder.customer_id == customer_id, FlashOrder.status == "held")
            .scalar_subquery())


async def _why_refused(session: AsyncSession, card: _Card, customer_id: str, quantity: int, now: datetime
                       ) -> rules.Refusal:
    sale = await session.get(FlashSale, card.id, populate_existing=True)
    assert sale is not None
    bought = int(await session.scalar(select(_bought(card.id, customer_id))) or 0)
    return (rules.time_refusal(now=now, starts_at=as_utc(sale.starts_at), ends_at=as_utc(sale.ends_at))
            or ("ended" if sale.status != "active" else None)
            or rules.count_refusal(remaining=sale.remaining, bought=bought, quantity=quantity,
                                   limit=sale.per_buyer_limit) or "sold_out")


async def _from_holds(session: AsyncSession, sale_id: str, variant_id: str, quantity: int) -> list[Take]:
    holds = (await session.scalars(select(FlashHold).where(FlashHold.sale_id == sale_id, FlashHold.quantity > 0)
                                   .order_by(FlashHold.location_id))).all()
    takes: list[Take] = []
    left = quantity
    for h in holds:
        n = min(left, h.quantity)
        if n:
            h.quantity -= n
            takes.append(Take(variant_id, h.location_id, n))
            left -= n
        if not left:
            break
    if left:  # the sale's count and its holds disagree: nothing is sold from a hold that is not there
        log.error("flash_hold_short", sale_id=sale_id, missing=left)
        raise refused("sold_out")
    await session.flush()
    return takes


# ---- giving back -----------------------------------------------------------------------------------------


async def give_back(session: AsyncSession, order: Order) -> None:
    """Cancel hook: a cancelled flash order's units go back on sale while the sale runs (held again from the
    stock the cancellation just released), else they stay in stock. Never commits."""
    sale_id = (order.fulfilment or {}).get("flash_sale_id")
    if not sale_id:
        return
    claimed = cast(CursorResult[Any], await session.execute(
        update(FlashOrder).where(FlashOrder.order_id == order.id, FlashOrder.status == "held")
        .values(status="released").execution_options(synchronize_session=False)))
    if claimed.rowcount != 1:
        return
    sale = await session.get(FlashSale, sale_id, with_for_update=True, populate_existing=True)
    if sale is None or sale.status != "active" or utcnow() >= as_utc(sale.ends_at):
        return
    takes = await inventory_service.order_takes(session, order_id=order.id, status="released")
    made = await inventory_service.hold(session, merchant_id=sale.merchant_id, takes=takes,
                                        source=f"flash:{sale.id}")
    await _add_holds(session, sale.id, made)
    sale.remaining += sum(t.quantity for t in made)
    await session.flush()


async def _add_holds(session: AsyncSession, sale_id: str, takes: Sequence[Take]) -> None:
    existing = {h.location_id: h for h in (await session.scalars(
        select(FlashHold).where(FlashHold.sale_id == sale_id))).all()}
    for t in takes:
        if t.location_id in existing:
            existing[t.location_id].quantity += t.quantity
        else:
            session.add(FlashHold(sale_id=sale_id, location_id=t.location_id, quantity=t.quantity))


# ---- jobs ------------------------------------------------------------------------------------------------


async def end_due_sales(factory: async_sessionmaker[AsyncSession], settings: Settings, limit: int = 100) -> int:
    """Job: sales past their end give what they still hold back to stock. Each sale's row is claimed first, so
    several processes never return a hold twice."""
    ended = 0
    async with factory() as session:
        due = (await session.scalars(select(FlashSale.id).where(FlashSale.status == "active",
                                                                FlashSale.ends_at <= utcnow())
                                     .order_by(FlashSale.ends_at).limit(limit))).all()
        for sale_id in due:
            claimed = cast(CursorResult[Any], await session.execute(
                update(FlashSale).where(FlashSale.id == sale_id, FlashSale.status == "active")
                .values(status="ended", ended_at=utcnow()).execution_options(synchronize_session=False)))
            if claimed.rowcount != 1:
                await session.rollback()
                continue
            sale = await session.get(FlashSale, sale_id, populate_existing=True)
            assert sale is not None
            holds = (await session.scalars(select(FlashHold).where(FlashHold.sale_id == sale_id,
                                                                   FlashHold.quantity > 0))).all()
            takes = [Take(sale.variant_id, h.location_id, h.quantity) for h in holds]
            await inventory_service.unhold(session, merchant_id=sale.merchant_id, takes=takes,
                                           source=f"flash:{sale_id}")
            sale.returned = sum(t.quantity for t in takes)
            for h in holds:
                h.quantity = 0
            await events.emit(session, kind="flash_sale.ended", merchant_id=sale.merchant_id,
                              payload={"id": sale_id, "returned": sale.returned,
                                       "sold": sale.quantity - sale.remaining})
            await session.commit()
            ended += 1
    return ended


async def reconcile(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Job: the gate's counters of each running sale are set to what the database says (units left, units per
    buyer), repairing what a lost Redis call or a restart left. Returns the sales whose counters differed."""
    gate = make_gate(settings.redis_url)
    if gate is None:
        return 0
    repaired = 0
    try:
        async with factory() as session:
            now = utcnow()
            live = (await session.scalars(select(FlashSale.id).where(
                and_(FlashSale.status == "active", FlashSale.ends_at > now)))).all()
            for sale_id in live:
                remaining, bought = await _counts(session, sale_id)
                if await gate.counters(sale_id) != (remaining, bought):
                    await gate.load(sale_id=sale_id, remaining=remaining, bought=bought, only_if_missing=False)
                    repaired += 1
    finally:
        await gate.close()
    return repaired
