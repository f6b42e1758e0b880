"""Community use cases: pickup points and their leaders, group-buys (create, join, close), manifests,
collection at the point, leader commission, and bookable local services.

Every order is placed by the order core (`orders.placing.pipeline`, channel `community`). A group-buy
never holds more than `max_quantity` units: a join counts its units with one conditional UPDATE of the
group-buy's `joined_quantity`, in the transaction that places the order, so concurrent joins cannot
overshoot. Service slots count bookings the same way.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import CursorResult, exists, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog import service as catalog_service
from app.catalog.service import SellableVariant
from app.community import rules
from app.community.models import GroupBuy, GroupBuyJoin, GroupBuyPoint, PickupPoint, ServiceBooking, ServiceSlot
from app.community.schemas import BookingIn, GroupBuyIn, JoinIn, PickupPointIn, ServiceSlotIn
from app.config import Settings
from app.core import auth, events, idempotency
from app.core.auth import Principal
from app.core.clock import SHANGHAI, as_utc, rfc3339, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.core.logging import get_logger
from app.core.pagination import keyset_page
from app.merchants import service as merchants_service
from app.merchants.schemas import LocationCreate
from app.orders import cancellation, fulfilment, payments
from app.orders.models import Order, OrderLine
from app.orders.placing import pipeline
from app.orders.placing.drafts import DraftLine, OrderDraft
from app.orders.placing.pipeline import Priced
from app.orders.views import OrderView, view

log = get_logger("app.community")

# ---- pickup points and leaders ---------------------------------------------------------------------------


async def create_pickup_point(*, session: AsyncSession, merchant_id: str,
                              body: PickupPointIn) -> tuple[PickupPoint, str]:
    """A pickup point (a `pickup_point` location of the merchant) and its leader's token, shown once."""
    point_id = new_id("pkp")
    if body.location_id:
        location = await merchants_service.get_location(session=session, merchant_id=merchant_id,
                                                        location_id=body.location_id)
        if location is None or location.kind != "pickup_point":
            raise field_error("location_id", "not one of your pickup_point locations")
    else:
        location = await merchants_service.add_location(session=session, merchant_id=merchant_id,
                                                        location_in=LocationCreate(
                                                            code=point_id, name=body.name, kind="pickup_point",
                                                            address=body.address))
    point = PickupPoint(id=point_id, merchant_id=merchant_id, location_id=location.id, name=body.name,
                        address=body.address.model_dump(exclude_none=True), leader_name=body.leader_name,
                        leader_phone=body.leader_phone, commission_rate=body.commission_rate, created_at=utcnow())
    session.add(point)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise field_error("location_id", "this location already has a pickup point") from None
    token = await _leader_token(session, point)
    await events.emit(session, kind="pickup_point.created", merchant_id=merchant_id,
                      payload={"id": point.id, "location_id": location.id})
    await session.commit()
    return point, token


async def _leader_token(session: AsyncSession, point: PickupPoint) -> str:
    return await auth.create_token(session, kind="leader", merchant_id=point.merchant_id,
                                   location_id=point.location_id, subject_id=point.id,
                                   label=f"leader {point.leader_name}")


async def reissue_leader_token(*, session: AsyncSession, merchant_id: str, pickup_point_id: str) -> str:
    """A new leader token for the point; the earlier ones stop working at once."""
    point = await session.get(PickupPoint, pickup_point_id)
    if point is None or point.merchant_id != merchant_id:
        raise NotFound("pickup point", pickup_point_id)
    await auth.revoke_tokens(session, subject_id=point.id)
    token = await _leader_token(session, point)
    await session.commit()
    return token


async def get_pickup_point(*, session: AsyncSession, principal: Principal, pickup_point_id: str) -> PickupPoint:
    """The point if the caller is its merchant or its leader; 404 otherwise."""
    point = await session.get(PickupPoint, pickup_point_id)
    if point is None or point.merchant_id != principal.merchant_id:
        raise NotFound("pickup point", pickup_point_id)
    if principal.kind == "leader" and principal.subject_id != point.id:
        raise NotFound("pickup point", pickup_point_id)
    return point


async def list_pickup_points(*, session: AsyncSession, merchant_id: str) -> Sequence[PickupPoint]:
    return (await session.scalars(select(PickupPoint).where(PickupPoint.merchant_id == merchant_id)
                                  .order_by(PickupPoint.id))).all()


# ---- group-buys ------------------------------------------------------------------------------------------


async def _variant(session: AsyncSession, variant_id: str) -> SellableVariant | None:
    return (await catalog_service.sellable_variants(session=session, variant_ids=[variant_id])).get(variant_id)


async def create_group_buy(*, session: AsyncSession, merchant_id: str, body: GroupBuyIn) -> dict[str, Any]:
    """Open a group-buy on one of the merchant's variants, delivered to some (or all) of its points."""
    info = await _variant(session, body.variant_id)
    if info is None or info.merchant_id != merchant_id:
        raise field_error("variant_id", "not one of your products")
    if not info.sellable:
        raise field_error("variant_id", "the product is not on sale (draft, or the merchant is not active)")
    closes_at = as_utc(body.closes_at)
    errors = []
    if closes_at <= utcnow():
        errors.append({"field": "closes_at", "message": "must be in the future"})
    if body.pickup_date < closes_at.astimezone(SHANGHAI).date():
        errors.append({"field": "pickup_date", "message": "must not be before the day the group-buy closes"})
    points = (await session.scalars(select(PickupPoint.id).where(PickupPoint.merchant_id == merchant_id)
                                    .order_by(PickupPoint.id))).all()
    if body.pickup_point_ids is None:
        point_ids = list(points)
        if not point_ids:
            errors.append({"field": "pickup_point_ids", "message": "create a pickup point first"})
    else:
        point_ids = list(dict.fromkeys(body.pickup_point_ids))
        known = set(points)
        errors += [{"field": f"pickup_point_ids.{i}", "message": "not one of your pickup points"}
                   for i, p in enumerate(body.pickup_point_ids) if p not in known]
    if errors:
        raise InvalidInput("the group-buy cannot be created", errors=errors)
    gb = GroupBuy(id=new_id("gb"), merchant_id=merchant_id, variant_id=info.variant_id, price=body.price,
                  currency=info.currency, min_quantity=body.min_quantity, max_quantity=body.max_quantity,
                  joined_quantity=0, status="open", closes_at=closes_at, pickup_date=body.pickup_date,
                  created_at=utcnow())
    session.add(gb)
    await session.flush()
    await session.execute(insert(GroupBuyPoint), [{"group_buy_id": gb.id, "pickup_point_id": p} for p in point_ids])
    await events.emit(session, kind="group_buy.created", merchant_id=merchant_id,
                      payload={"id": gb.id, "variant_id": gb.variant_id, "closes_at": closes_at.isoformat()})
    await session.commit()
    return _group_buy_view(gb, info, point_ids)


def _group_buy_view(gb: GroupBuy, info: SellableVariant | None, point_ids: Sequence[str]) -> dict[str, Any]:
    out = {c: getattr(gb, c) for c in ("id", "merchant_id", "variant_id", "price", "currency", "min_quantity",
                                       "max_quantity", "joined_quantity", "status", "closes_at", "pickup_date",
                                       "closed_at", "committed_quantity", "created_at")}
    out.update(sku=info.sku if info else "", title=info.title if info else "", pickup_point_ids=list(point_ids))
    return out


async def _points_of(session: AsyncSession, group_buy_ids: Sequence[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for gb_id, point_id in (await session.execute(
            select(GroupBuyPoint.group_buy_id, GroupBuyPoint.pickup_point_id)
            .where(GroupBuyPoint.group_buy_id.in_(group_buy_ids)).order_by(GroupBuyPoint.pickup_point_id))).all():
        out[gb_id].append(point_id)
    return out


async def _views(session: AsyncSession, gbs: Sequence[GroupBuy]) -> list[dict[str, Any]]:
    info = await catalog_service.sellable_variants(session=session, variant_ids=[g.variant_id for g in gbs])
    points = await _points_of(session, [g.id for g in gbs])
    return [_group_buy_view(g, info.get(g.variant_id), points[g.id]) for g in gbs]


async def get_group_buy(*, session: AsyncSession, group_buy_id: str) -> dict[str, Any]:
    """A group-buy as residents see it (public: they need it to join)."""
    gb = await session.get(GroupBuy, group_buy_id)
    if gb is None:
        raise NotFound("group-buy", group_buy_id)
    return (await _views(session, [gb]))[0]


async def list_group_buys(*, session: AsyncSession, merchant_id: str, status: str | None, before: str | None,
                          limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """A merchant's group-buys, newest first."""
    stmt = select(GroupBuy).where(GroupBuy.merchant_id == merchant_id)
    if status:
        stmt = stmt.where(GroupBuy.status == status)
    gbs, last = await keyset_page(session, stmt, GroupBuy.id, after=before, limit=limit)
    return await _views(session, gbs), last


async def _release_cancelled_joins(session: AsyncSession, group_buy_id: str) -> int:
    """Give the units of joins whose order was cancelled (hold expired, customer cancelled) back to the group-buy."""
    result = await session.execute(
        update(GroupBuyJoin)
        .where(GroupBuyJoin.group_buy_id == group_buy_id, GroupBuyJoin.status == "held",
               exists().where(Order.id == GroupBuyJoin.order_id, Order.status == "cancelled"))
        .values(status="released").returning(GroupBuyJoin.quantity)
        .execution_options(synchronize_session=False))
    return sum(result.scalars().all())


async def _count_join(session: AsyncSession, group_buy_id: str, quantity: int, freed: int) -> bool:
    """The race-deciding step: count `quantity` more units if the group-buy is open and has room."""
    now = utcnow()
    delta = quantity - freed
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(GroupBuy)
        .where(GroupBuy.id == group_buy_id, GroupBuy.status == "open", GroupBuy.closes_at > now,
               GroupBuy.joined_quantity + delta <= GroupBuy.max_quantity)
        .values(joined_quantity=GroupBuy.joined_quantity + delta)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def join_group_buy(*, session: AsyncSession, settings: Settings, principal: Principal, group_buy_id: str,
                         body: JoinIn, idempotency_key: str | None) -> tuple[int, dict[str, Any]]:
    """A resident joins: a `community` order for pickup at the chosen point, its units held from stock.

    Steps: (1) validate (no locks); (2) for Stripe, start the payment outside any transaction;
    (3) in one transaction: count the units on the group-buy with a conditional UPDATE (refused when
    closed or full; units of cancelled joins are given back first when it looks full), place the order
    (stock held from the merchant's warehouses/stores, collected at the point), record the join and the
    payment. A retry with the same Idempotency-Key returns the first answer.
    """
    scope = principal.scope
    fingerprint = idempotency.request_hash("group-buy-join", group_buy_id, body.model_dump(mode="json"))
    if idempotency_key:
        found = await idempotency.lookup(session, scope=scope, key=idempotency_key, fingerprint=fingerprint)
        if found is not None:
            return found
    gb = await session.get(GroupBuy, group_buy_id)
    if gb is None:
        raise NotFound("group-buy", group_buy_id)
    point = await session.get(PickupPoint, body.pickup_point_id)
    serves = point is not None and await session.scalar(
        select(GroupBuyPoint.pickup_point_id).where(GroupBuyPoint.group_buy_id == gb.id,
                                                    GroupBuyPoint.pickup_point_id == point.id)) is not None
    refusal = rules.join_refusal(status=gb.status, closes_at=gb.closes_at, now=utcnow(), joined=0,
                                 max_quantity=gb.max_quantity, quantity=body.quantity, serves_point=serves)
    if refusal is not None:
        field, message = refusal
        if field == "pickup_point_id":
            raise field_error(field, message)
        raise Conflict(message, extra={"field": field})
    assert point is not None
    gb_id, point_id = gb.id, point.id  # plain values: the session may roll back
    info = await _variant(session, gb.variant_id)
    if info is None or not info.sellable:
        raise Conflict("the product of this group-buy is no longer on sale")
    draft = OrderDraft(
        merchant_id=gb.merchant_id, channel="community", payment_method=body.payment_method, currency=gb.currency,
        lines=[DraftLine(info.variant_id, info.product_id, info.sku, info.title, info.category, info.returnable,
                         body.quantity, gb.price, info.listing_revision_id)],
        fulfilment={"type": "pickup", "location_id": point.location_id, "location_name": point.name,
                    "pickup_point_id": point.id, "group_buy_id": gb.id, "pickup_date": gb.pickup_date.isoformat(),
                    **({"contact_name": body.contact_name} if body.contact_name else {}),
                    **({"contact_phone": body.contact_phone} if body.contact_phone else {})},
        pickup_location_id=point.location_id, customer_id=principal.subject_id, charge_shipping=False,
        stock_hold="network",
        extra_events=[("group_buy.joined", {"group_buy_id": gb.id, "quantity": body.quantity,
                                            "pickup_point_id": point.id})])
    channel = _Join(draft, group_buy_id=gb_id, pickup_point_id=point_id, customer_id=str(principal.subject_id),
                    quantity=body.quantity)
    return await pipeline.place(session, settings=settings, channel=channel, request=pipeline.Request(
        scope=scope, key=idempotency_key, fingerprint=fingerprint, payment_method=body.payment_method,
        hold_minutes=settings.shop_order_hold_minutes))


class _Join:
    """A group-buy join as a placement channel: its units counted on the group-buy before the order, the join
    recorded after it."""

    name = "community"
    lookup_first = False

    def __init__(self, draft: OrderDraft, *, group_buy_id: str, pickup_point_id: str, customer_id: str,
                 quantity: int) -> None:
        self.draft, self.group_buy_id, self.pickup_point_id = draft, group_buy_id, pickup_point_id
        self.customer_id, self.quantity = customer_id, quantity

    async def price(self, session: AsyncSession) -> Priced:
        return Priced([self.draft], writes_before=True, writes_after=True)

    async def before(self, session: AsyncSession, priced: Priced) -> None:
        if not await _count_join(session, self.group_buy_id, self.quantity, 0):
            freed = await _release_cancelled_joins(session, self.group_buy_id)
            if not freed or not await _count_join(session, self.group_buy_id, self.quantity, freed):
                raise await _join_refused(session, self.group_buy_id, self.quantity)

    async def after(self, session: AsyncSession, priced: Priced, orders: Sequence[OrderView]) -> None:
        await session.execute(insert(GroupBuyJoin).values(
            id=new_id("gbj"), group_buy_id=self.group_buy_id, merchant_id=self.draft.merchant_id,
            pickup_point_id=self.pickup_point_id, order_id=orders[0]["id"], customer_id=self.customer_id,
            quantity=self.quantity, status="held", created_at=utcnow()))

    def answer(self, priced: Priced, orders: list[OrderView], payment: dict[str, Any] | None
               ) -> dict[str, Any]:
        return {**orders[0], "group_buy_id": self.group_buy_id, "payment": payment}


async def _join_refused(session: AsyncSession, group_buy_id: str, quantity: int) -> Conflict:
    gb = await session.get(GroupBuy, group_buy_id, populate_existing=True)
    assert gb is not None
    refusal = rules.join_refusal(status=gb.status, closes_at=gb.closes_at, now=utcnow(), joined=gb.joined_quantity,
                                 max_quantity=gb.max_quantity, quantity=quantity, serves_point=True)
    field, message = refusal or ("quantity", "this group-buy is full")
    return Conflict(message, extra={"field": field})


# ---- closing ---------------------------------------------------------------------------------------------


async def _close(session: AsyncSession, group_buy_id: str, closed_by: str) -> list[str] | None:
    """Decide and apply a group-buy's outcome (never commits). None when someone else closed it first.

    The status moves off `open` with a conditional UPDATE first, so two closers (the job in several
    processes, the merchant) never both act, and joins waiting on the row see it closed.
    Returns the ids of the refunds to carry out after the commit.
    """
    now = utcnow()
    claimed: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(GroupBuy).where(GroupBuy.id == group_buy_id, GroupBuy.status == "open")
        .values(status="closing", closed_at=now, closed_by=closed_by).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return None
    gb = await session.get(GroupBuy, group_buy_id, populate_existing=True)
    assert gb is not None
    quantities: dict[str, int] = {order_id: quantity for order_id, quantity in (await session.execute(
        select(GroupBuyJoin.order_id, GroupBuyJoin.quantity).where(GroupBuyJoin.group_buy_id == gb.id))).all()}
    orders = {o.id: o for o in (await session.scalars(
        select(Order).where(Order.id.in_(list(quantities))).order_by(Order.id).with_for_update())).all()}
    decision = rules.decide_close(gb.min_quantity, [rules.JoinState(oid, quantities[oid], orders[oid].status)
                                                    for oid in sorted(orders)])
    refunds: list[str] = []
    reason = ("group-buy failed: minimum not reached" if decision.outcome == "failed"
              else "group-buy closed before payment arrived")
    for order_id in decision.cancel_order_ids:
        refund_id = await cancellation.cancel_in_tx(session, order=orders[order_id], reason=reason)
        if refund_id:
            refunds.append(refund_id)
    gb.status = decision.outcome
    gb.committed_quantity = decision.committed_quantity
    await events.emit(session, kind=f"group_buy.{decision.outcome}", merchant_id=gb.merchant_id,
                      payload={"id": gb.id, "committed_quantity": decision.committed_quantity,
                               "cancelled_orders": len(decision.cancel_order_ids), "closed_by": closed_by})
    return refunds


async def _close_and_settle(session: AsyncSession, settings: Settings, group_buy_id: str, closed_by: str) -> bool:
    """Close in one transaction (retried on deadlock), then carry out the refunds. False if already closed."""
    refunds: list[str] | None = None

    async def work() -> tuple[int, Any]:
        nonlocal refunds
        refunds = await _close(session, group_buy_id, closed_by)
        return 200, None

    await idempotency.run_idempotent(session, scope="group-buy-close", key=None, fingerprint="", work=work)
    if refunds is None:
        return False
    await payments.settle_refunds(session, settings=settings, refund_ids=refunds)
    return True


async def close_group_buy(*, session: AsyncSession, settings: Settings, merchant_id: str,
                          group_buy_id: str) -> dict[str, Any]:
    """The merchant closes a group-buy now: succeeded or failed by the same rule as at `closes_at`."""
    gb = await session.get(GroupBuy, group_buy_id)
    if gb is None or gb.merchant_id != merchant_id:
        raise NotFound("group-buy", group_buy_id)
    await session.commit()
    if not await _close_and_settle(session, settings, group_buy_id, "merchant"):
        raise Conflict("this group-buy is already closed")
    return await get_group_buy(session=session, group_buy_id=group_buy_id)


async def close_due_group_buys(factory: async_sessionmaker[AsyncSession], settings: Settings,
                               limit: int = 50) -> int:
    """Job (and `shop close-group-buys`): close every open group-buy whose `closes_at` has passed.

    Safe in several processes at once: each close starts with a conditional status update, so a
    group-buy is closed exactly once.
    """
    closed = 0
    async with factory() as session:
        ids = list((await session.scalars(
            select(GroupBuy.id).where(GroupBuy.status == "open", GroupBuy.closes_at <= utcnow())
            .order_by(GroupBuy.closes_at).limit(limit))).all())
        await session.commit()
        for group_buy_id in ids:
            try:
                closed += await _close_and_settle(session, settings, group_buy_id, "schedule")
            except Exception:
                await session.rollback()
                log.exception("group_buy_close_failed", group_buy_id=group_buy_id)
    return closed


# ---- manifests, collection, commission -------------------------------------------------------------------

_OPEN_PICKUP = ("paid", "confirmed")


async def manifest(*, session: AsyncSession, principal: Principal, pickup_point_id: str,
                   day: date | None, overdue_only: bool = False) -> dict[str, Any]:
    """What each resident collects at the point: the day's succeeded group-buys (or every overdue pickup)."""
    point = await get_pickup_point(session=session, principal=principal, pickup_point_id=pickup_point_id)
    now = utcnow()
    day = day or now.astimezone(SHANGHAI).date()
    stmt = (select(Order, GroupBuyJoin.customer_id, GroupBuyJoin.group_buy_id, GroupBuy.pickup_date)
            .join(GroupBuyJoin, GroupBuyJoin.order_id == Order.id)
            .join(GroupBuy, GroupBuy.id == GroupBuyJoin.group_buy_id)
            .where(GroupBuyJoin.pickup_point_id == point.id, GroupBuy.status == "succeeded"))
    if overdue_only:
        stmt = stmt.where(Order.status.in_(_OPEN_PICKUP))
    else:
        stmt = stmt.where(GroupBuy.pickup_date == day, Order.status.in_((*_OPEN_PICKUP, "completed")))
    rows = [r for r in (await session.execute(stmt.order_by(GroupBuyJoin.customer_id, Order.id))).all()
            if not overdue_only or rules.is_overdue(r.pickup_date, now)]
    lines: dict[str, list[OrderLine]] = defaultdict(list)
    if rows:
        for ln in (await session.scalars(select(OrderLine).where(OrderLine.order_id.in_([r[0].id for r in rows]))
                                         .order_by(OrderLine.id))).all():
            lines[ln.order_id].append(ln)
    customers: dict[str, dict[str, Any]] = {}
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for order, customer_id, group_buy_id, pickup_date in rows:
        entry = customers.setdefault(customer_id, {
            "customer_id": customer_id, "contact_name": order.fulfilment.get("contact_name"),
            "contact_phone": order.fulfilment.get("contact_phone"), "orders": []})
        items = [{"sku": ln.sku, "title": ln.title, "quantity": ln.quantity} for ln in lines[order.id]]
        for ln in lines[order.id]:
            totals[(ln.sku, ln.title)] += ln.quantity
        entry["orders"].append({
            "order_id": order.id, "number": order.number, "group_buy_id": group_buy_id,
            "pickup_code": order.pickup_code, "status": order.status, "payment_status": order.payment_status,
            "total": order.total, "items": items,
            "collected_at": order.completed_at if order.status == "completed" else None,
            "overdue": order.status in _OPEN_PICKUP and rules.is_overdue(pickup_date, now)})
    return {"pickup_point_id": point.id, "date": day,
            "customers": list(customers.values()),
            "totals": [{"sku": s, "title": t, "quantity": q} for (s, t), q in sorted(totals.items())]}


async def collect(*, session: AsyncSession, principal: Principal, pickup_point_id: str, code: str,
                  order_id: str | None) -> OrderView:
    """The leader (or merchant) hands a resident's goods over against the pickup code: the order completes."""
    point = await get_pickup_point(session=session, principal=principal, pickup_point_id=pickup_point_id)
    stmt = (select(Order).join(GroupBuyJoin, GroupBuyJoin.order_id == Order.id)
            .join(GroupBuy, GroupBuy.id == GroupBuyJoin.group_buy_id)
            .where(GroupBuyJoin.pickup_point_id == point.id, GroupBuy.status == "succeeded",
                   Order.pickup_code == code, Order.status.in_(_OPEN_PICKUP))
            .order_by(Order.id).with_for_update(of=Order))
    if order_id:
        stmt = stmt.where(Order.id == order_id)
    orders = (await session.scalars(stmt)).all()
    if not orders:
        raise InvalidInput("no order waiting at this point has that pickup code",
                           errors=[{"field": "pickup_code", "message": "does not match an order to collect here"}])
    if len(orders) > 1:
        raise Conflict("several orders here share this pickup code; send order_id as well",
                       extra={"order_ids": [o.id for o in orders]})
    order = orders[0]
    await fulfilment.collect_in_tx(session, order=order, code=code)
    out = await view(session, order=order)
    await session.commit()
    return out


async def commission_report(*, session: AsyncSession, principal: Principal, pickup_point_id: str, first: date,
                            last: date) -> dict[str, Any]:
    """The leader's commission for orders collected at the point between two Shanghai days (inclusive)."""
    if last < first:
        raise field_error("to", "must not be before from")
    point = await get_pickup_point(session=session, principal=principal, pickup_point_id=pickup_point_id)
    start, end = rules.shanghai_day_bounds(first, last)
    rows = (await session.execute(
        select(Order.total, Order.currency).join(GroupBuyJoin, GroupBuyJoin.order_id == Order.id)
        .where(GroupBuyJoin.pickup_point_id == point.id, Order.status == "completed",
               Order.completed_at >= as_utc(start), Order.completed_at < as_utc(end)))).all()
    totals = [r.total for r in rows]
    return {"pickup_point_id": point.id, "period_from": first, "period_to": last,
            "commission_rate": point.commission_rate, "orders_collected": len(totals),
            "collected_total": sum(totals), "commission": rules.commission(totals, point.commission_rate),
            "currency": rows[0].currency if rows else "CNY"}


# ---- local services --------------------------------------------------------------------------------------


def slot_view(slot: ServiceSlot) -> dict[str, Any]:
    out = {c: getattr(slot, c) for c in ("id", "merchant_id", "variant_id", "starts_at", "ends_at", "capacity",
                                         "booked")}
    out["remaining"] = max(slot.capacity - slot.booked, 0)
    return out


async def create_slot(*, session: AsyncSession, merchant_id: str, body: ServiceSlotIn) -> dict[str, Any]:
    """A bookable time slot of one of the merchant's services (a product in category `services`)."""
    info = await _variant(session, body.variant_id)
    if info is None or info.merchant_id != merchant_id or info.category != "services":
        raise field_error("variant_id", "not one of your products in category services")
    if as_utc(body.starts_at) <= utcnow():
        raise field_error("starts_at", "must be in the future")
    slot = ServiceSlot(id=new_id("slot"), merchant_id=merchant_id, variant_id=info.variant_id,
                       starts_at=as_utc(body.starts_at), ends_at=as_utc(body.ends_at), capacity=body.capacity,
                       booked=0, created_at=utcnow())
    session.add(slot)
    await events.emit(session, kind="service_slot.created", merchant_id=merchant_id,
                      payload={"id": slot.id, "variant_id": slot.variant_id})
    await session.commit()
    return slot_view(slot)


async def list_slots(*, session: AsyncSession, variant_id: str, limit: int) -> list[dict[str, Any]]:
    """Upcoming slots of a service, soonest first (public: residents pick one)."""
    slots = (await session.scalars(select(ServiceSlot).where(ServiceSlot.variant_id == variant_id,
                                                             ServiceSlot.starts_at > utcnow())
                                   .order_by(ServiceSlot.starts_at, ServiceSlot.id).limit(limit))).all()
    return [slot_view(s) for s in slots]


async def _release_cancelled_bookings(session: AsyncSession, slot_id: str) -> int:
    result = await session.execute(
        update(ServiceBooking)
        .where(ServiceBooking.slot_id == slot_id, ServiceBooking.status == "held",
               exists().where(Order.id == ServiceBooking.order_id, Order.status == "cancelled"))
        .values(status="released").returning(ServiceBooking.id)
        .execution_options(synchronize_session=False))
    return len(result.scalars().all())


async def _count_booking(session: AsyncSession, slot_id: str, freed: int) -> bool:
    delta = 1 - freed
    result: CursorResult[Any] = await session.execute(  # type: ignore[assignment]
        update(ServiceSlot)
        .where(ServiceSlot.id == slot_id, ServiceSlot.starts_at > utcnow(),
               ServiceSlot.booked + delta <= ServiceSlot.capacity)
        .values(booked=ServiceSlot.booked + delta)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


async def book_slot(*, session: AsyncSession, settings: Settings, principal: Principal, slot_id: str,
                    body: BookingIn, idempotency_key: str | None) -> tuple[int, dict[str, Any]]:
    """Book one place in a service slot: a `community` order (no stock: the slot's capacity is what is held)."""
    scope = principal.scope
    fingerprint = idempotency.request_hash("service-booking", slot_id, body.model_dump(mode="json"))
    if idempotency_key:
        found = await idempotency.lookup(session, scope=scope, key=idempotency_key, fingerprint=fingerprint)
        if found is not None:
            return found
    slot = await session.get(ServiceSlot, slot_id)
    if slot is None:
        raise NotFound("service slot", slot_id)
    refusal = rules.slot_refusal(starts_at=slot.starts_at, now=utcnow(), booked=0, capacity=slot.capacity)
    if refusal:
        raise Conflict(refusal)
    info = await _variant(session, slot.variant_id)
    if info is None or not info.sellable:
        raise Conflict("this service is no longer offered")
    fulfilment: dict[str, Any] = {"type": "service", "slot_id": slot.id,
                                  "starts_at": rfc3339(slot.starts_at),
                                  "ends_at": rfc3339(slot.ends_at)}
    if body.address:
        fulfilment["address"] = body.address.model_dump(exclude_none=True)
    if body.note:
        fulfilment["note"] = body.note
    draft = OrderDraft(
        merchant_id=slot.merchant_id, channel="community", payment_method=body.payment_method,
        currency=info.currency, fulfilment=fulfilment, customer_id=principal.subject_id, charge_shipping=False,
        stock_hold="none",
        lines=[DraftLine(info.variant_id, info.product_id, info.sku, info.title, info.category, info.returnable,
                         1, info.price, info.listing_revision_id)],
        extra_events=[("service_slot.booked", {"slot_id": slot.id})])
    return await pipeline.place(session, settings=settings, channel=_Booking(draft, slot_id=slot_id,
                                                                              customer_id=str(principal.subject_id)),
                                request=pipeline.Request(scope=scope, key=idempotency_key, fingerprint=fingerprint,
                                                         payment_method=body.payment_method,
                                                         hold_minutes=settings.shop_order_hold_minutes))


class _Booking:
    """A service booking as a placement channel: a place in the slot counted before the order (no stock is held),
    the booking recorded after it."""

    name = "community"
    lookup_first = False

    def __init__(self, draft: OrderDraft, *, slot_id: str, customer_id: str) -> None:
        self.draft, self.slot_id, self.customer_id = draft, slot_id, customer_id

    async def price(self, session: AsyncSession) -> Priced:
        return Priced([self.draft], writes_before=True, writes_after=True)

    async def before(self, session: AsyncSession, priced: Priced) -> None:
        if not await _count_booking(session, self.slot_id, 0):
            freed = await _release_cancelled_bookings(session, self.slot_id)
            if not freed or not await _count_booking(session, self.slot_id, freed):
                fresh = await session.get(ServiceSlot, self.slot_id, populate_existing=True)
                assert fresh is not None
                raise Conflict(rules.slot_refusal(starts_at=fresh.starts_at, now=utcnow(), booked=fresh.booked,
                                                  capacity=fresh.capacity) or "this slot is fully booked")

    async def after(self, session: AsyncSession, priced: Priced, orders: Sequence[OrderView]) -> None:
        await session.execute(insert(ServiceBooking).values(
            id=new_id("bkg"), slot_id=self.slot_id, merchant_id=self.draft.merchant_id, order_id=orders[0]["id"],
            customer_id=self.customer_id, status="held", created_at=utcnow()))

    def answer(self, priced: Priced, orders: list[OrderView], payment: dict[str, Any] | None
               ) -> dict[str, Any]:
        return {**orders[0], "slot_id": self.slot_id, "payment": payment}
