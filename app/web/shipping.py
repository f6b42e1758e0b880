"""Bulk shipping in the console: mark many orders shipped from a carrier's CSV (order number, carrier, tracking
number), each row with its own result, and print packing slips for many orders as one PDF.

Chinese carriers' waybill systems export CSV in GBK or UTF-8, with Chinese or English headers, or none: the
columns are taken by header name when there is one (订单号/number, 快递公司/carrier, 运单号/tracking_no),
in that order otherwise. Each row ships in its own transaction, so a bad row never holds up the good ones.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import select
from starlette.datastructures import UploadFile
from starlette.responses import Response

from app.core.csvfile import MalformedCsv, decode
from app.core.deps import SessionDep
from app.core.errors import DomainError, InvalidInput, field_error
from app.logistics import carriers
from app.merchants import service as merchants_service
from app.orders import fulfilment as orders_fulfilment
from app.orders import views as orders_views
from app.orders.models import Order
from app.web import i18n, slips
from app.web.console import as_merchant, audit, page, staff_of
from app.web.pages import WebRoute, check_csrf, lang_of

router = APIRouter(prefix="/console/shipping", route_class=WebRoute, include_in_schema=False)

MAX_ROWS = 2000
MAX_BYTES = 1024 * 1024
MAX_SLIPS = 500
HEADERS = {"number": ("订单号", "订单编号", "number", "order", "order_no", "order number"),
           "carrier": ("快递公司", "物流公司", "快递", "carrier"),
           "tracking_no": ("运单号", "快递单号", "物流单号", "tracking_no", "tracking number", "tracking")}


@dataclass(slots=True)
class RowResult:
    line: int
    number: str
    carrier: str
    tracking_no: str
    ok: bool
    message: str


def parse(text: str) -> list[tuple[int, str, str, str]]:
    """(line, number, carrier, tracking_no) for each non-blank data row."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    out: list[tuple[int, str, str, str]] = []
    order = (0, 1, 2)
    start = 0
    if rows:
        head = [c.strip().lower() for c in rows[0]]
        found = {key: next((i for i, h in enumerate(head) if h in names), None) for key, names in HEADERS.items()}
        if all(v is not None for v in found.values()):
            order = (found["number"] or 0, found["carrier"] or 0, found["tracking_no"] or 0)
            start = 1
        elif any(v is not None for v in found.values()):
            raise MalformedCsv(1, "the header needs 订单号, 快递公司 and 运单号 (number, carrier, tracking_no)")
    for i, record in enumerate(rows[start:], start=start + 1):
        if not record or all(not c.strip() for c in record):
            continue
        cells = [c.strip() for c in record]
        values = [cells[j] if j < len(cells) else "" for j in order]
        out.append((i, values[0], values[1], values[2]))
        if len(out) > MAX_ROWS:
            raise MalformedCsv(i, f"a file has at most {MAX_ROWS:,} rows")
    return out


async def _ready(session: Any, merchant_id: str, limit: int = 200) -> list[Order]:
    """Delivery orders waiting to be shipped, oldest first (what the warehouse works through)."""
    stmt = (select(Order).where(Order.merchant_id == merchant_id, Order.status.in_(("paid", "confirmed")))
            .order_by(Order.created_at, Order.id).limit(limit * 2))
    found = [o for o in (await session.scalars(stmt)).all() if o.fulfilment.get("type") == "delivery"]
    return found[:limit]


@router.get("")
async def shipping(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "orders.ship")
    return page(request, "console/shipping.html", {"ready": await _ready(session, ctx.merchant_id), "results": None})


@router.post("/import")
async def import_csv(request: Request, session: SessionDep) -> Response:
    """Ship each row's order with its carrier and tracking number; show every row's result."""
    ctx = await staff_of(request, session, "orders.ship")
    form = await request.form(max_files=1)
    check_csrf(request, form)
    upload = form.get("file")
    pasted = form.get("text")
    raw = b""
    if isinstance(upload, UploadFile):
        raw = await upload.read(MAX_BYTES + 1)
    if not raw.strip() and isinstance(pasted, str):
        raw = pasted.encode()
    lang = lang_of(request)
    try:
        if not raw.strip():
            raise field_error("file", "choose the carrier's CSV file (订单号, 快递公司, 运单号)")
        if len(raw) > MAX_BYTES:
            raise field_error("file", "at most 1 MB")
        text, _ = decode(raw)
        rows = parse(text)
    except MalformedCsv as exc:
        return page(request, "console/shipping.html", {"ready": await _ready(session, ctx.merchant_id),
                                                       "results": None, "errors": [f"file: {exc}"]}, status=422)
    except InvalidInput as exc:
        return page(request, "console/shipping.html", {"ready": await _ready(session, ctx.merchant_id),
                                                       "results": None, "errors": [
                                                           f"{e['field']}: {e['message']}" for e in
                                                           exc.extra["errors"]]}, status=422)
    numbers = sorted({n.upper() for _, n, _, _ in rows if n})
    ids = {number: ident for number, ident in (await session.execute(select(Order.number, Order.id).where(
        Order.merchant_id == ctx.merchant_id, Order.number.in_(numbers)))).all()} if numbers else {}
    await session.rollback()  # each row's shipment is a transaction of its own
    results: list[RowResult] = []
    seen: set[str] = set()
    for line, number, carrier, tracking in rows:
        number = number.upper()
        message = ""
        if not number or not carrier or not tracking:
            message = i18n.translate(lang, "row_incomplete")
        elif len(carrier) > 60 or len(tracking) > 60:
            message = i18n.translate(lang, "row_too_long")
        elif number not in ids:
            message = i18n.translate(lang, "row_no_order")
        elif number in seen:
            message = i18n.translate(lang, "row_twice")
        if message:
            results.append(RowResult(line, number, carrier, tracking, False, message))
            continue
        seen.add(number)
        found = carriers.lookup(carrier)
        carrier = found.code if found else carrier  # 顺丰, 中通快递 ... as the waybill system writes them
        try:
            await audit(session, ctx, "ship", "order", ids[number], carrier=carrier, tracking_no=tracking,
                        source="csv")
            await orders_fulfilment.ship(session, principal=as_merchant(ctx), order_id=ids[number], carrier=carrier,
                                         tracking_no=tracking)
        except DomainError as exc:
            await session.rollback()
            status = exc.extra.get("order_status")
            results.append(RowResult(line, number, carrier, tracking, False,
                                     i18n.translate(lang, "row_state", status=i18n.translate(lang, status))
                                     if status else exc.detail))
            continue
        results.append(RowResult(line, number, carrier, tracking, True, i18n.translate(lang, "row_shipped")))
    shipped = [r for r in results if r.ok]
    return page(request, "console/shipping.html", {
        "ready": await _ready(session, ctx.merchant_id), "results": results, "shipped_ids": [ids[r.number]
                                                                                            for r in shipped],
        "notice": i18n.translate(lang, "bulk_result", ok=len(shipped), bad=len(results) - len(shipped))})


@router.post("/slips")
async def packing_slips(request: Request, session: SessionDep) -> Response:
    """One PDF with a packing slip per chosen order."""
    ctx = await staff_of(request, session, "orders.ship")
    form = await request.form()
    check_csrf(request, form)
    ids = sorted({str(v)[:40] for v in form.getlist("order_id") if v})[:MAX_SLIPS]
    if not ids:
        raise field_error("order_id", "choose at least one order")
    found = (await session.scalars(select(Order).where(Order.merchant_id == ctx.merchant_id, Order.id.in_(ids))
                                   .order_by(Order.created_at, Order.id))).all()
    if not found:
        raise field_error("order_id", "none of these orders is yours")
    docs = []
    for order in found:
        view = dict(await orders_views.view(session, order=order))
        view["address"] = order.fulfilment.get("address") or {}
        view["note"] = order.fulfilment.get("note")
        docs.append(view)
    info = await merchants_service.get(session=session, merchant_id=ctx.merchant_id)
    pdf = slips.packing_slips(info.name if info else "", docs)
    await audit(session, ctx, "print_slips", "order", None, orders=len(docs))
    await session.commit()
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="packing-slips-{len(docs)}.pdf"'})
