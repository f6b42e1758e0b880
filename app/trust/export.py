"""The regulator's export: every order of a period with its lines as sold, its payment, shipments, returns and
refunds, and the hash-chain seals of the order and its payment (C23, C25), as CSV streamed in batches."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import as_utc, rfc3339
from app.core.errors import field_error
from app.orders import legal_hold
from app.orders.invoices import service as invoices_service
from app.orders.models import Order, OrderLine, Payment, Refund, ReturnRequest, Shipment
from app.trust.audit_log import record_audit
from app.trust.records import seals_of

# ---- regulator export ------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("order_id", "number", "created_at", "merchant_id", "channel", "status", "payment_method",
                  "payment_status", "currency", "subtotal", "discount", "shipping", "total", "refunded",
                  "paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at", "customer_id", "buyer_id",
                  "promotion_code", "listing_revision_ids", "lines", "payment", "shipments", "returns", "refunds",
                  "invoices", "order_seal", "payment_seal", "buyer_on_legal_hold")
_EXPORT_SELECT = (Order.id, Order.number, Order.created_at, Order.merchant_id, Order.channel, Order.status,
                  Order.payment_method, Order.payment_status, Order.currency, Order.subtotal, Order.discount,
                  Order.shipping, Order.total, Order.refunded, Order.paid_at, Order.shipped_at, Order.delivered_at,
                  Order.completed_at, Order.cancelled_at, Order.customer_id, Order.buyer_id, Order.promotion_code)
EXPORT_BATCH = 2000
# Built once: a statement built per batch leaves reference cycles (SQLAlchemy's construction) holding the
# batch's 2,000 order ids. The workers collect old objects rarely (`app.core.heap.THRESHOLDS`), so a 200,000-row
# export grew the worker by 17 MiB until the next full collection.
_EXPORT_ORDERS = (select(*_EXPORT_SELECT)
                  .where(Order.created_at >= bindparam("start"), Order.created_at < bindparam("end"),
                         Order.id > bindparam("after"))
                  .order_by(Order.id).limit(bindparam("batch")))
_EXPORT_LINES = (select(OrderLine.order_id, OrderLine.sku, OrderLine.title, OrderLine.quantity, OrderLine.unit_price,
                        OrderLine.total, OrderLine.listing_revision_id)
                 .where(OrderLine.order_id.in_(bindparam("ids", expanding=True)))
                 .order_by(OrderLine.order_id, OrderLine.id))
_EXPORT_PAYMENTS = (select(Order.id.label("order_id"), Payment.id, Payment.provider, Payment.provider_ref,
                           Payment.amount, Payment.currency, Payment.status, Payment.created_at)
                    .join(Payment, Payment.id == Order.payment_id)
                    .where(Order.id.in_(bindparam("ids", expanding=True))))
_EXPORT_SHIPMENTS = (select(Shipment.order_id, Shipment.id, Shipment.carrier, Shipment.tracking_no, Shipment.created_at)
                     .where(Shipment.order_id.in_(bindparam("ids", expanding=True)))
                     .order_by(Shipment.order_id, Shipment.id))
_EXPORT_RETURNS = (select(ReturnRequest.order_id, ReturnRequest.id, ReturnRequest.status, ReturnRequest.kind,
                          ReturnRequest.reason, ReturnRequest.lines, ReturnRequest.amount, ReturnRequest.coupon_amount,
                          ReturnRequest.requested_at, ReturnRequest.received_at, ReturnRequest.refunded_at,
                          ReturnRequest.rejected_at, ReturnRequest.rejection_code)
                   .where(ReturnRequest.order_id.in_(bindparam("ids", expanding=True)))
                   .order_by(ReturnRequest.order_id, ReturnRequest.id))
_EXPORT_REFUNDS = (select(Refund.order_id, Refund.id, Refund.provider, Refund.provider_ref, Refund.amount,
                          Refund.reason, Refund.status, Refund.created_at)
                   .where(Refund.order_id.in_(bindparam("ids", expanding=True)))
                   .order_by(Refund.order_id, Refund.id))


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)
    return "" if value is None else value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_cell)


async def _export_history(session: AsyncSession, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Each order's payment, shipments, returns, refunds and seals: one read each for the whole batch."""
    out: dict[str, dict[str, Any]] = {i: {"payment": None, "shipments": [], "returns": [], "refunds": []}
                                      for i in order_ids}
    params = {"ids": order_ids}
    for p in (await session.execute(_EXPORT_PAYMENTS, params)).all():
        out[p.order_id]["payment"] = {k: v for k, v in p._asdict().items() if k != "order_id"}
    for name, stmt in (("shipments", _EXPORT_SHIPMENTS), ("returns", _EXPORT_RETURNS), ("refunds", _EXPORT_REFUNDS)):
        for r in (await session.execute(stmt, params)).all():
            out[r.order_id][name].append({k: v for k, v in r._asdict().items() if k != "order_id"})
    seals = await seals_of(session, order_ids)
    for i in order_ids:
        out[i]["order_seal"] = seals.get(("order", i), "")
        out[i]["payment_seal"] = seals.get(("payment", i), "")
    return out


async def _export_lines(session: AsyncSession, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each order's lines as sold: SKU, title and price as the buyer saw them and the listing revision."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for ln in (await session.execute(_EXPORT_LINES, {"ids": order_ids})).all():
        lines.setdefault(ln.order_id, []).append({
            "sku": ln.sku, "title": ln.title, "quantity": ln.quantity, "unit_price": ln.unit_price,
            "total": ln.total, "listing_revision_id": ln.listing_revision_id})
    return lines


def _export_row(row: Any, lines: list[dict[str, Any]], history: dict[str, Any], invoices: list[dict[str, Any]],
                held: dict[str, Any] | None = None) -> list[Any]:
    """The order's cells, its listing revisions (`;`-separated), its lines, payment, shipments, returns, refunds
    and invoices (blue and red, C40) as JSON, the chain hashes of the order and its payment (empty until the
    sealing job has run) and, for a closed account's order, the buyer's data from the legal-hold store (C20: the
    export is one of its two readers)."""
    revisions = ";".join(ln["listing_revision_id"] for ln in lines if ln["listing_revision_id"])
    return [*(_cell(v) for v in row), revisions, _json(lines),
            "" if history["payment"] is None else _json(history["payment"]), _json(history["shipments"]),
            _json(history["returns"]), _json(history["refunds"]), _json(invoices), history["order_seal"],
            history["payment_seal"], _json(held) if held else ""]


async def start_export(*, session: AsyncSession, factory: async_sessionmaker[AsyncSession], actor: str,
                       start: datetime, end: datetime, batch: int | None = None) -> AsyncIterator[bytes]:
    """Record the export in the audit log, then stream the period's orders as CSV.

    Rows are read in keyset batches (by id), each in its own short transaction, so memory stays flat
    however many rows there are and no lock or snapshot is held between batches.
    """
    if end <= start:
        raise field_error("to", "must be after `from`")
    await record_audit(session, actor=actor, action="export.transactions", target_type="export", target_id=None,
                       after={"from": rfc3339(start), "to": rfc3339(end)})
    await session.commit()
    return _export_rows(factory, as_utc(start), as_utc(end), batch or EXPORT_BATCH)  # read now: tests set it


async def _export_rows(factory: async_sessionmaker[AsyncSession], start: datetime, end: datetime,
                       batch: int) -> AsyncIterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield ("\ufeff" + buf.getvalue()).encode()  # BOM: spreadsheet software then reads the Chinese right
    last = ""
    while True:
        async with factory() as session:
            rows = (await session.execute(_EXPORT_ORDERS, {"start": start, "end": end, "after": last,
                                                           "batch": batch})).all()
            lines = await _export_lines(session, [r.id for r in rows]) if rows else {}
            invoices = await invoices_service.export_rows(session, [r.id for r in rows])
            held = await legal_hold.held_for(session, order_ids=[r.id for r in rows])
            history = await _export_history(session, [r.id for r in rows]) if rows else {}
            await session.commit()
        if not rows:
            return
        buf.seek(0)
        buf.truncate()
        writer.writerows(_export_row(row, lines.get(row.id, []), history[row.id], invoices.get(row.id, []),
                                     held.get(row.id)) for row in rows)
        yield buf.getvalue().encode()
        last = rows[-1].id
        if len(rows) < batch:
            return


async def read_legal_hold(*, session: AsyncSession, actor: str, order_id: str, hold_years: int) -> dict[str, Any]:
    """The regulator reads one order's held buyer data; every read is written to the audit log."""
    record = await legal_hold.held_record(session, order_id=order_id, hold_years=hold_years)
    await record_audit(session, actor=actor, action="legal_hold.read", target_type="order", target_id=order_id)
    await session.commit()
    return record
