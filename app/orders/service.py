"""Order use cases for every channel: place, pay, ship, deliver, collect, cancel, return, expire.

Channels build `OrderDraft`s (prices already decided) and call `place_orders` inside their own use
case; everything after that (payment, fulfilment, cancellation, returns) lives here. Payment
provider calls never happen inside a transaction: refunds are recorded as `pending` and carried out
after the commit by `settle_refunds` (and retried by a job).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import DateTime, Table, TextClause, bindparam, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog import service as catalog_service
from app.config import Settings
from app.core import events, idempotency
from app.core.auth import Principal
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound, TryAgain, field_error
from app.core.ids import new_id, pickup_code
from app.core.logging import get_logger
from app.core.pagination import keyset_page
from app.core.security import constant_time_equals
from app.db import dialect_of, run, wrote_nothing
from app.inventory import service as inventory_service
from app.inventory.allocation import Take
from app.inventory.errors import OutOfStock
from app.merchants import service as merchants_service
from app.orders import rules, states
from app.orders.models import (
    Order,
    OrderLine,
    Payment,
    ProcessedWebhook,
    Refund,
    ReturnEvent,
    ReturnRequest,
    Shipment,
)
from app.payments.providers import provider

log = get_logger("app.orders")


@dataclass(frozen=True, slots=True)
class DraftLine:
    variant_id: str
    product_id: str
    sku: str
    title: str
    category: str
    returnable: bool
    quantity: int
    unit_price: int
    listing_revision_id: str | None = None  # what the buyer saw (`listing_revision`)
    return_class: str = "standard"  # the listing's return class (app/catalog/returns.py), kept on the line
    return_reason: str | None = None
    exclusion_confirmed: bool = False  # the buyer confirmed at checkout that a confirm_required item is excluded


@dataclass(frozen=True, slots=True)
class Promotion:
    code: str
    kind: str
    value: int


@dataclass
class OrderDraft:
    merchant_id: str
    channel: str
    lines: list[DraftLine]
    payment_method: str
    currency: str
    fulfilment: dict[str, Any]
    pickup_location_id: str | None = None
    customer_id: str | None = None
    buyer_id: str | None = None
    email: str | None = None
    promotion: Promotion | None = None
    charge_shipping: bool = True
    payment_id: str | None = None
    extra_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Where stock is held: "auto" (at the pickup location when there is one, else by the delivery plan),
    # "network" (by the delivery plan although collected at the pickup location: the goods travel there,
    # as for community group-buys), "none" (nothing to hold: bookable services).
    stock_hold: str = "auto"
    stock: inventory_service.Snapshot | None = None  # the merchant's levels, read with the lines (first plan only)


_INSERT_ORDERS = insert(cast(Table, Order.__table__))  # built once (see `app.db.run`)
_INSERT_LINES = insert(cast(Table, OrderLine.__table__))

# A stock reservation for `place_orders`: (session, *, merchant_id, order_id, lines, pickup_location_id).
Reserver = Callable[..., Awaitable[object]]


def _iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat().replace("+00:00", "Z") if value else None


# ---- placing ---------------------------------------------------------------------------------------------

async def place_orders(session: AsyncSession, *, drafts: Sequence[OrderDraft], checkout_id: str,
                       hold_minutes: int, reserve: Reserver | None = None,
                       answer: Callable[[list[dict[str, Any]]], idempotency.Result] | None = None,
                       final: bool = False) -> list[dict[str, Any]]:
    """Price, reserve and insert one order per draft; all or nothing. Never commits.

    Stock is reserved merchant by merchant (each in variant order; on PostgreSQL all drafts' takes at once, in
    (variant, location) order); every short SKU of every draft is collected before failing, so the buyer sees
    them all at once. `reserve` replaces the per-line
    reservation (`inventory.service.reserve_order`), e.g. with the set-based `inventory.bulk.reserve_order`
    for orders of thousands of lines: same arguments, same OutOfStock. On PostgreSQL the default reservation
    and every row the orders need are one statement (`_place_in_one`).

    `answer` is what the caller will respond with, given the orders' views: if the work runs under an
    Idempotency-Key (`idempotency.claim`), that statement records it with the orders.

    `final`: the caller writes nothing after this. If nothing was written before it either, and no stock
    it takes needs a change number (warehouses), that statement is then the whole transaction (`run`'s
    `alone`): no BEGIN and COMMIT round trips.
    """
    now = utcnow()
    placed = [_build(draft, checkout_id=checkout_id, now=now, hold_minutes=hold_minutes)
              for draft in sorted(drafts, key=lambda d: d.merchant_id)]
    views = [order_view(p.order, p.lines, []) for p in placed]
    try:
        if reserve is None and dialect_of(session) == "postgresql":
            claim = idempotency.claim(session) if answer else None
            record = claim.row(answer(views)) if claim and answer else None
            await _place_in_one(session, placed, now, record=record, final=final)
            if claim and record:
                claim.recorded = True
        else:
            await _place_step_by_step(session, placed, reserve or inventory_service.reserve_order)
    except IntegrityError as error:
        if not _number_taken(error):
            raise
        # Another order drew the same number (`rules.order_number`): this one's statements failed whole, and
        # the caller rolls back its transaction. Sent again, it draws a new number.
        raise TryAgain("an order number was drawn twice at the same moment; nothing was placed, send the "
                       "request again") from None
    return views


def _number_taken(error: IntegrityError) -> bool:
    """The unique order number was violated (PostgreSQL names the constraint; SQLite the column)."""
    message = str(error.orig)
    return "uq_sales_order_number" in message or "sales_order.number" in message


@dataclass(slots=True)
class _Placed:
    """A draft made into the rows of its order, before its stock is reserved."""

    draft: OrderDraft
    order: dict[str, Any]
    lines: list[dict[str, Any]]

    def needs(self) -> list[inventory_service.LineNeed]:
        return [inventory_service.LineNeed(ln.variant_id, ln.sku, ln.quantity) for ln in self.draft.lines]

    def hold_at(self) -> str | None:
        """Where its stock is held if it is collected: None for the delivery plan (see `OrderDraft.stock_hold`)."""
        return self.draft.pickup_location_id if self.draft.stock_hold == "auto" else None

    def events(self) -> list[tuple[str, str | None, dict[str, Any]]]:
        o = self.order
        return [("order.created", o["merchant_id"], {"order_id": o["id"], "channel": o["channel"],
                                                     "total": o["total"], "status": o["status"]})]


def _build(draft: OrderDraft, *, checkout_id: str, now: datetime, hold_minutes: int) -> _Placed:
    order_id = new_id("ord")
    promo = draft.promotion
    totals = rules.price_order([(ln.quantity, ln.unit_price) for ln in draft.lines],
                               promotion_kind=promo.kind if promo else None,
                               promotion_value=promo.value if promo else 0,
                               fulfilment_type=draft.fulfilment.get("type", "delivery"),
                               charge_shipping=draft.charge_shipping)
    status = states.initial_status(draft.payment_method)
    order = {
        "id": order_id, "number": rules.order_number(now), "merchant_id": draft.merchant_id,
        "channel": draft.channel, "status": status, "payment_method": draft.payment_method,
        "payment_status": "unpaid", "checkout_id": checkout_id, "payment_id": draft.payment_id,
        "customer_id": draft.customer_id, "buyer_id": draft.buyer_id, "email": draft.email,
        "currency": draft.currency, "subtotal": totals.subtotal, "discount": totals.discount,
        "shipping": totals.shipping, "total": totals.total, "refunded": 0,
        "promotion_code": promo.code if promo else None, "fulfilment": draft.fulfilment,
        "pickup_location_id": draft.pickup_location_id,
        "pickup_code": pickup_code() if draft.pickup_location_id else None,
        "hold_expires_at": now + timedelta(minutes=hold_minutes) if status == "pending_payment" else None,
        "created_at": now, "updated_at": now,
    }
    lines = [{
        "id": new_id("oli"), "order_id": order_id, "merchant_id": draft.merchant_id,
        "variant_id": ln.variant_id, "product_id": ln.product_id, "sku": ln.sku, "title": ln.title,
        "category": ln.category, "returnable": ln.returnable, "quantity": ln.quantity,
        "unit_price": ln.unit_price, "discount": priced.discount, "total": priced.total,
        "returned_quantity": 0, "listing_revision_id": ln.listing_revision_id,
        "return_class": ln.return_class, "return_reason": ln.return_reason,
        "return_exclusion_confirmed_at":
            now if ln.exclusion_confirmed and ln.return_class == "confirm_required" else None}
        for ln, priced in zip(draft.lines, totals.lines, strict=True)]
    return _Placed(draft, order, lines)


async def _place_step_by_step(session: AsyncSession, placed: Sequence[_Placed], reserve: Reserver) -> None:
    """Reserve each order's stock with `reserve`, then insert the orders, their lines and their events."""
    short: list[str] = []
    for p in placed:
        if p.draft.stock_hold == "none":
            continue
        try:
            await reserve(session, merchant_id=p.draft.merchant_id, order_id=p.order["id"], lines=p.needs(),
                          pickup_location_id=p.hold_at())
        except OutOfStock as exc:
            short.extend(exc.skus)
    if short:
        raise OutOfStock(sorted(set(short)))
    await run(session, _INSERT_ORDERS, [p.order for p in placed])
    await run(session, _INSERT_LINES, [ln for p in placed for ln in p.lines])
    await events.emit_many(session, [e for p in placed for e in p.events()]
                           + [(kind, p.draft.merchant_id, payload) for p in placed
                              for kind, payload in p.draft.extra_events])


async def _place_in_one(session: AsyncSession, placed: Sequence[_Placed], now: datetime, *,
                        record: dict[str, Any] | None, final: bool) -> None:
    """PostgreSQL: plan every order's stock from current levels, then reserve it and write the orders, their
    lines, allocations, ledger rows and outbox events in one statement (`_PG_PLACE`), which does all of that
    or, if a planned level no longer has the units, nothing. Then plan again from fresh levels (a few times
    at most): a concurrent order took them, and another location may still have them.

    With `record` (`idempotency.Claim.row`), the statement also records the answer to the claimed
    Idempotency-Key, and does nothing
    if the key has an answer already (`AlreadyAnswered`: the caller gives that one instead).
    """
    sku_of = {ln.variant_id: ln.sku for p in placed for ln in p.draft.lines}
    pending = events.take_pending(session)  # earlier events keep their place before this statement's
    for attempt in range(inventory_service.MAX_REPLANS):
        takes: list[tuple[str, str, Take]] = []
        short: list[str] = []
        for p in placed:
            if p.draft.stock_hold == "none":
                continue
            needs: dict[str, int] = defaultdict(int)
            for need in p.needs():
                needs[need.variant_id] += need.quantity
            try:
                planned = await inventory_service.plan_takes(
                    session, merchant_id=p.draft.merchant_id, needs=needs, sku_of=sku_of,
                    pickup_location_id=p.hold_at(), snapshot=p.draft.stock if attempt == 0 else None)
            except OutOfStock as exc:
                short.extend(exc.skus)
                continue
            takes.extend((p.draft.merchant_id, p.order["id"], t) for t in planned)
        if short:
            raise OutOfStock(sorted(set(short)))
        takes.sort(key=lambda x: (x[2].variant_id, x[2].location_id))  # the order every stock writer locks in
        ledger = [inventory_service.reserve_announcement(m, t) for m, _, t in takes]
        outbox = [*pending, *events.rows(inventory_service.stock_changed_events(ledger)
                                         + [e for p in placed for e in p.events()]
                                         + [(kind, p.draft.merchant_id, payload) for p in placed
                                            for kind, payload in p.draft.extra_events])]
        alone = final and not inventory_service.may_feed_changes(t.location_id for _, _, t in takes)
        verdict = (await run(session, _PG_PLACE[record is not None], {
            **inventory_service.pg_reserve_params(takes, attempt), **events.pg_params(outbox),
            **(record or {}), "orders": _json_rows([p.order for p in placed]),
            "lines": _json_rows([ln for p in placed for ln in p.lines]), "now": now},
            alone=alone)).first()
        assert verdict is not None
        if verdict.ok:
            if verdict.taken != len(takes):  # cannot happen: every take was checked with its level locked
                raise RuntimeError(f"placing orders took {verdict.taken} of {len(takes)} planned levels")
            inventory_service.note_changes(session, ((t.location_id, t.variant_id) for _, _, t in takes))
            return
        if alone:  # the statement did nothing: the next attempt may need a transaction (a store's change number)
            wrote_nothing(session)
        if verdict.fits:
            raise idempotency.AlreadyAnswered("this Idempotency-Key was answered by another request meanwhile")
        short = sorted({sku_of[v] for v in verdict.short or [t.variant_id for _, _, t in takes]})
    raise OutOfStock(short)


def _json_rows(rows: Sequence[dict[str, Any]]) -> str:
    return orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()


_ORDER_COLUMNS = ", ".join(c.name for c in cast(Table, Order.__table__).columns)
_LINE_COLUMNS = ", ".join(c.name for c in cast(Table, OrderLine.__table__).columns)
def _pg_place(recording: bool) -> TextClause:
    """Reserve (inventory's `PG_RESERVE_CHECK`) and, if every take fits, write the orders, their lines and the
    outbox events, and with `recording` the Idempotency-Key's answer (`idempotency.PG_RECORD_SQL`); then the
    takes are made only if that answer was recorded. One round trip for a whole checkout. The rows come as
    JSON documents shaped like the tables."""
    recorded = (f"recorded AS ({idempotency.PG_RECORD_SQL.format(when='(SELECT ok FROM fits)')}),"
                if recording else "")
    gate = "EXISTS (SELECT 1 FROM recorded)" if recording else "true"
    return text(f"""
WITH {inventory_service.PG_RESERVE_CHECK}, {recorded} {inventory_service.pg_reserve_take(gate)}, ordered AS (
    INSERT INTO sales_order ({_ORDER_COLUMNS})
    SELECT {_ORDER_COLUMNS} FROM jsonb_populate_recordset(NULL::sales_order, CAST(:orders AS jsonb))
     WHERE (SELECT ok FROM verdict)
), lined AS (
    INSERT INTO order_line ({_LINE_COLUMNS})
    SELECT {_LINE_COLUMNS} FROM jsonb_populate_recordset(NULL::order_line, CAST(:lines AS jsonb))
     WHERE (SELECT ok FROM verdict)
), announced AS (
    INSERT INTO event (kind, merchant_id, payload, created_at)
    SELECT kind, merchant_id, payload, created_at FROM ({events.PG_ROWS_SQL}) AS pending
     WHERE (SELECT ok FROM verdict)
     ORDER BY n
)
SELECT v.ok, f.ok AS fits, f.short, (SELECT count(*) FROM took) AS taken FROM verdict AS v, fits AS f
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))


_PG_PLACE = {recording: _pg_place(recording) for recording in (False, True)}


_ORDER_KEYS = ("id", "number", "merchant_id", "channel", "status", "payment_method", "payment_status", "subtotal",
               "discount", "shipping", "total", "refunded", "currency", "fulfilment", "pickup_code",
               "promotion_code", "email", "customer_id", "buyer_id", "cancel_reason")


async def record_payment(session: AsyncSession, *, payment_id: str, checkout_id: str, provider_name: str,
                         provider_ref: str | None, amount: int, currency: str) -> None:
    """The payment a checkout started (before its transaction); its orders carry `payment_id`."""
    await session.execute(insert(Payment).values(
        id=payment_id, checkout_id=checkout_id, provider=provider_name, provider_ref=provider_ref, amount=amount,
        currency=currency, status="pending", created_at=utcnow()))


def order_view(order: dict[str, Any], lines: Sequence[dict[str, Any]], shipments: Sequence[dict[str, Any]]
               ) -> dict[str, Any]:
    """The public shape of an order (see `OrderOut`)."""
    out = {k: order.get(k) for k in _ORDER_KEYS}
    for k in ("hold_expires_at", "created_at", "paid_at", "shipped_at", "delivered_at", "completed_at",
              "cancelled_at"):
        out[k] = _iso(order.get(k))
    out["lines"] = [{k: ln[k] for k in ("id", "variant_id", "product_id", "sku", "title", "quantity", "unit_price",
                                        "discount", "total", "returned_quantity", "listing_revision_id",
                                        "return_class", "return_reason")}
                    | {"return_exclusion_confirmed_at": _iso(ln["return_exclusion_confirmed_at"])}
                    for ln in lines]
    out["shipments"] = [{"id": s["id"], "carrier": s["carrier"], "tracking_no": s["tracking_no"],
                         "created_at": _iso(s["created_at"])} for s in shipments]
    return out


def _row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


async def view(session: AsyncSession, *, order: Order) -> dict[str, Any]:
    lines = (await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                   .order_by(OrderLine.id))).all()
    shipments = (await session.scalars(select(Shipment).where(Shipment.order_id == order.id)
                                       .order_by(Shipment.id))).all()
    return order_view(_row(order), [_row(ln) for ln in lines], [_row(s) for s in shipments])


# ---- access ----------------------------------------------------------------------------------------------

def can_see(principal: Principal, order: Order) -> bool:
    """Who may see an order: the admin, its merchant, its customer or buyer, the pickup store's device."""
    match principal.kind:
        case "admin":
            return True
        case "merchant":
            return order.merchant_id == principal.merchant_id
        case "customer":
            return order.customer_id is not None and order.customer_id == principal.subject_id
        case "buyer":
            return order.buyer_id is not None and order.buyer_id == principal.subject_id
        case "device":
            return order.pickup_location_id is not None and order.pickup_location_id == principal.location_id
    return False


async def get_visible(session: AsyncSession, *, principal: Principal, order_id: str, lock: bool = False) -> Order:
    """The order if the principal may see it; 404 otherwise (never 403: ids of others do not exist)."""
    order = await session.get(Order, order_id, with_for_update=lock)
    if order is None or not can_see(principal, order):
        raise NotFound("order", order_id)
    return order


async def list_for(session: AsyncSession, *, principal: Principal, status: str | None, channel: str | None,
                   before: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's own orders, newest first."""
    stmt = select(Order)
    match principal.kind:
        case "merchant":
            stmt = stmt.where(Order.merchant_id == principal.tenant)
        case "customer":
            stmt = stmt.where(Order.customer_id == principal.subject_id)
        case "buyer":
            stmt = stmt.where(Order.buyer_id == principal.subject_id)
        case "admin":
            pass
        case _:
            raise Forbidden(f"a {principal.kind} token has no order list")
    if status:
        stmt = stmt.where(Order.status == status)
    if channel:
        stmt = stmt.where(Order.channel == channel)
    orders, last = await keyset_page(session, stmt, Order.id, after=before, limit=limit)
    lines: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ships: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if orders:
        ids = [o.id for o in orders]
        for ln in (await session.scalars(select(OrderLine).where(OrderLine.order_id.in_(ids))
                                         .order_by(OrderLine.id))).all():
            lines[ln.order_id].append(_row(ln))
        for s in (await session.scalars(select(Shipment).where(Shipment.order_id.in_(ids)))).all():
            ships[s.order_id].append(_row(s))
    return [order_view(_row(o), lines[o.id], ships[o.id]) for o in orders], last


# ---- state changes ---------------------------------------------------------------------------------------

async def _move(session: AsyncSession, order: Order, event: str, **stamps: Any) -> None:
    previous = order.status
    order.status = states.next_status(order.status, event)
    order.updated_at = utcnow()
    for key, value in stamps.items():
        setattr(order, key, value)
    await events.emit(session, kind=f"order.{order.status}", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "from": previous, "to": order.status, "event": event})


async def _record_refund(session: AsyncSession, order: Order, amount: int, reason: str) -> str | None:
    """Owe `amount` back to the payer: a pending refund row, carried out after commit."""
    if amount <= 0:
        return None
    refund_id = new_id("ref")
    await session.execute(insert(Refund).values(
        id=refund_id, order_id=order.id, merchant_id=order.merchant_id, payment_id=order.payment_id,
        provider=order.payment_method, amount=amount, reason=reason, status="pending", created_at=utcnow()))
    order.refunded += amount
    order.payment_status = "refunded" if order.refunded >= order.total else "partially_refunded"
    await events.emit(session, kind="refund.created", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "refund_id": refund_id, "amount": amount, "reason": reason})
    return refund_id


async def cancel_in_tx(session: AsyncSession, *, order: Order, reason: str, event: str = "cancel") -> str | None:
    """Cancel inside the caller's transaction: release stock, owe back what was paid. Returns a refund id."""
    await _move(session, order, event, cancelled_at=utcnow(), cancel_reason=reason[:200])
    await inventory_service.release_order(session, order_id=order.id, reason=event)
    paid = order.total - order.refunded if order.payment_status in ("paid", "partially_refunded") else 0
    await release_coupon(session, order=order)
    return await _record_refund(session, order, paid, "cancel")


async def cancel(session: AsyncSession, *, settings: Settings, principal: Principal, order_id: str,
                 reason: str) -> dict[str, Any]:
    """Cancel before shipping (customer, merchant or admin); stock goes back, money is refunded."""
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if principal.kind not in ("customer", "merchant", "admin", "buyer"):
        raise Forbidden("this token cannot cancel orders")
    refund_id = await cancel_in_tx(session, order=order, reason=reason)
    out = await view(session, order=order)
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=[refund_id] if refund_id else [])
    return out


def _merchant_only(principal: Principal) -> None:
    if principal.kind not in ("merchant", "admin"):
        raise Forbidden("only the merchant can do this")


async def ship(session: AsyncSession, *, principal: Principal, order_id: str, carrier: str,
               tracking_no: str) -> dict[str, Any]:
    """Hand the goods to a carrier: stock leaves the shelf (on_hand and reserved both drop)."""
    _merchant_only(principal)
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if order.fulfilment.get("type") == "pickup":
        raise Conflict("pick-up orders are collected in store, not shipped")
    await _move(session, order, "ship", shipped_at=utcnow())
    await inventory_service.fulfil_order(session, order_id=order.id)
    await session.execute(insert(Shipment).values(id=new_id("shp"), order_id=order.id, merchant_id=order.merchant_id,
                                                  carrier=carrier, tracking_no=tracking_no, created_at=utcnow()))
    out = await view(session, order=order)
    await session.commit()
    return out


async def deliver(session: AsyncSession, *, principal: Principal, order_id: str) -> dict[str, Any]:
    """The carrier delivered; cash on delivery is paid now. The return window starts."""
    _merchant_only(principal)
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    now = utcnow()
    await _move(session, order, "deliver", delivered_at=now)
    if order.payment_method == "cod" and order.payment_status == "unpaid":
        order.payment_status, order.paid_at = "paid", now
        await events.emit(session, kind="order.paid", merchant_id=order.merchant_id,
                          payload={"order_id": order.id, "method": "cod"})
    out = await view(session, order=order)
    await session.commit()
    return out


async def complete(session: AsyncSession, *, principal: Principal, order_id: str) -> dict[str, Any]:
    """The customer confirms receipt (or the merchant closes a delivered order)."""
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if principal.kind not in ("customer", "merchant", "admin", "buyer"):
        raise Forbidden("this token cannot complete orders")
    await _move(session, order, "complete", completed_at=utcnow())
    out = await view(session, order=order)
    await session.commit()
    return out


async def collect(session: AsyncSession, *, principal: Principal, order_id: str, code: str) -> dict[str, Any]:
    """A store's till hands over a pick-up order against its code; cash is taken if not prepaid."""
    if principal.kind != "device":
        raise Forbidden("orders are collected at the pickup store's device")
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    await collect_in_tx(session, order=order, code=code)
    out = await view(session, order=order)
    await session.commit()
    return out


async def collect_in_tx(session: AsyncSession, *, order: Order, code: str) -> None:
    """Hand over a pick-up order against its code inside the caller's transaction (a till or a leader)."""
    if not order.pickup_code or not constant_time_equals(order.pickup_code, code):
        raise InvalidInput("wrong pickup code", errors=[{"field": "pickup_code", "message": "does not match"}])
    now = utcnow()
    await _move(session, order, "collect", completed_at=now, delivered_at=now)
    await inventory_service.fulfil_order(session, order_id=order.id)
    if order.payment_status == "unpaid":
        order.payment_status, order.paid_at = "paid", now
        await events.emit(session, kind="order.paid", merchant_id=order.merchant_id,
                          payload={"order_id": order.id, "method": order.payment_method})


# ---- returns ---------------------------------------------------------------------------------------------

class ReturnRefused(InvalidInput):
    type_slug = "return-refused"
    title = "This return is not allowed"


async def request_return(session: AsyncSession, *, settings: Settings, principal: Principal, order_id: str,
                         lines: Sequence[tuple[str, int]], reason: str, kind: str = "no_reason") -> dict[str, Any]:
    """A return of some units (C29–C34): check each line, record the seller's return address and who pays
    return shipping, then settle as the merchant's return policy says.

    Refund on request (the default): the goods go back on hand and the refund is paid at once.
    Refund on receipt: the return waits for the goods (`awaiting_goods`); see `receive_return`.
    """
    if principal.kind != "customer":
        raise Forbidden("returns are requested by the order's customer")
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if order.status not in ("delivered", "completed"):
        raise ReturnRefused("the order has not been delivered",
                            errors=[{"field": "order", "message": f"order is {order.status}"}])
    order_lines = {ln.variant_id: ln for ln in (await session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id).with_for_update())).all()}
    sellable = await catalog_service.sellable_variants(session=session, variant_ids=list(order_lines))
    errors: list[dict[str, Any]] = []
    wanted: dict[str, int] = defaultdict(int)
    for variant_id, quantity in lines:
        wanted[variant_id] += quantity
    now = utcnow()
    for i, (variant_id, _) in enumerate(lines):
        line = order_lines.get(variant_id)
        if line is None:
            errors.append({"field": f"lines.{i}.variant_id", "message": "not in this order"})
            continue
        info = sellable.get(variant_id)
        refusal = rules.return_refusal(delivered_at=order.delivered_at, now=now,
                                       category_returnable=line.returnable,
                                       attributes=info.attributes if info else None,
                                       return_class=line.return_class, return_reason=line.return_reason,
                                       exclusion_confirmed=line.return_exclusion_confirmed_at is not None, kind=kind)
        if refusal:
            errors.append({"field": f"lines.{i}", "message": refusal})
        elif wanted[variant_id] > line.quantity - line.returned_quantity:
            errors.append({"field": f"lines.{i}.quantity",
                           "message": f"only {line.quantity - line.returned_quantity} can still be returned"})
    if errors:
        raise ReturnRefused("; ".join(sorted({e["message"] for e in errors})), errors=errors)
    items = []
    amount = coupon = 0
    for variant_id, quantity in sorted(wanted.items()):
        line = order_lines[variant_id]
        pay, off = rules.return_legs([rules.Leg("payment", line.total), rules.Leg("coupon", line.discount)],
                                     unit_price=line.unit_price, returned_before=line.returned_quantity,
                                     quantity=quantity)
        line.returned_quantity += quantity
        amount += pay
        coupon += off
        items.append({"variant_id": variant_id, "sku": line.sku, "quantity": quantity, "amount": pay,
                      "coupon": off})
    terms = await merchants_service.return_terms(session=session, merchant_id=order.merchant_id)
    ret = ReturnRequest(
        id=new_id("ret"), order_id=order.id, merchant_id=order.merchant_id, reason=reason, lines={"items": items},
        amount=amount, coupon_amount=coupon, kind=kind, refund_on=terms.refund_on,
        shipping_payer=rules.return_shipping_payer(kind, free_return_shipping=terms.free_return_shipping),
        return_address={"address": terms.address, "email": terms.email}, requested_at=now, created_at=now,
        status="awaiting_goods" if terms.refund_on == "receipt" else "refund_pending")
    session.add(ret)
    await session.flush()  # the return before its history rows (no relationship orders the two inserts)
    refund_id = None
    if terms.refund_on == "receipt":
        await _return_step(session, ret, "awaiting_goods", "customer", "return requested; send the goods to the "
                                                                       "seller's return address")
    else:
        await _return_step(session, ret, "requested", "customer", "return requested; refunded at once")
        refund_id = await _accept_return(session, order=order, ret=ret, order_lines=list(order_lines.values()),
                                         actor="customer", note="refund on request (the seller's promise)")
    await events.emit(session, kind="order.returned" if refund_id or ret.status == "refunded"
                      else "order.return_requested", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "return_id": ret.id, "amount": amount, "kind": kind})
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=[refund_id] if refund_id else [])
    return (await _return_views(session, order_id=order.id, currency=order.currency, return_ids=[ret.id]))[0]


async def _return_step(session: AsyncSession, ret: ReturnRequest, status: str, actor: str, note: str | None) -> None:
    """Move a return to `status` (`requested` only adds to the history) and record the step."""
    if status != "requested":
        ret.status = status
    session.add(ReturnEvent(id=new_id("rev"), return_id=ret.id, order_id=ret.order_id, merchant_id=ret.merchant_id,
                            status=status, actor=actor, note=note[:500] if note else None, created_at=utcnow()))


async def _accept_return(session: AsyncSession, *, order: Order, ret: ReturnRequest, order_lines: Sequence[OrderLine],
                         actor: str, note: str) -> str | None:
    """The return is accepted: owe its refund (never more than is left of what was paid), put goods that came
    back on hand, and give the coupon use back when this completes the return of the whole order. Never commits.
    Returns the refund id (None when nothing is owed in money)."""
    left = max(order.total - order.refunded, 0)
    ret.amount = min(ret.amount, left)
    await _restock_return(session, ret)
    refund_id = await _record_refund(session, order, ret.amount, "return")
    ret.refund_id = refund_id
    await _return_step(session, ret, "refund_pending", actor, note)
    if refund_id is None:
        ret.refunded_at = utcnow()
        await _return_step(session, ret, "refunded", "system", "nothing to pay back in money")
    if all(ln.returned_quantity >= ln.quantity for ln in order_lines):
        still_open = await session.scalar(select(ReturnRequest.id).where(
            ReturnRequest.order_id == order.id, ReturnRequest.id != ret.id,
            ReturnRequest.status.in_(("awaiting_goods", "received"))).limit(1))
        if still_open is None:
            await release_coupon(session, order=order)
    return refund_id


async def _restock_return(session: AsyncSession, ret: ReturnRequest) -> None:
    """Accepted goods go back on hand, once: at once when refunded on request, else once they arrived."""
    if ret.restocked_at is not None or (ret.refund_on == "receipt" and ret.received_at is None):
        return
    quantities = {item["variant_id"]: int(item["quantity"]) for item in ret.lines["items"]}
    await inventory_service.restock(session, order_id=ret.order_id, return_id=ret.id, quantities=quantities)
    ret.restocked_at = utcnow()


async def _merchant_return(session: AsyncSession, *, principal: Principal, order_id: str,
                           return_id: str) -> tuple[Order, ReturnRequest]:
    """The merchant's order and one of its returns, both locked (order first, as everywhere); 404 otherwise."""
    _merchant_only(principal)
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    ret = await session.get(ReturnRequest, return_id, with_for_update=True, populate_existing=True)
    if ret is None or ret.order_id != order.id:
        raise NotFound("return", return_id)
    return order, ret


async def _lines_of(session: AsyncSession, order_id: str) -> list[OrderLine]:
    return list((await session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)
                                       .order_by(OrderLine.id).with_for_update())).all())


async def receive_return(session: AsyncSession, *, principal: Principal, order_id: str,
                         return_id: str) -> dict[str, Any]:
    """The seller has the goods back: the refund falls due 7 days later (paid by a job unless rejected)."""
    order, ret = await _merchant_return(session, principal=principal, order_id=order_id, return_id=return_id)
    if ret.received_at is not None or ret.status == "rejected":
        raise Conflict(f"this return is {ret.status}; its goods were already received")
    now = utcnow()
    ret.received_at = now
    if ret.status == "awaiting_goods":
        ret.refund_due_at = now + timedelta(days=rules.REFUND_DAYS_AFTER_RECEIPT)
        await _return_step(session, ret, "received", principal.kind, "goods received; refund due by "
                           f"{_iso(ret.refund_due_at)} unless rejected with a coded reason and photos")
    else:  # approved before the goods arrived: they go back on hand now
        await _restock_return(session, ret)
        session.add(ReturnEvent(id=new_id("rev"), return_id=ret.id, order_id=ret.order_id,
                                merchant_id=ret.merchant_id, status="received", actor=principal.kind,
                                note="goods received after the refund was approved", created_at=now))
    await events.emit(session, kind="order.return_received", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "return_id": ret.id})
    await session.commit()
    return (await _return_views(session, order_id=order.id, currency=order.currency, return_ids=[ret.id]))[0]


async def approve_return(session: AsyncSession, *, settings: Settings, principal: Principal, order_id: str,
                         return_id: str) -> dict[str, Any]:
    """The seller refunds now, before the 7 days after receipt are up (or before the goods arrive)."""
    order, ret = await _merchant_return(session, principal=principal, order_id=order_id, return_id=return_id)
    if ret.status not in ("awaiting_goods", "received"):
        raise Conflict(f"this return is {ret.status}")
    refund_id = await _accept_return(session, order=order, ret=ret, order_lines=await _lines_of(session, order.id),
                                     actor=principal.kind, note="approved by the seller")
    await events.emit(session, kind="order.returned", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "return_id": ret.id, "amount": ret.amount})
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=[refund_id] if refund_id else [])
    return (await _return_views(session, order_id=order.id, currency=order.currency, return_ids=[ret.id]))[0]


async def reject_return(session: AsyncSession, *, principal: Principal, order_id: str, return_id: str, code: str,
                        photos: Sequence[str], note: str | None) -> dict[str, Any]:
    """The seller refuses received goods that are not intact (C31): an R7 art. 9 code and photos are required.

    Only no-reason returns, only after the goods came back and before the refund fell due. The units can be
    returned again (the goods go back to the buyer); nothing is refunded or restocked.
    """
    if code not in rules.REJECTION_CODES:
        raise field_error("code", f"one of: {', '.join(rules.REJECTION_CODES)}")
    if not photos:
        raise field_error("evidence", "at least one photo of the goods as received")
    order, ret = await _merchant_return(session, principal=principal, order_id=order_id, return_id=return_id)
    if ret.kind != "no_reason":
        raise Conflict("only no-reason returns can be refused for goods that are not intact; a quality return "
                       "is refunded")
    if ret.status != "received":
        raise Conflict(f"this return is {ret.status}: goods can be refused only after they were received")
    now = utcnow()
    if ret.refund_due_at is not None and now >= as_utc(ret.refund_due_at):
        raise Conflict("the refund fell due 7 days after the goods were received; it can no longer be refused")
    ret.rejected_at, ret.rejection_code = now, code
    ret.evidence = {"photos": list(photos), "note": note}
    returned = {item["variant_id"]: int(item["quantity"]) for item in ret.lines["items"]}
    for line in await _lines_of(session, order.id):
        line.returned_quantity -= min(returned.get(line.variant_id, 0), line.returned_quantity)
    await _return_step(session, ret, "rejected", principal.kind, f"{code}: {note}" if note else code)
    await events.emit(session, kind="order.return_rejected", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "return_id": ret.id, "code": code})
    await session.commit()
    return (await _return_views(session, order_id=order.id, currency=order.currency, return_ids=[ret.id]))[0]


async def refund_due_returns(factory: async_sessionmaker[AsyncSession], settings: Settings, limit: int = 100) -> int:
    """Job (and `shop refund-due-returns`): pay returns whose goods came back 7 days ago and were not refused.

    Candidates are read without locks; each is then locked order first (as every other path does) and
    checked again, so several processes may run this at once without paying anything twice.
    """
    async with factory() as session:
        now = utcnow()
        due = (await session.execute(
            select(ReturnRequest.id, ReturnRequest.order_id)
            .where(ReturnRequest.status == "received", ReturnRequest.refund_due_at <= now)
            .order_by(ReturnRequest.refund_due_at).limit(limit))).all()
        await session.commit()
        refunds: list[str] = []
        paid = 0
        for return_id, order_id in due:
            order = await session.get(Order, order_id, with_for_update=True, populate_existing=True)
            ret = await session.get(ReturnRequest, return_id, with_for_update=True, populate_existing=True)
            if order is None or ret is None or ret.status != "received" or ret.refund_due_at is None \
                    or as_utc(ret.refund_due_at) > now:
                continue
            refund_id = await _accept_return(session, order=order, ret=ret,
                                             order_lines=await _lines_of(session, order.id), actor="system",
                                             note="refund due 7 days after the goods came back (R7 art. 13)")
            await events.emit(session, kind="order.returned", merchant_id=order.merchant_id,
                              payload={"order_id": order.id, "return_id": ret.id, "amount": ret.amount,
                                       "automatic": True})
            if refund_id:
                refunds.append(refund_id)
            paid += 1
        await session.commit()
        await settle_refunds(session, settings=settings, refund_ids=refunds)
    return paid


async def list_returns(session: AsyncSession, *, principal: Principal, order_id: str) -> list[dict[str, Any]]:
    """An order's returns, oldest first, each with its status history (its customer, merchant, the admin)."""
    order = await get_visible(session, principal=principal, order_id=order_id)
    return await _return_views(session, order_id=order.id, currency=order.currency)


async def _return_views(session: AsyncSession, *, order_id: str, currency: str,
                        return_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
    stmt = select(ReturnRequest).where(ReturnRequest.order_id == order_id)
    if return_ids is not None:
        stmt = stmt.where(ReturnRequest.id.in_(list(return_ids)))
    rets = (await session.scalars(stmt.order_by(ReturnRequest.created_at, ReturnRequest.id)
                                  .execution_options(populate_existing=True))).all()
    history: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if rets:
        for ev in (await session.scalars(select(ReturnEvent).where(ReturnEvent.return_id.in_([r.id for r in rets]))
                                         .order_by(ReturnEvent.created_at, ReturnEvent.id))).all():
            history[ev.return_id].append({"status": ev.status, "actor": ev.actor, "note": ev.note,
                                          "at": _iso(ev.created_at)})
    now = utcnow()
    out = []
    for r in rets:
        escalated, alert = rules.return_flags(status=r.status, requested_at=r.requested_at,
                                              received_at=r.received_at, now=now)
        out.append({
            "id": r.id, "order_id": r.order_id, "status": r.status, "kind": r.kind, "amount": r.amount,
            "coupon_amount": r.coupon_amount, "currency": currency, "lines": r.lines["items"], "reason": r.reason,
            "shipping_payer": r.shipping_payer, "refund_on": r.refund_on, "return_address": r.return_address,
            "created_at": _iso(r.created_at), "requested_at": _iso(r.requested_at),
            "received_at": _iso(r.received_at),
            "refund_due_at": _iso(r.refund_due_at), "refunded_at": _iso(r.refunded_at),
            "rejected_at": _iso(r.rejected_at), "rejection_code": r.rejection_code,
            "evidence": list((r.evidence or {}).get("photos", [])), "escalated": escalated, "alert": alert,
            "history": history[r.id]})
    return out


# ---- coupons ---------------------------------------------------------------------------------------------

# (session, merchant_id, code): gives one use of a coupon back to whoever counts its uses. The order core does not
# import channels, so the app factory and the CLI install retail's counter here (`install_coupon_release`).
CouponRelease = Callable[[AsyncSession, str, str], Awaitable[None]]
_COUPON_RELEASE: dict[str, CouponRelease] = {}


def install_coupon_release(release: CouponRelease) -> None:
    """Give coupon uses back through `release` when a whole order is cancelled or returned."""
    _COUPON_RELEASE["release"] = release


async def release_coupon(session: AsyncSession, *, order: Order) -> bool:
    """The order's coupon use goes back (the whole order was cancelled or returned), at most once per order.
    Never commits; returns whether it was given back now."""
    if not order.promotion_code:
        return False
    claimed = await session.execute(update(Order).where(Order.id == order.id, Order.coupon_released_at.is_(None))
                                    .values(coupon_released_at=utcnow()))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    release = _COUPON_RELEASE.get("release")
    if release is None:
        log.warning("coupon_release_not_installed", order_id=order.id)
    else:
        await release(session, order.merchant_id, order.promotion_code)
    await events.emit(session, kind="order.coupon_released", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "code": order.promotion_code})
    return True


# ---- payments --------------------------------------------------------------------------------------------

async def settle_refunds(session: AsyncSession, *, settings: Settings, refund_ids: Sequence[str]) -> bool:
    """Carry out pending refunds through their provider, after the commit that recorded them.

    Returns True when all succeeded. A failure leaves the refund pending for `retry_refunds`.
    """
    ok = True
    for refund_id in refund_ids:
        refund = await session.get(Refund, refund_id)
        if refund is None or refund.status != "pending":
            continue
        payment_ref = None
        if refund.payment_id:
            payment = await session.get(Payment, refund.payment_id)
            payment_ref = payment.provider_ref if payment else None
        await session.commit()  # no transaction open while we talk to the provider
        try:
            ref = await provider(settings, refund.provider).refund(provider_ref=payment_ref, amount=refund.amount,
                                                                   refund_id=refund.id)
        except Exception as exc:
            log.warning("refund_failed", refund_id=refund_id, error=str(exc))
            ok = False
            continue
        settled = await session.execute(update(Refund).where(Refund.id == refund_id, Refund.status == "pending")
                                        .values(status="succeeded", provider_ref=ref))
        if settled.rowcount != 1:  # type: ignore[attr-defined]  # another worker settled it meanwhile
            await session.commit()
            continue
        if refund.reason == "return":
            await _return_refunded(session, refund_id)
        await events.emit(session, kind="refund.succeeded", merchant_id=refund.merchant_id,
                          payload={"refund_id": refund_id, "order_id": refund.order_id, "amount": refund.amount})
        await session.commit()
    return ok


async def _return_refunded(session: AsyncSession, refund_id: str) -> None:
    """The provider paid a return's refund: the return is refunded."""
    ret = await session.scalar(select(ReturnRequest).where(ReturnRequest.refund_id == refund_id,
                                                           ReturnRequest.status == "refund_pending"))
    if ret is not None:
        ret.refunded_at = utcnow()
        await _return_step(session, ret, "refunded", "system", "refund paid through the payment method")


async def retry_refunds(factory: async_sessionmaker[AsyncSession], settings: Settings, limit: int = 100) -> int:
    """Job: retry refunds left pending by a provider failure."""
    async with factory() as session:
        ids = list((await session.scalars(select(Refund.id).where(Refund.status == "pending")
                                          .order_by(Refund.id).limit(limit))).all())
        await session.commit()
        if ids:
            await settle_refunds(session, settings=settings, refund_ids=ids)
    return len(ids)


async def payment_succeeded(session: AsyncSession, *, settings: Settings, provider_name: str, event_id: str,
                            event_kind: str, provider_ref: str, amount_received: int | None) -> bool:
    """A provider says the money arrived: the payment's orders become paid. Each event id counts once.

    An order cancelled meanwhile (its hold expired) is refunded at once: money is never kept for
    goods that are no longer reserved. Returns False for a duplicate event.
    """
    try:
        await session.execute(insert(ProcessedWebhook).values(id=new_id("whk"), provider=provider_name,
                                                              event_id=event_id, kind=event_kind,
                                                              created_at=utcnow()))
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return False
    payment = await session.scalar(select(Payment).where(Payment.provider == provider_name,
                                                        Payment.provider_ref == provider_ref).with_for_update())
    if payment is None:
        log.warning("payment_unknown", provider_ref=provider_ref, event_id=event_id)
        await session.commit()
        return True
    if amount_received is not None and amount_received != payment.amount:
        log.error("payment_amount_mismatch", payment_id=payment.id, expected=payment.amount, got=amount_received)
    payment.status = "succeeded"
    orders = (await session.scalars(select(Order).where(Order.payment_id == payment.id).order_by(Order.id)
                                    .with_for_update())).all()
    refunds: list[str] = []
    now = utcnow()
    for order in orders:
        if order.payment_status != "unpaid":
            continue
        order.payment_status, order.paid_at = "paid", now
        if order.status == "pending_payment":
            await _move(session, order, "pay")  # emits order.paid
            order.hold_expires_at = None
        elif order.status == "cancelled":
            refund_id = await _record_refund(session, order, order.total, "paid_after_cancel")
            if refund_id:
                refunds.append(refund_id)
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=refunds)
    return True


async def expire_holds(factory: async_sessionmaker[AsyncSession], settings: Settings, limit: int = 200) -> int:
    """Job (and `shop expire-holds`): cancel unpaid orders whose hold ran out and release their stock.

    Rows are claimed with SKIP LOCKED, so several server processes can run this at once without
    doing any order twice; a payment that lands at the same moment waits on the row lock.
    """
    async with factory() as session:
        now = utcnow()
        stmt = (select(Order).where(Order.status == "pending_payment", Order.hold_expires_at <= now)
                .order_by(Order.hold_expires_at).limit(limit))
        if dialect_of(session) == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        orders = (await session.scalars(stmt)).all()
        payments: set[str] = set()
        for order in orders:
            await cancel_in_tx(session, order=order, reason="payment not received in time", event="expire")
            if order.payment_id:
                payments.add(order.payment_id)
        await session.commit()
        for payment_id in sorted(payments):
            await _cancel_payment_if_unused(session, settings, payment_id)
    return len(orders)


async def _cancel_payment_if_unused(session: AsyncSession, settings: Settings, payment_id: str) -> None:
    payment = await session.get(Payment, payment_id)
    open_orders = await session.scalar(select(Order.id).where(Order.payment_id == payment_id,
                                                             Order.status != "cancelled").limit(1))
    await session.commit()
    if payment is None or open_orders or payment.status != "pending" or not payment.provider_ref:
        return
    try:
        await provider(settings, payment.provider).cancel(provider_ref=payment.provider_ref)
    except Exception as exc:
        log.warning("payment_cancel_failed", payment_id=payment_id, error=str(exc))
        return
    await session.execute(update(Payment).where(Payment.id == payment_id, Payment.status == "pending")
                          .values(status="cancelled"))
    await session.commit()


# ---- credit terms ----------------------------------------------------------------------------------------

async def mark_paid(session: AsyncSession, *, principal: Principal, order_id: str) -> dict[str, Any]:
    """The merchant records that a buyer paid an order bought on credit terms.

    The buyer's open credit is derived from its unpaid terms orders, so it grows back by this order's total.
    """
    _merchant_only(principal)
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if order.payment_method != "terms":
        raise Conflict(f"only orders on payment terms are marked paid by hand (this one is {order.payment_method})")
    if order.status == "cancelled":
        raise Conflict("the order is cancelled")
    if order.payment_status != "unpaid":
        raise Conflict(f"the order is already {order.payment_status}")
    order.payment_status, order.paid_at, order.updated_at = "paid", utcnow(), utcnow()
    await events.emit(session, kind="order.paid", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "method": "terms", "amount": order.total})
    out = await view(session, order=order)
    await session.commit()
    return out
