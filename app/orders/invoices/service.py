"""Invoices (C40): the buyer asks (at checkout or afterwards), the merchant issues a blue invoice, and a refund
after that issues a red one for the refunded part. Each invoice keeps its PDF with the order."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import service as catalog_service
from app.core import events
from app.core.auth import Principal
from app.core.clock import SHANGHAI, utcnow
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.core.ids import new_id
from app.db import dialect_of, insert_ignore
from app.merchants.models import Merchant
from app.orders import rules as order_rules
from app.orders.access import get_visible, merchant_only
from app.orders.invoices import issuers, rules
from app.orders.invoices.models import Invoice, InvoiceCounter, InvoiceRequest
from app.orders.invoices.pdf import InvoiceDoc
from app.orders.models import Order, OrderLine
from app.orders.views import iso

# Who may download an invoice: the order's customer (or wholesale buyer) and its merchant.
_PDF_READERS = ("customer", "buyer", "merchant")


def check_request(kind: str, title: str, taxpayer_id: str | None, *, prefix: str = "") -> None:
    """422 naming each bad field of an invoice request (`prefix`: where the request sits in the body)."""
    errors = rules.request_errors(kind, title, taxpayer_id)
    if errors:
        for e in errors:
            e["field"] = prefix + e["field"]
        raise InvalidInput("; ".join(e["message"] for e in errors), errors=errors)


async def add_requests(session: AsyncSession, *, orders: Sequence[Mapping[str, Any]], kind: str, title: str,
                       taxpayer_id: str | None) -> None:
    """Record a checked request for each order of a checkout, in the caller's transaction (never commits)."""
    now = utcnow()
    for o in orders:
        session.add(InvoiceRequest(id=new_id("ivr"), order_id=o["id"], merchant_id=o["merchant_id"], kind=kind,
                                   title=title.strip(), taxpayer_id=_code(taxpayer_id), created_at=now,
                                   updated_at=now))
    for o in orders:
        await events.emit(session, kind="invoice.requested", merchant_id=o["merchant_id"],
                          payload={"order_id": o["id"], "kind": kind})


async def request_invoice(session: AsyncSession, *, principal: Principal, order_id: str, kind: str, title: str,
                          taxpayer_id: str | None) -> dict[str, Any]:
    """The order's customer asks for an invoice (or changes the request before it is issued)."""
    if principal.kind not in ("customer", "buyer"):
        raise Forbidden("invoices are requested by the order's customer")
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    check_request(kind, title, taxpayer_id)
    if order.status == "cancelled":
        raise Conflict("the order was cancelled: there is nothing to invoice")
    if await _blue_of(session, order.id) is not None:
        raise Conflict("the invoice was already issued; ask the seller to reissue it")
    now = utcnow()
    req = await session.scalar(select(InvoiceRequest).where(InvoiceRequest.order_id == order.id))
    if req is None:
        req = InvoiceRequest(id=new_id("ivr"), order_id=order.id, merchant_id=order.merchant_id, created_at=now)
        session.add(req)
    req.kind, req.title, req.taxpayer_id, req.updated_at = kind, title.strip(), _code(taxpayer_id), now
    await events.emit(session, kind="invoice.requested", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "kind": kind})
    await session.commit()
    return request_view(req)


async def issue(session: AsyncSession, *, principal: Principal, order_id: str) -> dict[str, Any]:
    """The merchant issues the blue invoice the buyer asked for: what is still bought of each line (after any
    refunds so far, its share of the discount taken off), delivery as its own line, tax at each product's rate."""
    merchant_only(principal)
    order = await get_visible(session, principal=principal, order_id=order_id, lock=True)
    req = await session.scalar(select(InvoiceRequest).where(InvoiceRequest.order_id == order.id))
    if req is None:
        raise Conflict("the buyer has not asked for an invoice")
    if order.payment_status not in ("paid", "partially_refunded"):
        raise Conflict(f"an invoice is issued once the order is paid; payment is {order.payment_status}")
    if await _blue_of(session, order.id) is not None:
        raise Conflict("this order's invoice was already issued")
    lines = await _lines(session, order.id)
    rates = await catalog_service.tax_rates(session=session, product_ids=[ln.product_id for ln in lines])
    goods = [rules.Goods(ln.sku, ln.title, ln.quantity - ln.returned_quantity, _kept_amount(ln),
                         rates.get(ln.product_id, 13)) for ln in lines]
    shipping = order.shipping if order.refunded < order.total else 0
    invoice = await _issue(session, order=order, color="blue", kind=req.kind, title=req.title,
                           taxpayer_id=req.taxpayer_id, lines=rules.blue_lines(goods, shipping=shipping))
    await session.commit()
    return invoice_view(invoice, order_number=order.number)


async def credit_refund(session: AsyncSession, *, order: Order, items: Sequence[Mapping[str, Any]],
                        return_id: str | None = None) -> Invoice | None:
    """A refund after invoicing: a red invoice for the refunded goods (`items`: variant_id, sku, quantity and the
    money refunded for them), referencing the blue one. Nothing when no invoice was issued. Never commits."""
    blue = await _blue_of(session, order.id)
    if blue is None:
        return None
    rates = {ln["sku"]: int(ln["tax_rate"]) for ln in blue.lines["items"]}
    titles = {ln.variant_id: ln.title for ln in await _lines(session, order.id)}
    returned = [rules.Goods(str(i["sku"]), titles.get(str(i["variant_id"]), str(i["sku"])), int(i["quantity"]),
                            int(i["amount"]), rates.get(str(i["sku"]), 13)) for i in items]
    lines = rules.red_lines(returned)
    if not lines:
        return None
    return await _issue(session, order=order, color="red", kind=blue.kind, title=blue.title,
                        taxpayer_id=blue.taxpayer_id, lines=lines, original=blue, return_id=return_id)


async def credit_all(session: AsyncSession, *, order: Order) -> Invoice | None:
    """The whole order is refunded (cancelled after invoicing): a red invoice for what the invoices still show.
    Never commits."""
    blue = await _blue_of(session, order.id)
    if blue is None:
        return None
    left: dict[str, dict[str, Any]] = {ln["sku"]: dict(ln) for ln in blue.lines["items"]}
    reds = (await session.scalars(select(Invoice).where(Invoice.original_id == blue.id))).all()
    for red in reds:
        for ln in red.lines["items"]:
            if ln["sku"] in left:
                left[ln["sku"]]["quantity"] += ln["quantity"]
                left[ln["sku"]]["amount"] += ln["amount"]
    lines = rules.red_lines([rules.Goods(ln["sku"], ln["title"], ln["quantity"], ln["amount"], ln["tax_rate"])
                             for ln in left.values() if ln["amount"] > 0])
    if not lines:
        return None
    return await _issue(session, order=order, color="red", kind=blue.kind, title=blue.title,
                        taxpayer_id=blue.taxpayer_id, lines=lines, original=blue)


async def order_invoices(session: AsyncSession, *, principal: Principal, order_id: str) -> dict[str, Any]:
    """The order's invoice request and invoices, oldest first (its customer, its merchant, the admin)."""
    order = await get_visible(session, principal=principal, order_id=order_id)
    return await invoices_of(session, order=order)


async def invoices_of(session: AsyncSession, *, order: Order) -> dict[str, Any]:
    """The order's invoice request and invoices (for a caller that already may see the order)."""
    req = await session.scalar(select(InvoiceRequest).where(InvoiceRequest.order_id == order.id))
    rows = (await session.scalars(select(Invoice).where(Invoice.order_id == order.id)
                                  .order_by(Invoice.issued_at, Invoice.id))).all()
    numbers = {r.id: r.number for r in rows}
    return {"request": request_view(req) if req else None,
            "items": [invoice_view(r, order_number=order.number, original_number=numbers.get(r.original_id or ""))
                      for r in rows]}


async def invoice_pdf(session: AsyncSession, *, principal: Principal, invoice_id: str) -> tuple[str, bytes]:
    """(file name, PDF) of an invoice, for its order's customer and its merchant; 404 for anyone else."""
    order_id = await session.scalar(select(Invoice.order_id).where(Invoice.id == invoice_id))
    if principal.kind not in _PDF_READERS or order_id is None:
        raise NotFound("invoice", invoice_id)
    try:
        await get_visible(session, principal=principal, order_id=order_id)
    except NotFound:
        raise NotFound("invoice", invoice_id) from None
    return await pdf_of_order(session, order_id=order_id, invoice_id=invoice_id)


async def pdf_of_order(session: AsyncSession, *, order_id: str, invoice_id: str) -> tuple[str, bytes]:
    """(file name, PDF) of one of an order's invoices, for a caller that already checked who may see the order
    (the pages); 404 when the invoice is not that order's."""
    found = (await session.execute(select(Invoice.number, Invoice.pdf)
                                   .where(Invoice.id == invoice_id, Invoice.order_id == order_id))).first()
    if found is None:
        raise NotFound("invoice", invoice_id)
    return f"invoice-{found.number}.pdf", found.pdf


# Built once: the export runs it per batch, and a statement built per batch leaves reference cycles behind
# (see app/trust/export.py).
_EXPORT_INVOICES = (select(Invoice.id, Invoice.order_id, Invoice.number, Invoice.color, Invoice.original_id,
                           Invoice.kind, Invoice.title, Invoice.taxpayer_id, Invoice.total, Invoice.tax_total,
                           Invoice.issued_at, Invoice.lines)
                    .where(Invoice.order_id.in_(bindparam("ids", expanding=True)))
                    .order_by(Invoice.order_id, Invoice.issued_at, Invoice.id))


async def export_rows(session: AsyncSession, order_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """The invoices of these orders, by order, as the regulator's export lists them (no PDFs)."""
    out: dict[str, list[dict[str, Any]]] = {}
    if not order_ids:
        return out
    rows = (await session.execute(_EXPORT_INVOICES, {"ids": list(order_ids)})).all()
    numbers = {r.id: r.number for r in rows}
    for r in rows:
        out.setdefault(r.order_id, []).append({
            "number": r.number, "color": r.color, "original_number": numbers.get(r.original_id or ""),
            "kind": r.kind, "title": r.title, "taxpayer_id": r.taxpayer_id, "total": r.total,
            "tax_total": r.tax_total, "issued_at": iso(r.issued_at),
            "lines": [{k: ln[k] for k in ("sku", "quantity", "amount", "tax_rate", "tax")} for ln in r.lines["items"]]})
    return out


# ---- views -------------------------------------------------------------------------------------------------

def pdf_url(invoice_id: str) -> str:
    return f"/v1/invoices/{invoice_id}/pdf"


def request_view(req: InvoiceRequest) -> dict[str, Any]:
    return {"order_id": req.order_id, "kind": req.kind, "title": req.title, "taxpayer_id": req.taxpayer_id,
            "requested_at": iso(req.created_at), "updated_at": iso(req.updated_at)}


def invoice_view(inv: Invoice, *, order_number: str, original_number: str | None = None) -> dict[str, Any]:
    return {"id": inv.id, "order_id": inv.order_id, "order_number": order_number, "number": inv.number,
            "color": inv.color, "original_id": inv.original_id, "original_number": original_number,
            "kind": inv.kind, "title": inv.title, "taxpayer_id": inv.taxpayer_id,
            "lines": inv.lines["items"], "total": inv.total, "tax_total": inv.tax_total, "currency": inv.currency,
            "issuer": inv.issuer, "issued_at": iso(inv.issued_at), "pdf_url": pdf_url(inv.id)}


# ---- helpers -----------------------------------------------------------------------------------------------

def _code(taxpayer_id: str | None) -> str | None:
    return taxpayer_id.strip().upper() if taxpayer_id and taxpayer_id.strip() else None


async def _blue_of(session: AsyncSession, order_id: str) -> Invoice | None:
    return await session.scalar(select(Invoice).where(Invoice.order_id == order_id, Invoice.color == "blue"))


async def _lines(session: AsyncSession, order_id: str) -> list[OrderLine]:
    return list((await session.scalars(select(OrderLine).where(OrderLine.order_id == order_id)
                                       .order_by(OrderLine.id))).all())


def _kept_amount(line: OrderLine) -> int:
    """What the buyer still pays for a line: its total less what refunds of returned units took (the same split
    the refunds used, so the invoice and the refunds add up to the line's total)."""
    if not line.returned_quantity:
        return line.total
    legs = [order_rules.Leg("payment", line.total), order_rules.Leg("coupon", line.discount)]
    refunded = order_rules.return_legs(legs, unit_price=line.unit_price, returned_before=0,
                                       quantity=line.returned_quantity)[0]
    return line.total - refunded


async def _next_number(session: AsyncSession, merchant_id: str) -> str:
    """The merchant's next invoice number; the counter row stays locked until the transaction ends, so two
    invoices never get one number."""
    await session.execute(insert_ignore(dialect_of(session), InvoiceCounter, ["merchant_id"]),
                          [{"merchant_id": merchant_id, "seq": 0}])
    seq = (await session.execute(update(InvoiceCounter).where(InvoiceCounter.merchant_id == merchant_id)
                                 .values(seq=InvoiceCounter.seq + 1).returning(InvoiceCounter.seq)
                                 .execution_options(synchronize_session=False))).scalar_one()
    return rules.invoice_number(utcnow().astimezone(SHANGHAI).year, int(seq))


async def _issue(session: AsyncSession, *, order: Order, color: str, kind: str, title: str, taxpayer_id: str | None,
                 lines: list[dict[str, Any]], original: Invoice | None = None,
                 return_id: str | None = None) -> Invoice:
    """Number the invoice, have the issuer make it, keep it with the order. Never commits."""
    number = await _next_number(session, order.merchant_id)
    total, tax_total = rules.totals(lines)
    seller = await session.get(Merchant, order.merchant_id)
    now = utcnow()
    issuer = issuers.issuer()
    issued = await issuer.issue(InvoiceDoc(
        number=number, color=color, issued_at=now, buyer=title, buyer_taxpayer_id=taxpayer_id,
        seller=seller.name if seller else order.merchant_id,
        seller_taxpayer_id=seller.licence_no if seller and seller.kind == "enterprise" else None,
        lines=lines, total=total, tax_total=tax_total, order_number=order.number,
        original_number=original.number if original else None))
    invoice = Invoice(id=new_id("inv"), order_id=order.id, merchant_id=order.merchant_id, number=number, color=color,
                      original_id=original.id if original else None, return_id=return_id, kind=kind, title=title,
                      taxpayer_id=taxpayer_id, lines={"items": lines}, total=total, tax_total=tax_total,
                      currency=order.currency, issuer=issuer.name, issuer_ref=issued.ref, pdf=issued.pdf,
                      issued_at=now)
    session.add(invoice)
    await events.emit(session, kind="invoice.issued", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "invoice_id": invoice.id, "number": number, "color": color,
                               "total": total})
    return invoice
