"""Cancelling orders before they ship: by a person, or when an unpaid order's hold runs out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core import events
from app.core.auth import Principal
from app.core.clock import utcnow
from app.core.errors import Conflict, Forbidden
from app.db import dialect_of
from app.inventory import service as inventory_service
from app.orders import contract, states
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


def _paid(order: Order) -> bool:
    return order.payment_status in ("paid", "partially_refunded")


async def cancel(session: AsyncSession, *, settings: Settings, principal: Principal, order_id: str,
                 reason: str, code: str | None = None, refund_now: bool = False) -> OrderView:
    """Cancel before shipping (customer, merchant or admin); stock goes back, money is refunded.

    A paid order is a formed contract (C15): its merchant cancels only under a published code, at once with the
    refund counted against its credit (`refund_now`), or else as a proposal the buyer accepts or declines."""
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if principal.kind not in ("customer", "merchant", "admin", "buyer"):
        raise Forbidden("this token cannot cancel orders")
    if principal.kind == "merchant":
        decision = contract.merchant_cancel(paid=_paid(order), code=code, refund_now=refund_now)
        if decision == "propose":
            return await _propose(session, order=order, code=str(code), note=reason)
        if decision == "cancel_and_count":
            order.seller_cancel_code = code
            reason = f"{code}: {reason}"
    elif principal.kind in ("customer", "buyer") and order.cancel_proposal_code:
        reason = f"buyer accepted {order.cancel_proposal_code}: {reason}"
    refund_id = await cancel_in_tx(session, order=order, reason=reason)
    out = await view(session, order=order)
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=[refund_id] if refund_id else [])
    return out


async def _propose(session: AsyncSession, *, order: Order, code: str, note: str) -> OrderView:
    """The merchant proposes cancelling a paid order; nothing changes until the buyer accepts."""
    states.next_status(order.status, "cancel")  # a shipped order is a return now, not a cancellation
    if order.customer_id is None and order.buyer_id is None:
        raise Conflict("a guest's paid order cannot wait for the buyer's answer: set `refund_now`")
    order.cancel_proposal_code, order.cancel_proposed_at = code, utcnow()
    order.updated_at = utcnow()
    await events.emit(session, kind="order.cancel_proposed", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "code": code, "note": note[:200]})
    out = await view(session, order=order)
    await session.commit()
    return out


async def decline_proposal(session: AsyncSession, *, principal: Principal, order_id: str) -> OrderView:
    """The buyer declines the merchant's proposal to cancel: the order goes on as agreed."""
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if principal.kind not in ("customer", "buyer"):
        raise Forbidden("only the order's buyer answers a cancellation proposal")
    if order.cancel_proposal_code is None:
        raise Conflict("the merchant has not proposed to cancel this order")
    code, order.cancel_proposal_code, order.cancel_proposed_at = order.cancel_proposal_code, None, None
    order.updated_at = utcnow()
    await events.emit(session, kind="order.cancel_declined", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "code": code})
    out = await view(session, order=order)
    await session.commit()
    return out


async def accept_proposal(session: AsyncSession, *, settings: Settings, principal: Principal,
                          order_id: str) -> OrderView:
    """The buyer accepts the merchant's proposal: the order is cancelled and refunded; it does not count
    against the merchant's credit."""
    order = await get_visible(session, principal=principal, order_id=order_id)
    if principal.kind not in ("customer", "buyer"):
        raise Forbidden("only the order's buyer answers a cancellation proposal")
    if order.cancel_proposal_code is None:
        raise Conflict("the merchant has not proposed to cancel this order")
    return await cancel(session, settings=settings, principal=principal, order_id=order_id, reason="accepted")



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

