"""Set-based stock reservation for orders of thousands of lines (wholesale batch orders).

`reserve_order` has the signature and the effects of `inventory.service.reserve_order` (allocations,
`reserve` ledger rows, `stock.changed` events; all or nothing, `OutOfStock` naming every short SKU),
but does it in a fixed number of statements instead of one UPDATE per line:

  1. `availability(lock=True)`: one SELECT of every level of the order's variants. On PostgreSQL it
     takes the row locks (`FOR UPDATE`, rows in (variant, location) order, the order every stock
     writer uses), so nothing can change between the plan and the write. SQLite writers are already
     serialised (`BEGIN IMMEDIATE`).
  2. plan with the same pure rule as single orders (`allocation.plan_delivery`).
  3. one conditional UPDATE for all takes (PostgreSQL: `UPDATE ... FROM unnest(...)`; SQLite: an
     executemany of the conditional UPDATE), checked by row count.
  4. one INSERT each for allocations and ledger rows (`unnest` on PostgreSQL, executemany on SQLite), and
     the outbox events.

None of these functions commits: the caller's use case owns the transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, DateTime, String, any_, bindparam, literal, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from app.core.clock import utcnow
from app.db import dialect_of
from app.inventory import service as inventory_service
from app.inventory.allocation import Need, Plan, Take, plan_delivery, plan_pickup
from app.inventory.errors import OutOfStock
from app.inventory.models import StockLevel
from app.inventory.service import LineNeed
from app.inventory.sync import in_touch
from app.merchants.models import Location

_PG_RESERVE = text("""
UPDATE stock_level AS s
   SET reserved = s.reserved + v.q, updated_at = :now
  FROM unnest(CAST(:locs AS varchar[]), CAST(:vars AS varchar[]), CAST(:qs AS bigint[]))
       AS v(location_id, variant_id, q)
 WHERE s.location_id = v.location_id AND s.variant_id = v.variant_id
   AND s.on_hand - s.reserved - s.safety_stock >= v.q
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))

_SQLITE_RESERVE = text("""
UPDATE stock_level
   SET reserved = reserved + :q, updated_at = :now
 WHERE location_id = :loc AND variant_id = :var AND on_hand - reserved - safety_stock >= :q
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))


@dataclass(frozen=True, slots=True)
class Availability:
    """What can be promised per (location_id, variant_id), and the kind of each location."""

    available: dict[tuple[str, str], int]
    kinds: dict[str, str]



def one_of(session: AsyncSession, column: QueryableAttribute[str], values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN values` for thousands of values: one array parameter on PostgreSQL (`= ANY(:array)`),
    which compiles and plans in constant time; an expanded IN on SQLite."""
    if dialect_of(session) == "postgresql":
        return column == any_(literal(list(values), postgresql.ARRAY(String)))
    return column.in_(list(values))


async def availability(session: AsyncSession, *, merchant_id: str, variant_ids: Iterable[str],
                       only_location: str | None = None, lock: bool = False) -> Availability:
    """Available stock of many variants in one query; with `lock`, the rows stay locked (PostgreSQL)."""
    ids = sorted(set(variant_ids))
    if not ids:
        return Availability({}, {})
    stmt = (select(StockLevel.location_id, StockLevel.variant_id,
                   StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock, Location.kind)
            .join(Location, Location.id == StockLevel.location_id)
            .where(StockLevel.merchant_id == merchant_id, one_of(session, StockLevel.variant_id, ids),
                   in_touch(StockLevel.location_id, utcnow()))
            .order_by(StockLevel.variant_id, StockLevel.location_id))
    if only_location:
        stmt = stmt.where(StockLevel.location_id == only_location)
    if lock and dialect_of(session) == "postgresql":
        stmt = stmt.with_for_update(of=StockLevel)
    available: dict[tuple[str, str], int] = {}
    kinds: dict[str, str] = {}
    for loc, var, avail, kind in (await session.execute(stmt)).all():
        available[(loc, var)] = int(avail)
        kinds[loc] = kind
    return Availability(available, kinds)


def plan(needs: Sequence[Need], stock: Availability, pickup_location_id: str | None = None) -> Plan:
    """The takes that cover `needs` (one per variant) from `stock`, and the variants that cannot be covered."""
    ordered = sorted(needs, key=lambda n: n.variant_id)
    if pickup_location_id:
        return plan_pickup(ordered, stock.available, pickup_location_id)
    return plan_delivery(ordered, stock.available, stock.kinds)


async def _take_all(session: AsyncSession, takes: Sequence[Take]) -> int:
    """Reserve every take with one conditional statement; returns how many rows were reserved."""
    now = utcnow()
    if dialect_of(session) == "postgresql":
        result = await session.execute(_PG_RESERVE, {
            "now": now, "locs": [t.location_id for t in takes], "vars": [t.variant_id for t in takes],
            "qs": [t.quantity for t in takes]})
        return int(result.rowcount)  # type: ignore[attr-defined]
    result = await session.execute(_SQLITE_RESERVE, [
        {"loc": t.location_id, "var": t.variant_id, "q": t.quantity, "now": now} for t in takes])
    return int(result.rowcount)  # type: ignore[attr-defined]


async def reserve_order(session: AsyncSession, *, merchant_id: str, order_id: str, lines: Sequence[LineNeed],
                        pickup_location_id: str | None = None, stock: Availability | None = None) -> list[Take]:
    """Reserve every line of an order or nothing, set-based; OutOfStock names every short SKU.

    `stock` is a snapshot the caller already read with `availability(lock=True)` in this transaction
    (so it cannot have changed); without it the levels are read and locked here.
    """
    needs_by_var: dict[str, int] = defaultdict(int)
    sku_of = {ln.variant_id: ln.sku for ln in lines}
    for ln in lines:
        needs_by_var[ln.variant_id] += ln.quantity
    needs = [Need(v, q) for v, q in sorted(needs_by_var.items())]
    if stock is None:
        stock = await availability(session, merchant_id=merchant_id, variant_ids=needs_by_var,
                                   only_location=pickup_location_id, lock=True)
    planned = plan(needs, stock, pickup_location_id)
    if planned.short:
        raise OutOfStock(sorted(sku_of[v] for v in planned.short))
    takes = sorted(planned.takes, key=lambda t: (t.variant_id, t.location_id))
    if takes and await _take_all(session, takes) != len(takes):
        # Cannot happen under the locks above; if it ever does the caller rolls back everything.
        raise OutOfStock(sorted({sku_of[t.variant_id] for t in takes}))
    await inventory_service.record_reservations(session, merchant_id=merchant_id, order_id=order_id,
                                                takes=takes)
    return takes
