"""Returns (C29–C34): the 7-day no-reason return and quality returns, refunded on request or on receipt of the
goods; the seller may refuse goods that are not intact."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog import service as catalog_service
from app.config import Settings
from app.core import events
from app.core.auth import Principal
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.core.workdays import working_days_deadline
from app.inventory import service as inventory_service
from app.merchants import service as merchants_service
from app.orders import rules
from app.orders.access import get_visible, merchant_only
from app.orders.invoices import service as invoices_service
from app.orders.lifecycle import release_coupon
from app.orders.models import (
    Order,
    OrderLine,
    ReturnEvent,
    ReturnRequest,
)
from app.orders.payments import record_refund, settle_refunds
from app.orders.returns.history import return_step
from app.orders.views import iso


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
    items, amount, coupon = _take_back(order_lines, wanted)
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
        await return_step(session, ret, "awaiting_goods", "customer", "return requested; send the goods to the "
                                                                       "seller's return address")
    else:
        await return_step(session, ret, "requested", "customer", "return requested; refunded at once")
        refund_id = await _accept_return(session, order=order, ret=ret, order_lines=list(order_lines.values()),
                                         actor="customer", note="refund on request (the seller's promise)")
    await events.emit(session, kind="order.returned" if refund_id or ret.status == "refunded"
                      else "order.return_requested", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "return_id": ret.id, "amount": amount, "kind": kind})
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=[refund_id] if refund_id else [])
    return (await _return_views(session, order_id=order.id, currency=order.currency, return_ids=[ret.id]))[0]


async def merchant_return(session: AsyncSession, *, settings: Settings, principal: Principal, order_id: str,
                          lines: Sequence[tuple[str, int]], reason: str) -> dict[str, Any]:
    """The seller takes some units back and refunds their share of what was paid (after-sales by the seller:
    a partial refund from the console). Unlike the buyer's no-reason return there is no 7-day window: the
    seller may always refund more than the law asks. The units go back on hand; the refund goes through the
    original payment method, split over the payment and coupon legs exactly as a buyer's return is."""
    merchant_only(principal)
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    if order.status not in ("shipped", "delivered", "completed"):
        raise ReturnRefused("only shipped or delivered orders are refunded by units; cancel an order before it ships",
                            errors=[{"field": "order", "message": f"order is {order.status}"}])
    if order.payment_status not in ("paid", "partially_refunded"):
        raise ReturnRefused("nothing was paid for this order yet",
                            errors=[{"field": "order", "message": f"payment is {order.payment_status}"}])
    order_lines = {ln.variant_id: ln for ln in await _lines_of(session, order.id)}
    wanted: dict[str, int] = defaultdict(int)
    errors: list[dict[str, Any]] = []
    for i, (variant_id, quantity) in enumerate(lines):
        if variant_id not in order_lines:
            errors.append({"field": f"lines.{i}.variant_id", "message": "not in this order"})
        elif quantity < 1:
            errors.append({"field": f"lines.{i}.quantity", "message": "at least 1"})
        else:
            wanted[variant_id] += quantity
    for i, (variant_id, _) in enumerate(lines):
        line = order_lines.get(variant_id)
        if line is not None and wanted[variant_id] > line.quantity - line.returned_quantity:
            errors.append({"field": f"lines.{i}.quantity",
                           "message": f"only {line.quantity - line.returned_quantity} can still be refunded"})
    if not lines:
        errors.append({"field": "lines", "message": "choose at least one unit"})
    if errors:
        raise ReturnRefused("; ".join(sorted({e["message"] for e in errors})), errors=errors)
    items, amount, coupon = _take_back(order_lines, wanted)
    now = utcnow()
    ret = ReturnRequest(
        id=new_id("ret"), order_id=order.id, merchant_id=order.merchant_id, reason=reason[:500],
        lines={"items": items}, amount=amount, coupon_amount=coupon, kind="seller", refund_on="request",
        shipping_payer="seller", return_address=None, requested_at=now, received_at=now, created_at=now,
        status="refund_pending")
    session.add(ret)
    await session.flush()
    await return_step(session, ret, "requested", "merchant", "refunded by the seller")
    refund_id = await _accept_return(session, order=order, ret=ret, order_lines=list(order_lines.values()),
                                     actor="merchant", note="refund by the seller")
    await events.emit(session, kind="order.returned", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "return_id": ret.id, "amount": ret.amount, "kind": "seller"})
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=[refund_id] if refund_id else [])
    return (await _return_views(session, order_id=order.id, currency=order.currency, return_ids=[ret.id]))[0]


async def _accept_return(session: AsyncSession, *, order: Order, ret: ReturnRequest, order_lines: Sequence[OrderLine],
                         actor: str, note: str) -> str | None:
    """The return is accepted: owe its refund (never more than is left of what was paid), put goods that came
    back on hand, and give the coupon use back when this completes the return of the whole order. Never commits.
    Returns the refund id (None when nothing is owed in money)."""
    left = max(order.total - order.refunded, 0)
    ret.amount = min(ret.amount, left)
    await _restock_return(session, ret)
    refund_id = await record_refund(session, order, ret.amount, "return")
    ret.refund_id = refund_id
    if refund_id is not None:  # money back after invoicing: a red invoice for the refunded goods (C40)
        await invoices_service.credit_refund(session, order=order, items=ret.lines["items"], return_id=ret.id)
    await return_step(session, ret, "refund_pending", actor, note)
    if refund_id is None:
        ret.refunded_at = utcnow()
        await return_step(session, ret, "refunded", "system", "nothing to pay back in money")
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
    await _label_if_not_as_new(session, ret)


async def _label_if_not_as_new(session: AsyncSession, ret: ReturnRequest) -> None:
    """Goods back on hand and not as new sell again only under a condition label (C35): their SKUs wait for one.
    Restocking and receipt come in either order (refund on request restocks before the goods arrive)."""
    if ret.goods_condition == "not_as_new" and ret.restocked_at is not None:
        await catalog_service.mark_returned(session, variant_ids=[i["variant_id"] for i in ret.lines["items"]])


async def _merchant_return(session: AsyncSession, *, principal: Principal, order_id: str,
                           return_id: str) -> tuple[Order, ReturnRequest]:
    """The merchant's order and one of its returns, both locked (order first, as everywhere); 404 otherwise."""
    merchant_only(principal)
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    ret = await session.get(ReturnRequest, return_id, with_for_update=True, populate_existing=True)
    if ret is None or ret.order_id != order.id:
        raise NotFound("return", return_id)
    return order, ret


async def _lines_of(session: AsyncSession, order_id: str) -> list[OrderLine]:
    return list((await session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)
                                       .order_by(OrderLine.id).with_for_update())).all())


async def receive_return(session: AsyncSession, *, principal: Principal, order_id: str, return_id: str,
                         goods_condition: str = "as_new") -> dict[str, Any]:
    """The seller has the goods back, as new or not: the refund falls due 7 days later (paid by a job unless
    rejected)."""
    order, ret = await _merchant_return(session, principal=principal, order_id=order_id, return_id=return_id)
    if ret.received_at is not None or ret.status == "rejected":
        raise Conflict(f"this return is {ret.status}; its goods were already received")
    now = utcnow()
    ret.received_at = now
    ret.goods_condition = goods_condition
    await _label_if_not_as_new(session, ret)  # already restocked (refund on request); else when restocked
    if ret.status == "awaiting_goods":
        ret.refund_due_at = now + timedelta(days=rules.REFUND_DAYS_AFTER_RECEIPT)
        await return_step(session, ret, "received", principal.kind, "goods received; refund due by "
                           f"{iso(ret.refund_due_at)} unless rejected with a coded reason and photos")
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
    await return_step(session, ret, "rejected", principal.kind, f"{code}: {note}" if note else code)
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
                                          "at": iso(ev.created_at)})
    now = utcnow()
    out = []
    for r in rets:
        escalated, alert = rules.return_flags(status=r.status, requested_at=r.requested_at,
                                              received_at=r.received_at, now=now)
        out.append({
            "id": r.id, "order_id": r.order_id, "status": r.status, "kind": r.kind, "amount": r.amount,
            "coupon_amount": r.coupon_amount, "currency": currency, "lines": r.lines["items"], "reason": r.reason,
            "shipping_payer": r.shipping_payer, "refund_on": r.refund_on, "return_address": r.return_address,
            "created_at": iso(r.created_at), "requested_at": iso(r.requested_at),
            "received_at": iso(r.received_at), "goods_condition": r.goods_condition,
            "refund_due_at": iso(r.refund_due_at), "refunded_at": iso(r.refunded_at),
            "rejected_at": iso(r.rejected_at), "rejection_code": r.rejection_code,
            "evidence": list((r.evidence or {}).get("photos", [])), "escalated": escalated, "alert": alert,
            "disputed_at": iso(r.disputed_at), "dispute_reason": r.dispute_reason,
            "mediation_due_at": iso(r.mediation_due_at), "mediation_outcome": r.mediation_outcome,
            "mediation_note": r.mediation_note, "history": history[r.id]})
    return out


def _take_back(order_lines: Mapping[str, OrderLine], wanted: Mapping[str, int]
               ) -> tuple[list[dict[str, Any]], int, int]:
    """Count units as returned on their order lines and split what they cost over the payment and the coupon
    (exact to the fen across partial returns). Returns the return's items and its payment and coupon amounts."""
    items: list[dict[str, Any]] = []
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
    return items, amount, coupon


# ---- mediation of disputed returns (C35: R7 art. 25) -----------------------------------------------------

async def dispute_return(session: AsyncSession, *, principal: Principal, order_id: str, return_id: str,
                         reason: str, working_days: int) -> dict[str, Any]:
    """The buyer disputes the seller's rejection: the return joins the platform's mediation queue, to be decided
    within `working_days` working days."""
    if principal.kind != "customer":
        raise Forbidden("only the order's customer disputes a rejected return")
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    ret = await session.get(ReturnRequest, return_id, with_for_update=True, populate_existing=True)
    if ret is None or ret.order_id != order.id:
        raise NotFound("return", return_id)
    if ret.status != "rejected" or ret.disputed_at is not None:
        raise Conflict(f"only a rejected return can be disputed, once; this one is {ret.status}")
    now = utcnow()
    ret.disputed_at, ret.dispute_reason = now, reason
    ret.mediation_due_at = working_days_deadline(now, working_days)
    await return_step(session, ret, "disputed", principal.kind, reason)
    await events.emit(session, kind="order.return_disputed", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "return_id": ret.id})
    await session.commit()
    return (await _return_views(session, order_id=order.id, currency=order.currency, return_ids=[ret.id]))[0]


async def mediation_queue(session: AsyncSession, *, limit: int) -> list[dict[str, Any]]:
    """Disputed returns waiting for the platform, oldest first, each with its deadline and whether it passed."""
    rows = (await session.execute(
        select(ReturnRequest, Order.number, Order.currency).join(Order, Order.id == ReturnRequest.order_id)
        .where(ReturnRequest.status == "disputed").order_by(ReturnRequest.disputed_at, ReturnRequest.id)
        .limit(limit))).all()
    now = utcnow()
    return [{"return_id": r.id, "order_id": r.order_id, "order_number": number, "merchant_id": r.merchant_id,
             "amount": r.amount, "currency": currency, "reason": r.reason, "rejection_code": r.rejection_code,
             "evidence": list((r.evidence or {}).get("photos", [])), "dispute_reason": r.dispute_reason,
             "disputed_at": iso(r.disputed_at), "mediation_due_at": iso(r.mediation_due_at),
             "overdue": r.mediation_due_at is not None and now > as_utc(r.mediation_due_at)}
            for r, number, currency in rows]


async def mediate_return(session: AsyncSession, *, settings: Settings, actor: str, return_id: str, refund: bool,
                         note: str) -> dict[str, Any]:
    """The platform decides a disputed return: the buyer is refunded as if the seller had accepted it, or the
    seller's rejection stands. Recorded with who decided and why."""
    found = await session.scalar(select(ReturnRequest.order_id).where(ReturnRequest.id == return_id))
    if found is None:
        raise NotFound("return", return_id)
    order = await session.get(Order, found, with_for_update=True, populate_existing=True)  # order first
    ret = await session.get(ReturnRequest, return_id, with_for_update=True, populate_existing=True)
    assert order is not None and ret is not None
    if ret.status != "disputed":
        raise Conflict(f"this return is {ret.status}, not waiting for mediation")
    ret.mediated_at, ret.mediated_by = utcnow(), actor
    ret.mediation_outcome, ret.mediation_note = ("refund" if refund else "rejection_upheld"), note
    refund_id = None
    if refund:
        lines = await _lines_of(session, order.id)
        by_variant = {ln.variant_id: ln for ln in lines}
        for item in ret.lines["items"]:  # the rejection gave these units back; they are returned after all
            line = by_variant[item["variant_id"]]
            line.returned_quantity = min(line.quantity, line.returned_quantity + int(item["quantity"]))
        refund_id = await _accept_return(session, order=order, ret=ret, order_lines=lines, actor=actor,
                                         note=f"platform mediation: {note}")
        await events.emit(session, kind="order.returned", merchant_id=order.merchant_id,
                          payload={"order_id": order.id, "return_id": ret.id, "amount": ret.amount,
                                   "mediated": True})
    else:
        await return_step(session, ret, "rejected", actor, f"platform mediation upheld the rejection: {note}")
    await events.emit(session, kind="order.return_mediated", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "return_id": ret.id, "outcome": ret.mediation_outcome})
    await session.commit()
    await settle_refunds(session, settings=settings, refund_ids=[refund_id] if refund_id else [])
    return (await _return_views(session, order_id=order.id, currency=order.currency, return_ids=[ret.id]))[0]
