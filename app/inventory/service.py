"""Stock use cases. Every change is a conditional UPDATE plus a ledger row; nothing reads-then-writes.

Writers touch `stock_level` rows in (variant_id, location_id) order, so two orders never wait on each
other in a cycle. None of these functions commits: the caller's use case owns the transaction.

The changes feed: every function here notes the (location, variant) levels it changed in the session
(`note_changes`). Just before the transaction commits, a session hook takes the next number of each
touched location's `StockChangeCounter` (in location order, as the last writes of the transaction, so
the lock is held only for the commit and never while waiting on a level row) and stamps it on those
levels. See `StockChangeCounter` for why that makes the feed gap-free. A bulk writer that holds all its
levels' locks may instead take the number itself (`take_change_seq`) and stamp it in its own UPDATE.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Select,
    Table,
    bindparam,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.catalog.models import Product, Variant
from app.core import events
from app.core.clock import utcnow
from app.core.errors import NotFound
from app.core.ids import new_id
from app.db import DIALECTS, dialect_of, execute, execute_many, fetch, in_list, insert_ignore, unpacked
from app.inventory.allocation import Need, Plan, Take, plan_delivery, plan_pickup
from app.inventory.errors import OutOfStock
from app.inventory.models import Allocation, StockChangeCounter, StockLevel, StockMovement
from app.inventory.sync import in_touch, sync_status
from app.merchants.models import Location, Merchant

_LEVELS = cast(Table, StockLevel.__table__)


CHANGES_KEY = "inventory.changed_levels"



def note_changes(session: AsyncSession | Session, pairs: Iterable[tuple[str, str]]) -> None:
    """Remember (location, variant) levels changed in this transaction, for the changes feed."""
    pending: dict[str, set[str]] = session.info.setdefault(CHANGES_KEY, {})
    for loc, var in pairs:
        pending.setdefault(loc, set()).add(var)


def _next_seq(session: Session, location_id: str) -> int:
    seq = session.execute(update(StockChangeCounter).where(StockChangeCounter.location_id == location_id)
                          .values(seq=StockChangeCounter.seq + 1).returning(StockChangeCounter.seq)
                          .execution_options(synchronize_session=False)).scalar_one()
    return int(seq)


def _take_seq(session: Session, location_id: str) -> int:
    session.execute(insert_ignore(dialect_of(session), StockChangeCounter, ["location_id"]),
                    [{"location_id": location_id, "seq": 0}])
    return _next_seq(session, location_id)


async def take_change_seq(session: AsyncSession, *, location_id: str) -> int:
    """The location's next change number, for a writer that stamps `change_seq` on its levels itself.

    Call it only once every level the transaction changes at that location is locked (the counter stays
    locked until commit, and its holder must never wait for a level row).
    """
    return await session.run_sync(_take_seq, location_id)


# Location kinds never change, so which locations have tills is cached per process.
_FEED_KINDS = ("store", "pickup_point")
_has_feed: dict[str, bool] = {}


def may_feed_changes(location_ids: Iterable[str]) -> bool:
    """Whether a change at any of these locations may need a change number (a store or pickup point, or a
    location whose kind this process has not seen yet)."""
    return any(_has_feed.get(loc, True) for loc in location_ids)


def _feed_locations(session: Session, location_ids: Iterable[str]) -> list[str]:
    """The locations among these that have a changes feed: stores and pickup points, where tills are.

    Warehouses have no devices, so their changes are not stamped: a checkout served from a warehouse
    takes no per-location counter lock and pays no extra statements.
    """
    unknown = [loc for loc in location_ids if loc not in _has_feed]
    if unknown:
        kinds = dict(session.execute(select(Location.id, Location.kind).where(Location.id.in_(unknown))).all())
        for loc in unknown:
            if loc in kinds:
                _has_feed[loc] = kinds[loc] in _FEED_KINDS
    return sorted(loc for loc in location_ids if _has_feed.get(loc, True))


def _stamp(session: Session) -> dict[str, int]:
    pending: dict[str, set[str]] | None = session.info.pop(CHANGES_KEY, None)
    if not pending:
        return {}
    locations = _feed_locations(session, pending)
    if not locations:
        return {}
    stmt = insert_ignore(dialect_of(session), StockChangeCounter, ["location_id"])
    session.execute(stmt, [{"location_id": loc, "seq": 0} for loc in locations])
    stamped: dict[str, int] = {}
    for loc in locations:
        seq = _next_seq(session, loc)
        session.execute(update(StockLevel)
                        .where(StockLevel.location_id == loc, StockLevel.variant_id.in_(sorted(pending[loc])))
                        .values(change_seq=seq).execution_options(synchronize_session=False))
        stamped[loc] = int(seq)
    return stamped


@event.listens_for(Session, "before_commit")
def _stamp_before_commit(session: Session) -> None:
    _stamp(session)


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(CHANGES_KEY, None)


async def ensure_levels(session: AsyncSession, *, merchant_id: str, pairs: Iterable[tuple[str, str]]) -> None:
    """Create missing (location, variant) level rows at zero, in one statement."""
    rows = [{"id": new_id("stk"), "merchant_id": merchant_id, "location_id": loc, "variant_id": var,
             "on_hand": 0, "reserved": 0, "safety_stock": 0, "updated_at": utcnow()}
            for loc, var in sorted(set(pairs))]
    if rows:
        await session.execute(insert_ignore(dialect_of(session), StockLevel, ["location_id", "variant_id"]), rows)


_INSERT_MOVEMENTS = insert(cast(Table, StockMovement.__table__))
_INSERT_ALLOCATIONS = insert(cast(Table, Allocation.__table__))
# Many ledger rows in one statement on PostgreSQL (an executemany costs a bind and execute per row).
_PG_INSERT_MOVEMENTS = text("""
INSERT INTO stock_movement (merchant_id, location_id, variant_id, kind, on_hand_delta, reserved_delta, source,
                            idempotency_key, occurred_at, recorded_at)
SELECT * FROM unnest(CAST(:merchant_ids AS varchar[]), CAST(:location_ids AS varchar[]),
                     CAST(:variant_ids AS varchar[]), CAST(:kinds AS varchar[]), CAST(:on_hand AS bigint[]),
                     CAST(:reserved AS bigint[]), CAST(:sources AS varchar[]), CAST(:keys AS varchar[]),
                     CAST(:occurred AS timestamptz[]), CAST(:recorded AS timestamptz[]))
""")
_MANY = 8  # from this many rows on, one unnest statement beats an executemany


async def insert_movements(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write ledger rows as they are (every column given): one statement whatever their number."""
    if not rows:
        return
    if len(rows) < _MANY or dialect_of(session) != "postgresql":
        await execute_many(session, _INSERT_MOVEMENTS, rows)
        return
    await execute(session, _PG_INSERT_MOVEMENTS, {
        "merchant_ids": [r["merchant_id"] for r in rows], "location_ids": [r["location_id"] for r in rows],
        "variant_ids": [r["variant_id"] for r in rows], "kinds": [r["kind"] for r in rows],
        "on_hand": [r["on_hand_delta"] for r in rows], "reserved": [r["reserved_delta"] for r in rows],
        "sources": [r["source"] for r in rows], "keys": [r["idempotency_key"] for r in rows],
        "occurred": [r["occurred_at"] for r in rows], "recorded": [r["recorded_at"] for r in rows]})


async def record_movements(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Write ledger rows, and announce them (`_announce`)."""
    now = utcnow()
    await insert_movements(session, [{"occurred_at": now, "recorded_at": now, **r} for r in rows])
    await _announce(session, rows)


async def _announce(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """For ledger rows written: note the levels for the changes feed and emit `stock.changed` per row."""
    note_changes(session, ((r["location_id"], r["variant_id"]) for r in rows))
    if rows:
        await events.emit_many(session, stock_changed_events(rows))


async def set_on_hand(session: AsyncSession, *, merchant_id: str, location_id: str, variant_id: str,
                      on_hand: int, source: str, key: str, safety_stock: int | None = None) -> StockLevel:
    """A counted quantity: on_hand becomes `on_hand`; the ledger records the difference."""
    await ensure_levels(session, merchant_id=merchant_id, pairs=[(location_id, variant_id)])
    level = (await session.scalars(
        select(StockLevel).where(StockLevel.location_id == location_id, StockLevel.variant_id == variant_id)
        .with_for_update())).one()
    delta = on_hand - level.on_hand
    note_changes(session, [(location_id, variant_id)])
    # A count made now: POS events that occurred before it are superseded (see app.inventory.pos.rules).
    now = utcnow()
    values: dict[str, Any] = {"on_hand": on_hand, "updated_at": now, "last_count_at": now,
                              "last_count_event_id": ""}
    if safety_stock is not None:
        values["safety_stock"] = safety_stock
    await session.execute(update(StockLevel).where(StockLevel.id == level.id).values(**values))
    if delta:
        await record_movements(session, [{"merchant_id": merchant_id, "location_id": location_id,
                                    "variant_id": variant_id, "kind": "count", "on_hand_delta": delta,
                                    "reserved_delta": 0, "source": source, "idempotency_key": key}])
    await session.refresh(level)
    return level


@dataclass(frozen=True, slots=True)
class LineNeed:
    variant_id: str
    sku: str
    quantity: int


# What each in-touch location can promise of each variant: joined to a read of the variants, a checkout plans
# from it without a read of its own (`Snapshot`). `:now` is the time the sync health is judged at.
AVAILABLE_LEVELS = (select(StockLevel.merchant_id, StockLevel.location_id, StockLevel.variant_id,
                           (StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock).label("free"),
                           Location.kind.label("location_kind"))
                    .join(Location, Location.id == StockLevel.location_id)
                    .where(in_touch(StockLevel.location_id, bindparam("now", type_=DateTime(timezone=True))))
                    .subquery("available"))


# The reservation's reads of a merchant's levels, built once: PostgreSQL takes the variant ids as one array
# parameter (any number of them, one prepared statement), SQLite as an expanded IN list.
def _available_levels(variants: ColumnElement[bool]) -> Select[Any]:
    return (select(AVAILABLE_LEVELS.c.location_id, AVAILABLE_LEVELS.c.variant_id, AVAILABLE_LEVELS.c.free,
                   AVAILABLE_LEVELS.c.location_kind)
            .where(AVAILABLE_LEVELS.c.merchant_id == bindparam("merchant_id"), variants))


_AVAILABLE = {d: _available_levels(in_list(AVAILABLE_LEVELS.c.variant_id, "variant_ids", d)) for d in DIALECTS}
_AVAILABLE_AT = {dialect: stmt.where(AVAILABLE_LEVELS.c.location_id == bindparam("location_id"))
                 for dialect, stmt in _AVAILABLE.items()}


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What a merchant's locations could promise of some variants when they were read (`AVAILABLE_LEVELS`):
    enough to plan a reservation, which checks every take again under lock."""

    available: dict[tuple[str, str], int] = field(default_factory=dict)  # (location_id, variant_id) -> units
    kinds: dict[str, str] = field(default_factory=dict)  # location_id -> kind

    def add(self, location_id: str, variant_id: str, free: int, kind: str) -> None:
        """One row of `AVAILABLE_LEVELS`."""
        self.available[(location_id, variant_id)] = int(free)
        self.kinds[location_id] = kind


async def read_snapshot(session: AsyncSession, *, merchant_id: str, variant_ids: Sequence[str],
                   only_location: str | None = None) -> Snapshot:
    """What the merchant's in-touch locations (or one of them) can promise of these variants now (a read)."""
    params: dict[str, Any] = {"merchant_id": merchant_id, "variant_ids": list(variant_ids), "now": utcnow()}
    if only_location:
        params["location_id"] = only_location
    statements = _AVAILABLE_AT if only_location else _AVAILABLE
    found = Snapshot()
    for row in unpacked(await fetch(session, statements[dialect_of(session)], params)):
        found.add(*row)
    return found


async def plan_takes(session: AsyncSession, *, merchant_id: str, needs: Mapping[str, int], sku_of: Mapping[str, str],
                     pickup_location_id: str | None = None, snapshot: Snapshot | None = None) -> list[Take]:
    """Where to take `needs` (units by variant) from, by the allocation rule, from current levels (or from
    `snapshot`, the merchant's levels read a moment ago); in the (variant, location) order every stock writer
    locks in. OutOfStock names every SKU that cannot be covered."""
    wanted = [Need(v, q) for v, q in sorted(needs.items()) if q > 0]
    if snapshot is None:
        snapshot = await read_snapshot(session, merchant_id=merchant_id, variant_ids=[n.variant_id for n in wanted],
                                       only_location=pickup_location_id)
    _has_feed.update((loc, kind in _FEED_KINDS) for loc, kind in snapshot.kinds.items())
    plan: Plan = (plan_pickup(wanted, snapshot.available, pickup_location_id) if pickup_location_id
                  else plan_delivery(wanted, snapshot.available, snapshot.kinds))
    if plan.short:
        raise OutOfStock(sorted(sku_of[v] for v in plan.short))
    return sorted(plan.takes, key=lambda t: (t.variant_id, t.location_id))


def stock_changed_events(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str | None, dict[str, Any]]]:
    """The `stock.changed` event of each ledger row."""
    return [("stock.changed", r["merchant_id"],
             {"location_id": r["location_id"], "variant_id": r["variant_id"], "kind": r["kind"],
              "on_hand_delta": r.get("on_hand_delta", 0), "reserved_delta": r.get("reserved_delta", 0)})
            for r in rows]


# A take: the level's units are taken only where they are still free (checked by row count). SQLite's orders
# and the holds of either database (`hold`).
_TAKE_IF_FREE = (update(_LEVELS)
                .where(_LEVELS.c.location_id == bindparam("b_loc"), _LEVELS.c.variant_id == bindparam("b_var"),
                       _LEVELS.c.on_hand - _LEVELS.c.reserved - _LEVELS.c.safety_stock >= bindparam("b_q"))
                .values(reserved=_LEVELS.c.reserved + bindparam("b_q"), updated_at=bindparam("b_at")))


async def take_sqlite(session: AsyncSession, takes: Sequence[tuple[str, str, Take]]) -> bool:
    """SQLite's reservation of (merchant, order, take)s, all or nothing: one conditional UPDATE per take in one
    executemany, then an allocation, a `reserve` ledger row and a `stock.changed` event per take. False (and nothing
    recorded; the caller rolls back the takes made) if any no longer fits: levels changed since the plan was read.

    SQLite serialises writers (every transaction begins IMMEDIATE), so levels read in the writing transaction cannot
    change before the takes. (PostgreSQL places orders in one statement: `app.orders.placing.statement`.)
    """
    if not takes:
        return True
    now = utcnow()
    result = await session.execute(_TAKE_IF_FREE, [
        {"b_loc": t.location_id, "b_var": t.variant_id, "b_q": t.quantity, "b_at": now} for _, _, t in takes])
    if cast(CursorResult[Any], result).rowcount != len(takes):
        return False
    by_order: dict[tuple[str, str], list[Take]] = defaultdict(list)
    for merchant_id, order_id, take in takes:
        by_order[(merchant_id, order_id)].append(take)
    for (merchant_id, order_id), order_takes in by_order.items():
        await record_reservations(session, merchant_id=merchant_id, order_id=order_id, takes=order_takes)
    return True


async def record_reservations(session: AsyncSession, *, merchant_id: str, order_id: str,
                              takes: Sequence[Take]) -> None:
    """Allocation rows, `reserve` ledger rows and `stock.changed` events for takes already made on the levels:
    one statement each, whatever their number."""
    if not takes:
        return
    base = new_id("alc")  # one time-ordered id, then a 5-digit suffix per row: unique, in take order
    ids = [f"{base}{i:05d}" for i in range(len(takes))]
    await execute_many(session, _INSERT_ALLOCATIONS, [
        {"id": ids[i], "merchant_id": merchant_id, "order_id": order_id, "variant_id": t.variant_id,
         "location_id": t.location_id, "quantity": t.quantity, "status": "reserved"} for i, t in enumerate(takes)])
    await record_movements(session, [
        {"merchant_id": merchant_id, "location_id": t.location_id, "variant_id": t.variant_id, "kind": "reserve",
         "on_hand_delta": 0, "reserved_delta": t.quantity, "source": f"order:{order_id}",
         "idempotency_key": f"reserve:{order_id}:{t.variant_id}:{t.location_id}:{i}"} for i, t in enumerate(takes)])


async def _allocations(session: AsyncSession, order_id: str, status: str) -> list[Allocation]:
    return list((await session.scalars(
        select(Allocation).where(Allocation.order_id == order_id, Allocation.status == status)
        .order_by(Allocation.variant_id, Allocation.location_id))).all())


# One statement for many levels (an executemany): on_hand and reserved move by the given deltas.
_SHIFT_LEVEL = (update(_LEVELS)
                .where(_LEVELS.c.location_id == bindparam("b_loc"), _LEVELS.c.variant_id == bindparam("b_var"))
                .values(on_hand=_LEVELS.c.on_hand + bindparam("b_on_hand"),
                        reserved=_LEVELS.c.reserved + bindparam("b_reserved"), updated_at=bindparam("b_at")))


async def _shift_levels(session: AsyncSession, rows: Sequence[dict[str, Any]], *, kind: str, source: str,
                        key: Callable[[dict[str, Any]], str]) -> None:
    """Apply movement rows (in the given (variant, location) order) to their levels and write them to the ledger.

    One executemany for the levels, one insert for the movements: a 10,000-line order costs no more
    round trips than a one-line one. `key` names a row's movement (its idempotency key).
    """
    if not rows:
        return
    now = utcnow()
    await session.execute(_SHIFT_LEVEL, [
        {"b_loc": r["location_id"], "b_var": r["variant_id"], "b_on_hand": r["on_hand_delta"],
         "b_reserved": r["reserved_delta"], "b_at": now} for r in rows])
    await record_movements(session, [
        {"merchant_id": r["merchant_id"], "location_id": r["location_id"], "variant_id": r["variant_id"],
         "kind": kind, "on_hand_delta": r["on_hand_delta"], "reserved_delta": r["reserved_delta"],
         "source": source, "idempotency_key": key(r)} for r in rows])


async def _settle_allocations(session: AsyncSession, *, order_id: str, status: str, kind: str,
                              key: Callable[[dict[str, Any]], str], fulfilled: bool) -> int:
    """Move an order's reserved allocations to `status`: reserved goes down, and on_hand too if they left."""
    allocs = await _allocations(session, order_id, "reserved")
    if not allocs:
        return 0
    await session.execute(update(Allocation).where(Allocation.id.in_([a.id for a in allocs])).values(status=status))
    await _shift_levels(session, [
        {"merchant_id": a.merchant_id, "location_id": a.location_id, "variant_id": a.variant_id, "id": a.id,
         "on_hand_delta": -a.quantity if fulfilled else 0, "reserved_delta": -a.quantity} for a in allocs],
        kind=kind, source=f"order:{order_id}", key=key)
    return sum(a.quantity for a in allocs)


async def release_order(session: AsyncSession, *, order_id: str, reason: str) -> int:
    """Give back everything still reserved for an order (cancel, expiry). Returns units released."""
    return await _settle_allocations(session, order_id=order_id, status="released", kind="release",
                                     key=lambda r: f"release:{r['id']}:{reason}", fulfilled=False)


async def fulfil_order(session: AsyncSession, *, order_id: str) -> int:
    """The goods left (shipped or collected): on_hand and reserved both drop."""
    return await _settle_allocations(session, order_id=order_id, status="fulfilled", kind="fulfil",
                                     key=lambda r: f"fulfil:{r['id']}", fulfilled=True)


async def restock(session: AsyncSession, *, order_id: str, return_id: str,
                  quantities: Mapping[str, int]) -> None:
    """Returned goods back on hand, at the locations they were fulfilled from (first ones first)."""
    rows: list[dict[str, Any]] = []
    left = dict(quantities)
    for a in await _allocations(session, order_id, "fulfilled"):
        q = min(left.get(a.variant_id, 0), a.quantity)
        if q > 0:
            left[a.variant_id] -= q
            rows.append({"merchant_id": a.merchant_id, "location_id": a.location_id, "variant_id": a.variant_id,
                         "id": a.id, "on_hand_delta": q, "reserved_delta": 0})
    await _shift_levels(session, rows, kind="restock", source=f"return:{return_id}",
                        key=lambda r: f"restock:{return_id}:{r['id']}")


async def hold(session: AsyncSession, *, merchant_id: str, takes: Sequence[Take], source: str) -> list[Take]:
    """Reserve units for something that is not an order (a flash sale's allotment), each take only where its
    units are still free. Returns the takes made (a `reserve` ledger row each); the caller decides whether a
    partial hold is enough (or rolls back)."""
    now = utcnow()
    made: list[Take] = []
    for take in takes:
        result = await session.execute(_TAKE_IF_FREE, {"b_loc": take.location_id, "b_var": take.variant_id,
                                                      "b_q": take.quantity, "b_at": now})
        if cast(CursorResult[Any], result).rowcount == 1:
            made.append(take)
    await record_movements(session, [
        {"merchant_id": merchant_id, "location_id": t.location_id, "variant_id": t.variant_id, "kind": "reserve",
         "on_hand_delta": 0, "reserved_delta": t.quantity, "source": source,
         "idempotency_key": f"hold:{source}:{t.location_id}:{new_id('hld')}"} for t in made])
    return made


async def hold_free(session: AsyncSession, *, merchant_id: str, variant_id: str, quantity: int,
                    source: str) -> list[Take] | None:
    """Reserve `quantity` free units of a variant where a delivery would take them from; None if there are not
    that many free (then nothing is held)."""
    snapshot = await read_snapshot(session, merchant_id=merchant_id, variant_ids=[variant_id])
    plan = plan_delivery([Need(variant_id, quantity)], snapshot.available, snapshot.kinds)
    if plan.short:
        return None
    takes = sorted(plan.takes, key=lambda t: (t.variant_id, t.location_id))
    made = await hold(session, merchant_id=merchant_id, takes=takes, source=source)
    if len(made) != len(takes):  # a concurrent writer took some since the read: give back what was held
        await unhold(session, merchant_id=merchant_id, takes=made, source=source)
        return None
    return made


async def unhold(session: AsyncSession, *, merchant_id: str, takes: Sequence[Take], source: str) -> None:
    """Give back units reserved by `hold` (a `release` ledger row each)."""
    await _shift_levels(session, [
        {"merchant_id": merchant_id, "location_id": t.location_id, "variant_id": t.variant_id,
         "on_hand_delta": 0, "reserved_delta": -t.quantity} for t in takes if t.quantity],
        kind="release", source=source, key=lambda r: f"unhold:{source}:{r['location_id']}:{new_id('hld')}")


async def hand_over(session: AsyncSession, *, merchant_id: str, order_id: str, takes: Sequence[Take],
                    source: str) -> None:
    """An order takes over units that `hold` reserved for it (a flash sale's allotment): allocation rows for the
    order and, per take, a `release` from the hold and a `reserve` for the order in the ledger. The levels stay
    as they are (the units were reserved already), so no level is locked and nothing is announced."""
    if not takes:
        return
    base = new_id("alc")
    await execute_many(session, _INSERT_ALLOCATIONS, [
        {"id": f"{base}{i:05d}", "merchant_id": merchant_id, "order_id": order_id, "variant_id": t.variant_id,
         "location_id": t.location_id, "quantity": t.quantity, "status": "reserved"} for i, t in enumerate(takes)])
    now = utcnow()
    await insert_movements(session, [
        {"merchant_id": merchant_id, "location_id": t.location_id, "variant_id": t.variant_id, "kind": kind,
         "on_hand_delta": 0, "reserved_delta": sign * t.quantity, "source": src,
         "idempotency_key": f"{kind}:{source}:{order_id}:{t.location_id}", "occurred_at": now, "recorded_at": now}
        for t in takes for kind, sign, src in (("release", -1, source), ("reserve", 1, f"order:{order_id}"))])


async def order_takes(session: AsyncSession, *, order_id: str, status: str) -> list[Take]:
    """An order's allocations in `status` (reserved, released, fulfilled) as takes, in lock order."""
    return [Take(a.variant_id, a.location_id, a.quantity) for a in await _allocations(session, order_id, status)]


async def allocation_locations(session: AsyncSession, *, order_id: str) -> list[str]:
    return list((await session.scalars(select(Allocation.location_id).where(Allocation.order_id == order_id)
                                       .distinct())).all())


# ---- reads ---------------------------------------------------------------------------------------------

async def public_availability(session: AsyncSession, *, sku: str, merchant_id: str,
                              viewer_merchant_id: str | None) -> dict[str, Any]:
    """Availability of a SKU by location. Public for active merchants; the owner also sees the counts."""
    own = viewer_merchant_id == merchant_id
    stmt = (select(Variant.id).join(Product, Product.id == Variant.product_id)
            .join(Merchant, Merchant.id == Variant.merchant_id)
            .where(Variant.merchant_id == merchant_id, Variant.sku == sku))
    if not own:
        stmt = stmt.where(Merchant.status == "active", Product.status == "active")
    variant_id = await session.scalar(stmt)
    if variant_id is None:
        raise NotFound("sku", sku)
    rows = (await session.execute(
        select(StockLevel.location_id, Location.name, Location.kind, StockLevel.on_hand, StockLevel.reserved,
               StockLevel.safety_stock)
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.variant_id == variant_id).order_by(Location.id))).all()
    held = {loc for loc, status in (await sync_status(session, [r.location_id for r in rows])).items()
            if status.out_of_touch}  # a till out of touch: that store's stock is not offered online
    locations = []
    for r in rows:
        item: dict[str, Any] = {"location_id": r.location_id, "name": r.name, "kind": r.kind,
                                "available": 0 if r.location_id in held
                                else max(r.on_hand - r.reserved - r.safety_stock, 0)}
        if own:
            item.update(on_hand=r.on_hand, reserved=r.reserved, safety_stock=r.safety_stock,
                        online_stock_held=r.location_id in held)
        locations.append(item)
    return {"sku": sku, "variant_id": variant_id, "available": sum(loc["available"] for loc in locations),
            "locations": locations}


async def ledger_totals(session: AsyncSession, *, merchant_id: str | None = None
                        ) -> dict[tuple[str, str], tuple[int, int]]:
    """Levels rebuilt from the ledger: (location, variant) -> (on_hand, reserved)."""
    stmt = select(StockMovement.location_id, StockMovement.variant_id, func.sum(StockMovement.on_hand_delta),
                  func.sum(StockMovement.reserved_delta)).group_by(StockMovement.location_id,
                                                                   StockMovement.variant_id)
    if merchant_id:  # through the merchant's locations: the ledger is indexed by level, not by merchant
        stmt = stmt.where(StockMovement.location_id.in_(select(Location.id).where(Location.merchant_id == merchant_id)))
    return {(r[0], r[1]): (int(r[2]), int(r[3])) for r in (await session.execute(stmt)).all()}


async def level_totals(session: AsyncSession, *, merchant_id: str | None = None
                       ) -> dict[tuple[str, str], tuple[int, int]]:
    stmt = select(StockLevel.location_id, StockLevel.variant_id, StockLevel.on_hand, StockLevel.reserved)
    if merchant_id:
        stmt = stmt.where(StockLevel.merchant_id == merchant_id)
    return {(r[0], r[1]): (r[2], r[3]) for r in (await session.execute(stmt)).all() if r[2] or r[3]}


async def rebuild_levels(session: AsyncSession, *, merchant_id: str | None = None) -> int:
    """Reset every level to what the ledger says; returns how many rows were wrong (0 when consistent)."""
    ledger = await ledger_totals(session, merchant_id=merchant_id)
    levels = await level_totals(session, merchant_id=merchant_id)
    wrong = 0
    for key in set(ledger) | set(levels):
        want = ledger.get(key, (0, 0))
        if levels.get(key, (0, 0)) != want:
            wrong += 1
            note_changes(session, [key])
            await session.execute(update(StockLevel).where(StockLevel.location_id == key[0],
                                                           StockLevel.variant_id == key[1])
                                  .values(on_hand=want[0], reserved=want[1], updated_at=utcnow()))
    return wrong


async def set_stock_by_sku(session: AsyncSession, *, merchant_id: str, location_id: str, sku: str,
                           on_hand: int, safety_stock: int | None, source: str, key: str
                           ) -> tuple[StockLevel, str]:
    """`set_on_hand` for one of the merchant's SKUs, committed (the PUT stock use case)."""
    variant_id = await session.scalar(select(Variant.id).where(Variant.merchant_id == merchant_id,
                                                              Variant.sku == sku))
    if variant_id is None:
        raise NotFound("sku", sku)
    level = await set_on_hand(session, merchant_id=merchant_id, location_id=location_id, variant_id=variant_id,
                              on_hand=on_hand, source=source, key=key, safety_stock=safety_stock)
    await session.commit()
    return level, sku


async def load_counts(session: AsyncSession, *, merchant_id: str, counts: Sequence[tuple[str, str, int]],
                      source: str) -> int:
    """Bulk initial counts (location, variant, on_hand) for levels that do not exist yet; set-based.

    Used by the demo loader and imports. Levels that already exist are left alone, so a second run of
    the same load changes nothing. Returns how many levels were created.
    """
    if not counts:
        return 0
    pairs = {(loc, var) for loc, var, _ in counts}
    existing = {(r[0], r[1]) for r in (await session.execute(
        select(StockLevel.location_id, StockLevel.variant_id).where(
            StockLevel.merchant_id == merchant_id,
            StockLevel.variant_id.in_({v for _, v in pairs})))).all()}
    fresh = [(loc, var, q) for loc, var, q in counts if (loc, var) not in existing]
    if not fresh:
        return 0
    note_changes(session, ((loc, var) for loc, var, _ in fresh))
    now = utcnow()
    await session.execute(insert(StockLevel), [
        {"id": new_id("stk"), "merchant_id": merchant_id, "location_id": loc, "variant_id": var, "on_hand": q,
         "reserved": 0, "safety_stock": 0, "updated_at": now, "last_count_at": now, "last_count_event_id": ""}
        for loc, var, q in fresh])
    await session.execute(insert(StockMovement), [
        {"merchant_id": merchant_id, "location_id": loc, "variant_id": var, "kind": "count", "on_hand_delta": q,
         "reserved_delta": 0, "source": source, "idempotency_key": f"{source}:{loc}:{var}", "occurred_at": now,
         "recorded_at": now} for loc, var, q in fresh if q])
    return len(fresh)
