"""Money in and out of orders: payments recorded and confirmed, refunds owed and carried out, credit terms.

Payment provider calls never happen inside a transaction: refunds are recorded as `pending` and carried out
after the commit by `settle_refunds` (and retried by a job)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core import events
from app.core.auth import Principal
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict
from app.core.ids import new_id
from app.core.logging import get_logger
from app.orders.access import get_visible, merchant_only
from app.orders.lifecycle import move
from app.orders.models import (
    Order,
    Payment,
    ProcessedWebhook,
    Refund,
    ReturnRequest,
)
from app.orders.returns.history import return_step
from app.orders.views import OrderView, view
from app.payments import base as payments_base
from app.payments import registry
from app.payments.accounts import unseal
from app.payments.base import Combining, Outcome, Paid, RefundEnded, RefundQuerying, Settling
from app.payments.models import PaymentDiscrepancy

log = get_logger("app.orders")


async def record_payment(session: AsyncSession, *, payment_id: str, checkout_id: str, provider_name: str,
                         provider_ref: str | None, amount: int, currency: str) -> None:
    """The payment a checkout started (before its transaction); its orders carry `payment_id`."""
    await session.execute(insert(Payment).values(
        id=payment_id, checkout_id=checkout_id, provider=provider_name, provider_ref=provider_ref, amount=amount,
        currency=currency, status="pending", created_at=utcnow()))



async def record_refund(session: AsyncSession, order: Order, amount: int, reason: str) -> str | None:
    """Owe `amount` back to the payer: a pending refund row, carried out after commit."""
    if amount <= 0:
        return None
    if order.refunded + amount > order.total:  # money back never exceeds what the order took
        raise Conflict(f"a refund of {amount} fen would take the order's refunds past its total of {order.total} fen")
    refund_id = new_id("ref")
    await session.execute(insert(Refund).values(
        id=refund_id, order_id=order.id, merchant_id=order.merchant_id, payment_id=order.payment_id,
        provider=order.payment_method, amount=amount, reason=reason, status="pending", created_at=utcnow()))
    order.refunded += amount
    order.payment_status = "refunded" if order.refunded >= order.total else "partially_refunded"
    await events.emit(session, kind="refund.created", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "refund_id": refund_id, "amount": amount, "reason": reason})
    return refund_id



async def settle_refunds(session: AsyncSession, *, settings: Settings, refund_ids: Sequence[str]) -> bool:
    """Carry out pending refunds through their provider, after the commit that recorded them.

    Returns True when all succeeded. A failure leaves the refund pending for `retry_refunds`.
    """
    ok = True
    for refund_id in refund_ids:
        refund = await session.get(Refund, refund_id)
        if refund is None or refund.status != "pending":
            continue
        payment_ref = account = paid = None
        if refund.payment_id:
            payment = await session.get(Payment, refund.payment_id)
            if payment is not None:
                payment_ref, account, paid = payment.provider_ref, payment.account, payment.amount
        await session.commit()  # no transaction open while we talk to the provider
        try:
            gateway = registry.gateway(settings, refund.provider)
            ref = await gateway.refund(provider_ref=payment_ref, amount=refund.amount, refund_id=refund.id,
                                       account=unseal(settings, account), paid=paid)
        except Exception as exc:
            log.warning("refund_failed", refund_id=refund_id, error=str(exc))
            ok = False
            continue
        if registry.provider(refund.provider).refunds_notified:
            # taken, not yet paid back: its notification (or `retry_refunds`' query) ends it
            await session.execute(update(Refund).where(Refund.id == refund_id, Refund.status == "pending")
                                  .values(status="processing", provider_ref=ref))
            await session.commit()
            continue
        settled = await session.execute(update(Refund).where(Refund.id == refund_id, Refund.status == "pending")
                                        .values(status="succeeded", provider_ref=ref, settled_at=utcnow()))
        if settled.rowcount != 1:  # type: ignore[attr-defined]  # another worker settled it meanwhile
            await session.commit()
            continue
        await _refund_succeeded(session, refund)
        await session.commit()
    return ok


async def _refund_succeeded(session: AsyncSession, refund: Refund) -> None:
    """The money of `refund` went back: its return is refunded, and listeners hear it."""
    if refund.reason == "return":
        await _return_refunded(session, refund.id)
    await events.emit(session, kind="refund.succeeded", merchant_id=refund.merchant_id,
                      payload={"refund_id": refund.id, "order_id": refund.order_id, "amount": refund.amount})


async def refund_settled(session: AsyncSession, settings: Settings, notice: RefundEnded) -> Outcome:
    """A provider says how a refund ended (its notification or a query), once per refund.

    Succeeded: the refund is settled (a return's refund makes the return refunded). Failed: the refund is marked
    failed and the merchant hears it (`refund.failed`); when the money stayed with the merchant (closed) its amount
    is given back to the order, which may then be refunded again, else (abnormal) it is still owed to the buyer and
    handled by hand. An amount other than the refund's settles nothing.
    """
    refund = await session.scalar(select(Refund).where(Refund.id == notice.refund_id,
                                                       Refund.provider == notice.provider).with_for_update())
    if refund is None:
        await session.commit()
        log.warning("refund_unknown", provider=notice.provider, refund_id=notice.refund_id)
        return "unknown"
    if notice.amount is not None and notice.amount != refund.amount:
        log.error("refund_amount_mismatch", refund_id=refund.id, expected=refund.amount, got=notice.amount)
        await session.rollback()
        return "mismatch"
    try:
        await session.execute(insert(ProcessedWebhook).values(id=new_id("whk"), provider=notice.provider,
                                                              event_id=notice.event_id, kind=notice.detail[:80]
                                                              or "refund", created_at=utcnow()))
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return "duplicate"
    if refund.status not in ("pending", "processing"):
        await session.rollback()
        return "duplicate"
    now = utcnow()
    refund.provider_ref = notice.provider_ref or refund.provider_ref
    refund.settled_at = now
    if notice.succeeded:
        refund.status = "succeeded"
        await _refund_succeeded(session, refund)
    else:
        refund.status = "failed"
        if notice.released:
            order = await session.scalar(select(Order).where(Order.id == refund.order_id).with_for_update())
            assert order is not None  # orders are never deleted
            order.refunded = max(order.refunded - refund.amount, 0)
            order.payment_status = ("paid" if order.refunded == 0 else
                                    "refunded" if order.refunded >= order.total else "partially_refunded")
            order.updated_at = now
        await events.emit(session, kind="refund.failed", merchant_id=refund.merchant_id, payload={
            "refund_id": refund.id, "order_id": refund.order_id, "amount": refund.amount,
            "provider_status": notice.detail, "released": notice.released})
    await session.commit()
    return "processed"


async def _return_refunded(session: AsyncSession, refund_id: str) -> None:
    """The provider paid a return's refund: the return is refunded."""
    ret = await session.scalar(select(ReturnRequest).where(ReturnRequest.refund_id == refund_id,
                                                           ReturnRequest.status == "refund_pending"))
    if ret is not None:
        ret.refunded_at = utcnow()
        await return_step(session, ret, "refunded", "system", "refund paid through the payment method")


async def retry_refunds(factory: async_sessionmaker[AsyncSession], settings: Settings, limit: int = 100) -> int:
    """Job: retry refunds left pending by a provider failure, and ask the providers how the refunds they took
    ended when no notification came (after a minute). Returns how many pending refunds were retried."""
    async with factory() as session:
        ids = list((await session.scalars(select(Refund.id).where(Refund.status == "pending")
                                          .order_by(Refund.id).limit(limit))).all())
        await session.commit()
        if ids:
            await settle_refunds(session, settings=settings, refund_ids=ids)
        await _ask_about_refunds(session, settings, limit)
    return len(ids)


async def _ask_about_refunds(session: AsyncSession, settings: Settings, limit: int) -> None:
    """The refunds a provider took whose notification has not come: asked about, ended as a notification would."""
    taken = (await session.execute(
        select(Refund.id, Refund.provider, Payment.account).join(Payment, Payment.id == Refund.payment_id)
        .where(Refund.status == "processing", Refund.created_at <= utcnow() - timedelta(minutes=1))
        .order_by(Refund.id).limit(limit))).all()
    await session.commit()
    for refund_id, provider_name, account in taken:
        found = registry.provider(provider_name).gateway(settings) if provider_name in registry.PROVIDERS else None
        if not isinstance(found, RefundQuerying):
            continue
        try:
            ended = await found.refund_outcome(refund_id=refund_id, account=unseal(settings, account))
        except Exception as exc:
            log.warning("refund_query_failed", refund_id=refund_id, error=str(exc))
            continue
        if ended is not None:
            await refund_settled(session, settings, ended)


def install() -> None:
    """Payment and refund notifications reach the order core through `payment_succeeded` and `refund_settled` (the
    payments package never imports orders)."""
    payments_base.install(paid=payment_succeeded, refund_ended=refund_settled)


async def payment_succeeded(session: AsyncSession, settings: Settings, notice: Paid) -> Outcome:
    """A provider says the money arrived: the payment's orders become paid. Each event id counts once.

    Amounts come from our records: a notice for another amount than the payment asked is recorded for the
    operator (`payment_discrepancy`, once per event) and marks nothing paid. An order cancelled meanwhile (its hold
    expired) is refunded at once: money is never kept for goods that are no longer reserved.
    """
    provider_name, event_id, provider_ref = notice.provider, notice.event_id, notice.provider_ref
    found = await session.scalar(select(Payment.id).where(Payment.provider == provider_name,
                                                           Payment.provider_ref == provider_ref))
    if found is None:
        await session.commit()
        log.warning("payment_unknown", provider=provider_name, provider_ref=provider_ref, event_id=event_id)
        return "unknown"
    try:
        await session.execute(insert(ProcessedWebhook).values(id=new_id("whk"), provider=provider_name,
                                                              event_id=event_id, kind=notice.event_kind,
                                                              created_at=utcnow()))
        await session.flush()
    except IntegrityError:
        await session.rollback()
        return "duplicate"
    payment = await session.scalar(select(Payment).where(Payment.id == found).with_for_update())
    assert payment is not None  # payments are never deleted
    if notice.amount_received is not None and notice.amount_received != payment.amount:
        expected = payment.amount
        await session.rollback()  # the event stays unprocessed: a corrected notice may still come
        await _record_discrepancy(session, notice, found, expected)
        return "mismatch"
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
            await move(session, order, "pay")  # emits order.paid
            # The delivery promise runs from payment: move it on by the time the buyer took to pay.
            waited = now - as_utc(order.created_at)
            if order.promised_ship_by is not None and order.promised_delivery_by is not None:
                order.promised_ship_by = as_utc(order.promised_ship_by) + waited
                order.promised_delivery_by = as_utc(order.promised_delivery_by) + waited
            order.hold_expires_at = None
        elif order.status == "cancelled":
            refund_id = await record_refund(session, order, order.total, "paid_after_cancel")
            if refund_id:
                refunds.append(refund_id)
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=refunds)
    return "processed"


async def _record_discrepancy(session: AsyncSession, notice: Paid, payment_id: str, expected: int) -> None:
    """Keep a provider's amount that differs from ours for the operator, once per event."""
    log.error("payment_amount_mismatch", payment_id=payment_id, expected=expected, got=notice.amount_received)
    try:
        await session.execute(insert(PaymentDiscrepancy).values(
            id=new_id("pdi"), provider=notice.provider, event_id=notice.event_id, payment_id=payment_id,
            provider_ref=notice.provider_ref, kind="amount", expected=expected,
            received=notice.amount_received, created_at=utcnow()))
        await events.emit(session, kind="payment.mismatch", merchant_id=None, payload={
            "payment_id": payment_id, "provider": notice.provider, "expected": expected,
            "received": notice.amount_received})
        await session.commit()
    except IntegrityError:  # the same event again
        await session.rollback()


async def settle_lost_payments(factory: async_sessionmaker[AsyncSession], settings: Settings,
                               limit: int = 100) -> int:
    """Job: ask the providers about pending payments whose notification has not come (after a minute, for a day),
    and settle the paid ones as their notification would have. Returns how many were settled."""
    settled = 0
    async with factory() as session:
        now = utcnow()
        # abandoned payments are closed when their hold expires; a day bounds the ones whose closing failed
        oldest = now - timedelta(minutes=settings.shop_order_hold_minutes) - timedelta(days=1)
        pending = (await session.execute(
            select(Payment.provider, Payment.provider_ref, Payment.account, Payment.group_ref)
            .where(Payment.status == "pending", Payment.provider_ref.is_not(None),
                   Payment.created_at <= now - timedelta(minutes=1), Payment.created_at >= oldest)
            .order_by(Payment.created_at).limit(limit))).all()
        await session.commit()
        asked: set[str] = set()
        for provider_name, provider_ref, account, group_ref in pending:
            found = registry.provider(provider_name).gateway(settings) if provider_name in registry.PROVIDERS else None
            if group_ref is not None and group_ref in asked:
                continue
            try:
                if group_ref is not None and isinstance(found, Combining):  # one question for all its shares
                    asked.add(group_ref)
                    notices = await found.query_combined(group_ref=group_ref)
                elif isinstance(found, Settling):
                    notice = await found.query(provider_ref=provider_ref, account=unseal(settings, account))
                    notices = [notice] if notice is not None else []
                else:
                    continue
            except Exception as exc:
                log.warning("payment_query_failed", provider=provider_name, provider_ref=provider_ref, error=str(exc))
                continue
            for notice in notices:
                if await payment_succeeded(session, settings, notice) == "processed":
                    settled += 1
    return settled


async def cancel_payment_if_unused(session: AsyncSession, settings: Settings, payment_id: str) -> None:
    """Give up a payment none of whose orders is open any more; a share of a combined payment only once every
    share's orders are cancelled (the provider closes the combined payment as a whole)."""
    payment = await session.get(Payment, payment_id)
    if payment is None:
        await session.commit()
        return
    shares = [payment] if payment.group_ref is None else list((await session.scalars(
        select(Payment).where(Payment.group_ref == payment.group_ref).order_by(Payment.id))).all())
    ids = [p.id for p in shares]
    open_orders = await session.scalar(select(Order.id).where(Order.payment_id.in_(ids),
                                                             Order.status != "cancelled").limit(1))
    await session.commit()
    if open_orders or any(p.status != "pending" or not p.provider_ref for p in shares):
        return
    gateway = registry.gateway(settings, payment.provider)
    try:
        if payment.group_ref is not None and isinstance(gateway, Combining):
            await gateway.cancel_combined(group_ref=payment.group_ref, parts=[
                (str(p.provider_ref), unseal(settings, p.account) or "") for p in shares])
        else:
            await gateway.cancel(provider_ref=str(payment.provider_ref), account=unseal(settings, payment.account))
    except Exception as exc:
        log.warning("payment_cancel_failed", payment_id=payment_id, error=str(exc))
        return
    await session.execute(update(Payment).where(Payment.id.in_(ids), Payment.status == "pending")
                          .values(status="cancelled"))
    await session.commit()



async def mark_paid(session: AsyncSession, *, principal: Principal, order_id: str) -> OrderView:
    """The merchant records that a buyer paid an order bought on credit terms.

    The buyer's open credit is derived from its unpaid terms orders, so it grows back by this order's total.
    """
    merchant_only(principal)
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
