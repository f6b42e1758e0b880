"""Getting the goods to the buyer: shipped, delivered, completed, or collected at a store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import events
from app.core.auth import Principal
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden, InvalidInput, field_error
from app.core.ids import new_id
from app.core.security import constant_time_equals
from app.inventory import service as inventory_service
from app.logistics import carriers
from app.orders.access import get_visible, merchant_only
from app.orders.lifecycle import move
from app.orders.models import (
    Order,
    Shipment,
)
from app.orders.states import InvalidTransition
from app.orders.views import OrderView, view


async def ship(session: AsyncSession, *, principal: Principal, order_id: str, carrier: str,
               tracking_no: str) -> OrderView:
    """Hand the goods to a carrier: stock leaves the shelf (on_hand and reserved both drop)."""
    merchant_only(principal)
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    refusal = carriers.tracking_refusal(carrier, tracking_no)
    if refusal is not None:
        raise field_error(*refusal)
    if order.fulfilment.get("type") == "pickup":
        raise Conflict("pick-up orders are collected in store, not shipped")
    await move(session, order, "ship", shipped_at=utcnow())
    await inventory_service.fulfil_order(session, order_id=order.id)
    await session.execute(insert(Shipment).values(id=new_id("shp"), order_id=order.id, merchant_id=order.merchant_id,
                                                  carrier=carrier, tracking_no=carriers.normalise(tracking_no),
                                                  created_at=utcnow()))
    out = await view(session, order=order)
    await session.commit()
    return out


async def deliver(session: AsyncSession, *, principal: Principal, order_id: str) -> OrderView:
    """The carrier delivered; cash on delivery is paid now. The return window starts."""
    merchant_only(principal)
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    await _delivered(session, order, at=utcnow())
    out = await view(session, order=order)
    await session.commit()
    return out


async def _delivered(session: AsyncSession, order: Order, *, at: datetime, **stamps: Any) -> None:
    """The goods reached the buyer at `at`: cash on delivery is paid now, and the return window starts."""
    await move(session, order, "deliver", delivered_at=at, **stamps)
    if order.payment_method == "cod" and order.payment_status == "unpaid":
        order.payment_status, order.paid_at = "paid", at
        await events.emit(session, kind="order.paid", merchant_id=order.merchant_id,
                          payload={"order_id": order.id, "method": "cod"})


SIGNED_SOURCES = ("carrier", "buyer", "auto")


async def sign_in_tx(session: AsyncSession, *, order: Order, at: datetime, source: str) -> bool:
    """Record that the parcel was signed for (C28) inside the caller's transaction: with courier delivery the
    signing time is the delivery time, so the order is delivered at `at` and the 7-day return window starts the
    next Shanghai day (C29). Only a shipped order is signed; returns whether this call signed it."""
    assert source in SIGNED_SOURCES
    if order.status != "shipped":
        return False
    await _delivered(session, order, at=at, signed_at=at, signed_source=source)
    return True


async def confirm_receipt(session: AsyncSession, *, principal: Principal, order_id: str) -> OrderView:
    """The order's customer says the parcel arrived (确认收货): signed for by the buyer, now."""
    if principal.kind not in ("customer", "buyer"):
        raise Forbidden("only the order's buyer confirms receipt")
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if order.signed_at is not None:
        raise Conflict(f"already signed for ({order.signed_source})", extra={"order_status": order.status})
    if not await sign_in_tx(session, order=order, at=utcnow(), source="buyer"):
        raise InvalidTransition(order.status, "confirm-receipt")
    out = await view(session, order=order)
    await session.commit()
    return out


async def complete(session: AsyncSession, *, principal: Principal, order_id: str) -> OrderView:
    """The customer confirms receipt (or the merchant closes a delivered order)."""
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if principal.kind not in ("customer", "merchant", "admin", "buyer"):
        raise Forbidden("this token cannot complete orders")
    await move(session, order, "complete", completed_at=utcnow())
    out = await view(session, order=order)
    await session.commit()
    return out


async def collect(session: AsyncSession, *, principal: Principal, order_id: str, code: str) -> OrderView:
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
    await move(session, order, "collect", completed_at=now, delivered_at=now)
    await inventory_service.fulfil_order(session, order_id=order.id)
    if order.payment_status == "unpaid":
        order.payment_status, order.paid_at = "paid", now
        await events.emit(session, kind="order.paid", merchant_id=order.merchant_id,
                          payload={"order_id": order.id, "method": order.payment_method})

