"""Cancelling orders before they ship: by a person, or when an unpaid order's hold runs out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.auth import Principal
from app.core.clock import utcnow
from app.core.errors import Forbidden
from app.db import dialect_of
from app.inventory import service as inventory_service
from app.orders.access import get_visible
from app.orders.invoices import service as invoices_service
from app.orders.lifecycle import cancelled, move, release_coupon
from app.orders.models import (
    Order,
)
from app.orders.payments import cancel_payment_if_unused, record_refund, settle_refunds
from app.orders.views import OrderView, view


async def cancel_in_tx(session: AsyncSession, *, order: Order, reason: str, event: str = "cancel") -> str | None:
    """Cancel inside the caller's transaction: release stock, owe back what was paid. Returns a refund id."""
    await move(session, order, event, cancelled_at=utcnow(), cancel_reason=reason[:200])
    await inventory_service.release_order(session, order_id=order.id, reason=event)
    await cancelled(session, order)
    paid = order.total - order.refunded if order.payment_status in ("paid", "partially_refunded") else 0
    await release_coupon(session, order=order)
    refund_id = await record_refund(session, order, paid, "cancel")
    if refund_id is not None:  # refunded after invoicing: a red invoice reverses what is left of it (C40)
        await invoices_service.credit_all(session, order=order)
    return refund_id


async def cancel(session: AsyncSession, *, settings: Settings, principal: Principal, order_id: str,
                 reason: str) -> OrderView:
    """Cancel before shipping (customer, merchant or admin); stock goes back, money is refunded."""
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if principal.kind not in ("customer", "merchant", "admin", "buyer"):
        raise Forbidden("this token cannot cancel orders")
    refund_id = await cancel_in_tx(session, order=order, reason=reason)
    out = await view(session, order=order)
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=[refund_id] if refund_id else [])
    return out



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
            await cancel_payment_if_unused(session, settings, payment_id)
    return len(orders)

