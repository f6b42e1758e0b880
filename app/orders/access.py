"""Who may see an order, and the caller's own orders."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.errors import Forbidden, NotFound
from app.core.pagination import keyset_page
from app.orders.models import (
    Order,
    OrderLine,
    Shipment,
)
from app.orders.views import OrderView, order_view, row


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
                   before: str | None, limit: int) -> tuple[list[OrderView], str | None]:
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
            lines[ln.order_id].append(row(ln))
        for s in (await session.scalars(select(Shipment).where(Shipment.order_id.in_(ids)))).all():
            ships[s.order_id].append(row(s))
    return [order_view(row(o), lines[o.id], ships[o.id]) for o in orders], last



def merchant_only(principal: Principal) -> None:
    if principal.kind not in ("merchant", "admin"):
        raise Forbidden("only the merchant can do this")

