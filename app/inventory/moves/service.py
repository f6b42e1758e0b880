"""Stock moves: adjustments with a reason, transfers between locations, low-stock thresholds.

Every change is a conditional UPDATE checked by its result plus a ledger row (`inventory.service.
record_movements`, which also feeds the POS changes feed and emits `stock.changed`), levels taken in
(variant, location) order. A transfer's goods leave the origin when it is sent (`transfer_out`), are in
transit (at no location: the transfer's lines hold them) and arrive when it is received (`transfer_in`), or
go back if it is cancelled on the way (`transfer_back`): the ledger always equals the levels.

A variant is low at a location when its available units (on hand - reserved - safety stock) are at or below
the threshold set for it there; a `stock.low` event goes out once when it becomes low (checked after every
move here, and by a periodic job for moves made elsewhere: orders, tills), and again only after it was back
above.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.models import Variant
from app.config import Settings
from app.core import events
from app.core.clock import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.db import dialect_of, insert_ignore
from app.inventory import service as inventory_service
from app.inventory.errors import OutOfStock
from app.inventory.models import StockLevel, StockMovement
from app.inventory.moves.models import StockThreshold, StockTransfer, StockTransferLine
from app.merchants.models import Location

REASONS = ("damaged", "found", "returned_to_supplier", "shrinkage", "correction", "other")
_LEVELS = cast(Table, StockLevel.__table__)


async def _variant_id(session: AsyncSession, merchant_id: str, sku: str) -> str:
    variant_id = await session.scalar(select(Variant.id).where(Variant.merchant_id == merchant_id, Variant.sku == sku))
    if variant_id is None:
        raise NotFound("sku", sku)
    return str(variant_id)


def _level_out(row: Any, sku: str) -> dict[str, Any]:
    return {"location_id": row.location_id, "variant_id": row.variant_id, "sku": sku, "on_hand": row.on_hand,
            "reserved": row.reserved, "safety_stock": row.safety_stock,
            "available": max(row.on_hand - row.reserved - row.safety_stock, 0)}


async def _level(session: AsyncSession, location_id: str, variant_id: str, sku: str) -> dict[str, Any]:
    row = (await session.execute(select(StockLevel).where(StockLevel.location_id == location_id,
                                                          StockLevel.variant_id == variant_id))).scalar_one()
    return _level_out(row, sku)


async def _shift(session: AsyncSession, location_id: str, variant_id: str, delta: int,
                 guard: ColumnElement[bool]) -> bool:
    """on_hand += delta where `guard` holds; whether it did."""
    result = await session.execute(
        update(_LEVELS).where(_LEVELS.c.location_id == location_id, _LEVELS.c.variant_id == variant_id, guard)
        .values(on_hand=_LEVELS.c.on_hand + delta, updated_at=utcnow()).returning(_LEVELS.c.id))
    return result.first() is not None


async def adjust(session: AsyncSession, *, merchant_id: str, location_id: str, sku: str, quantity: int,
                 reason: str, note: str, key: str | None) -> dict[str, Any]:
    """on_hand moves by `quantity` (damaged goods out, found goods in ...) with its reason in the ledger.
    Units promised to orders cannot be taken away (409). A retry with the same `key` changes nothing."""
    variant_id = await _variant_id(session, merchant_id, sku)
    ledger_key = f"adjust:{merchant_id}:{key or new_id('adj')}"
    if key and await session.scalar(select(StockMovement.id).where(StockMovement.idempotency_key == ledger_key)):
        level = await _level(session, location_id, variant_id, sku)
        await session.commit()
        return level
    await inventory_service.ensure_levels(session, merchant_id=merchant_id, pairs=[(location_id, variant_id)])
    if not await _shift(session, location_id, variant_id, quantity, _LEVELS.c.on_hand + quantity >= _LEVELS.c.reserved):
        raise Conflict(f"{sku}: that would leave fewer units on hand than are promised to orders")
    await inventory_service.record_movements(session, [{
        "merchant_id": merchant_id, "location_id": location_id, "variant_id": variant_id, "kind": "adjust",
        "on_hand_delta": quantity, "reserved_delta": 0, "source": f"{reason}: {note}"[:80],
        "idempotency_key": ledger_key}])
    await check_low(session, merchant_id=merchant_id, pairs=[(location_id, variant_id)])
    level = await _level(session, location_id, variant_id, sku)
    await session.commit()
    return level


# ---- transfers -------------------------------------------------------------------------------------------

async def _transfer_out(session: AsyncSession, transfer: StockTransfer) -> dict[str, Any]:
    lines = (await session.execute(select(StockTransferLine.sku, StockTransferLine.quantity)
                                   .where(StockTransferLine.transfer_id == transfer.id)
                                   .order_by(StockTransferLine.sku))).all()
    return {"id": transfer.id, "from_location_id": transfer.from_location_id,
            "to_location_id": transfer.to_location_id, "status": transfer.status, "note": transfer.note,
            "lines": [{"sku": sku, "quantity": q} for sku, q in lines], "created_at": transfer.created_at,
            "closed_at": transfer.closed_at}


async def _owned_location(session: AsyncSession, merchant_id: str, location_id: str, field: str) -> None:
    if await session.scalar(select(Location.id).where(Location.id == location_id,
                                                      Location.merchant_id == merchant_id)) is None:
        raise field_error(field, f"{location_id} is not one of your locations")


async def create_transfer(session: AsyncSession, *, merchant_id: str, from_location_id: str, to_location_id: str,
                          lines: Sequence[tuple[str, int]], note: str) -> dict[str, Any]:
    """Send goods: they leave the origin now (available units only: nothing promised or kept back) and are in
    transit until received. OutOfStock names every line the origin cannot spare; nothing moves then."""
    if from_location_id == to_location_id:
        raise field_error("to_location_id", "the same location as from_location_id")
    await _owned_location(session, merchant_id, from_location_id, "from_location_id")
    await _owned_location(session, merchant_id, to_location_id, "to_location_id")
    skus = [sku for sku, _ in lines]
    variants = dict((await session.execute(select(Variant.sku, Variant.id).where(
        Variant.merchant_id == merchant_id, Variant.sku.in_(skus)))).all())
    unknown = [{"field": f"lines.{i}.sku", "message": f"{sku} is not one of your SKUs"}
               for i, sku in enumerate(skus) if sku not in variants]
    if unknown:
        raise InvalidInput("unknown SKUs", errors=unknown)
    transfer_id = new_id("trf")
    moves = sorted(((variants[sku], sku, q) for sku, q in lines), key=lambda m: m[0])
    await inventory_service.ensure_levels(session, merchant_id=merchant_id,
                                          pairs=[(from_location_id, v) for v, _, _ in moves])
    short = [sku for variant_id, sku, q in moves if not await _shift(
        session, from_location_id, variant_id, -q,
        _LEVELS.c.on_hand - _LEVELS.c.reserved - _LEVELS.c.safety_stock >= q)]
    if short:
        raise OutOfStock(sorted(short))
    now = utcnow()
    session.add(StockTransfer(id=transfer_id, merchant_id=merchant_id, from_location_id=from_location_id,
                              to_location_id=to_location_id, status="in_transit", note=note, created_at=now))
    await session.flush()
    await session.execute(insert(StockTransferLine), [
        {"transfer_id": transfer_id, "variant_id": v, "sku": sku, "quantity": q} for v, sku, q in moves])
    await inventory_service.record_movements(session, [
        {"merchant_id": merchant_id, "location_id": from_location_id, "variant_id": v, "kind": "transfer_out",
         "on_hand_delta": -q, "reserved_delta": 0, "source": f"transfer:{transfer_id}",
         "idempotency_key": f"transfer_out:{transfer_id}:{v}"} for v, _, q in moves])
    await events.emit(session, kind="stock.transfer_sent", merchant_id=merchant_id, payload={"id": transfer_id})
    await check_low(session, merchant_id=merchant_id, pairs=[(from_location_id, v) for v, _, _ in moves])
    transfer = await session.get(StockTransfer, transfer_id)
    assert transfer is not None
    out = await _transfer_out(session, transfer)
    await session.commit()
    return out


async def close_transfer(session: AsyncSession, *, merchant_id: str, transfer_id: str, receive: bool
                         ) -> dict[str, Any]:
    """Receive a transfer at its destination, or cancel it on the way (the goods go back to the origin)."""
    status = "received" if receive else "cancelled"
    transfer = await session.get(StockTransfer, transfer_id)
    if transfer is None or transfer.merchant_id != merchant_id:
        raise NotFound("transfer", transfer_id)
    closed = await session.execute(update(StockTransfer).where(StockTransfer.id == transfer_id,
                                                               StockTransfer.status == "in_transit")
                                   .values(status=status, closed_at=utcnow()))
    if closed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"the transfer is {transfer.status}")
    location_id = transfer.to_location_id if receive else transfer.from_location_id
    lines = (await session.execute(select(StockTransferLine.variant_id, StockTransferLine.quantity)
                                   .where(StockTransferLine.transfer_id == transfer_id)
                                   .order_by(StockTransferLine.variant_id))).all()
    await inventory_service.ensure_levels(session, merchant_id=merchant_id, pairs=[(location_id, v) for v, _ in lines])
    for variant_id, q in lines:
        await _shift(session, location_id, variant_id, q, _LEVELS.c.id.is_not(None))
    kind = "transfer_in" if receive else "transfer_back"
    await inventory_service.record_movements(session, [
        {"merchant_id": merchant_id, "location_id": location_id, "variant_id": v, "kind": kind,
         "on_hand_delta": q, "reserved_delta": 0, "source": f"transfer:{transfer_id}",
         "idempotency_key": f"{kind}:{transfer_id}:{v}"} for v, q in lines])
    await events.emit(session, kind="stock.transfer_received" if receive else "stock.transfer_cancelled",
                      merchant_id=merchant_id, payload={"id": transfer_id})
    await check_low(session, merchant_id=merchant_id, pairs=[(location_id, v) for v, _ in lines])
    await session.refresh(transfer)
    out = await _transfer_out(session, transfer)
    await session.commit()
    return out


async def get_transfer(session: AsyncSession, *, merchant_id: str, transfer_id: str) -> dict[str, Any]:
    transfer = await session.get(StockTransfer, transfer_id)
    if transfer is None or transfer.merchant_id != merchant_id:
        raise NotFound("transfer", transfer_id)
    return await _transfer_out(session, transfer)


async def list_transfers(session: AsyncSession, *, merchant_id: str, before: str | None, limit: int
                         ) -> tuple[list[dict[str, Any]], str | None]:
    """The merchant's transfers, newest first, with their lines (the console's list)."""
    stmt = select(StockTransfer).where(StockTransfer.merchant_id == merchant_id)
    if before:
        stmt = stmt.where(StockTransfer.id < before)
    found = list((await session.scalars(stmt.order_by(StockTransfer.id.desc()).limit(limit + 1))).all())
    more = len(found) > limit
    found = found[:limit]
    return [await _transfer_out(session, t) for t in found], (found[-1].id if more else None)


# ---- low stock -------------------------------------------------------------------------------------------

async def set_threshold(session: AsyncSession, *, merchant_id: str, location_id: str, sku: str,
                        low_stock: int | None) -> dict[str, Any]:
    """The low-stock threshold of a SKU at a location (None: none)."""
    variant_id = await _variant_id(session, merchant_id, sku)
    key = (StockThreshold.location_id == location_id) & (StockThreshold.variant_id == variant_id)
    if low_stock is None:
        await session.execute(delete(StockThreshold).where(key))
    else:
        await session.execute(insert_ignore(dialect_of(session), StockThreshold, ["location_id", "variant_id"]), [
            {"location_id": location_id, "variant_id": variant_id, "merchant_id": merchant_id,
             "low_stock": low_stock, "alerted": False, "updated_at": utcnow()}])
        await session.execute(update(StockThreshold).where(key).values(low_stock=low_stock, updated_at=utcnow()))
        await check_low(session, merchant_id=merchant_id, pairs=[(location_id, variant_id)])
    await session.commit()
    return {"location_id": location_id, "sku": sku, "low_stock": low_stock}


_AVAILABLE = func.coalesce(StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock, 0)


def _low_rows(merchant_id: str | None, pairs: Iterable[tuple[str, str]] | None) -> Any:
    stmt = (select(StockThreshold.location_id, StockThreshold.variant_id, StockThreshold.merchant_id,
                   StockThreshold.low_stock, StockThreshold.alerted, _AVAILABLE.label("available"), Variant.sku)
            .join(Variant, Variant.id == StockThreshold.variant_id)
            .outerjoin(StockLevel, and_(StockLevel.location_id == StockThreshold.location_id,
                                        StockLevel.variant_id == StockThreshold.variant_id)))
    if merchant_id is not None:
        stmt = stmt.where(StockThreshold.merchant_id == merchant_id)
    if pairs is not None:
        stmt = stmt.where(tuple_(StockThreshold.location_id, StockThreshold.variant_id).in_(list(pairs)))
    return stmt


async def check_low(session: AsyncSession, *, merchant_id: str | None = None,
                    pairs: Sequence[tuple[str, str]] | None = None) -> int:
    """Send `stock.low` for thresholds newly reached, and re-arm those back above; never commits. Only rows whose
    state flips are read. Returns how many events were emitted."""
    if pairs is not None and not pairs:
        return 0
    flips = _low_rows(merchant_id, pairs).where(or_(
        and_(StockThreshold.alerted.is_(False), StockThreshold.low_stock >= _AVAILABLE),
        and_(StockThreshold.alerted.is_(True), StockThreshold.low_stock < _AVAILABLE)))
    rows = (await session.execute(flips)).all()
    low = [r for r in rows if not r.alerted]
    for r in rows:
        await session.execute(update(StockThreshold).where(StockThreshold.location_id == r.location_id,
                                                           StockThreshold.variant_id == r.variant_id)
                              .values(alerted=not r.alerted, updated_at=utcnow()))
    await events.emit_many(session, [("stock.low", r.merchant_id, {
        "sku": r.sku, "variant_id": r.variant_id, "location_id": r.location_id, "available": int(r.available),
        "low_stock": r.low_stock}) for r in low])
    return len(low)


async def low_stock_job(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Periodic: stock.low for levels that orders and tills took below their thresholds."""
    async with factory() as session:
        sent = await check_low(session)
        await session.commit()
    return sent


async def list_low(session: AsyncSession, *, merchant_id: str) -> list[dict[str, Any]]:
    """The merchant's SKUs at or below their threshold, lowest first."""
    rows = (await session.execute(_low_rows(merchant_id, None).where(StockThreshold.low_stock >= _AVAILABLE)
                                  .order_by(_AVAILABLE, Variant.sku))).all()
    return [{"sku": r.sku, "variant_id": r.variant_id, "location_id": r.location_id,
             "available": max(int(r.available), 0), "low_stock": r.low_stock} for r in rows]
