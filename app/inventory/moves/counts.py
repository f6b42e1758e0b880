"""Stock moves beyond single counts: many counted quantities at once (the stock CSV).

Built on the public functions of `app.inventory.service` (levels, ledger, changes feed); the levels are
locked in (variant, location) order, the order every stock writer uses. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Variant
from app.core.clock import utcnow
from app.core.csvfile import RowError
from app.db import dialect_of, in_batches
from app.inventory import service as inventory_service
from app.inventory.models import StockLevel
from app.inventory.transfer import CountRow
from app.merchants.models import Location

_LEVELS = cast(Table, StockLevel.__table__)
_SET_COUNT = (update(_LEVELS)
              .where(_LEVELS.c.location_id == bindparam("b_loc"), _LEVELS.c.variant_id == bindparam("b_var"))
              .values(on_hand=bindparam("b_on_hand"), safety_stock=bindparam("b_safety"),
                      updated_at=bindparam("b_at"), last_count_at=bindparam("b_at"), last_count_event_id=""))


async def resolve(session: AsyncSession, *, merchant_id: str, rows: Sequence[CountRow]
                  ) -> tuple[dict[str, str], dict[str, str], list[RowError]]:
    """The merchant's variants (sku -> id) and locations (code -> id) the rows name, and the rows naming others."""
    skus = sorted({r.sku for r in rows})
    variants: dict[str, str] = {}
    for batch in in_batches(skus, 5_000):
        variants.update(dict((await session.execute(select(Variant.sku, Variant.id).where(
            Variant.merchant_id == merchant_id, Variant.sku.in_(batch)))).all()))
    locations = dict((await session.execute(select(Location.code, Location.id).where(
        Location.merchant_id == merchant_id))).all())
    errors = [RowError(r.line, "sku", f"{r.sku} is not one of your SKUs") for r in rows if r.sku not in variants]
    errors += [RowError(r.line, "location", f"{r.location} is not one of your location codes")
               for r in rows if r.location not in locations]
    return variants, locations, errors


async def set_counts(session: AsyncSession, *, merchant_id: str, rows: Sequence[CountRow],
                     variants: dict[str, str], locations: dict[str, str], source: str, key: str) -> int:
    """Each row's level becomes its counted on_hand (and safety stock when given); the ledger records every
    difference as a `count`. Set-based: one locked read, one executemany, one ledger insert. Returns the
    number of levels that changed."""
    if not rows:
        return 0
    wanted = {(locations[r.location], variants[r.sku]): r for r in rows}
    pairs = sorted(wanted, key=lambda p: (p[1], p[0]))
    await inventory_service.ensure_levels(session, merchant_id=merchant_id, pairs=pairs)
    stmt = (select(StockLevel.location_id, StockLevel.variant_id, StockLevel.on_hand, StockLevel.safety_stock)
            .where(StockLevel.merchant_id == merchant_id,
                   StockLevel.variant_id.in_(sorted({v for _, v in pairs})))
            .order_by(StockLevel.variant_id, StockLevel.location_id))
    if dialect_of(session) == "postgresql":
        stmt = stmt.with_for_update()
    current = {(loc, var): (on_hand, safety) for loc, var, on_hand, safety in (await session.execute(stmt)).all()}
    now = utcnow()
    params: list[dict[str, Any]] = []
    ledger: list[dict[str, Any]] = []
    for pair in pairs:
        row = wanted[pair]
        on_hand, safety = current[pair]
        new_safety = safety if row.safety_stock is None else row.safety_stock
        if row.on_hand == on_hand and new_safety == safety:
            continue
        params.append({"b_loc": pair[0], "b_var": pair[1], "b_on_hand": row.on_hand, "b_safety": new_safety,
                       "b_at": now})
        if row.on_hand != on_hand:
            ledger.append({"merchant_id": merchant_id, "location_id": pair[0], "variant_id": pair[1],
                           "kind": "count", "on_hand_delta": row.on_hand - on_hand, "reserved_delta": 0,
                           "source": source, "idempotency_key": f"{key}:{pair[0]}:{pair[1]}"})
    if params:
        await session.execute(_SET_COUNT, params)
        inventory_service.note_changes(session, [(p["b_loc"], p["b_var"]) for p in params])
    await inventory_service.record_movements(session, ledger)
    return len(params)


async def count_rows(session: AsyncSession, *, merchant_id: str, after: str | None, limit: int
                     ) -> list[tuple[str, str, str, int, int]]:
    """A page of the merchant's levels as (level id, sku, location code, on_hand, safety_stock), by level id."""
    stmt = (select(StockLevel.id, Variant.sku, Location.code, StockLevel.on_hand, StockLevel.safety_stock)
            .join(Variant, Variant.id == StockLevel.variant_id).join(Location, Location.id == StockLevel.location_id)
            .where(StockLevel.merchant_id == merchant_id).order_by(StockLevel.id).limit(limit))
    if after is not None:
        stmt = stmt.where(StockLevel.id > after)
    return [(r[0], r[1], r[2], r[3], r[4]) for r in (await session.execute(stmt)).all()]
