"""POS sync use cases: upload a batch of till events, follow the location's changes, oversell conflicts.

An upload is set-based, a handful of statements whatever its size:

1. resolve the SKUs (one SELECT) and reject the events that break a rule, each with its reason;
2. insert the events, sorted by event id, with ON CONFLICT DO NOTHING ... RETURNING, plus a ledger row
   per applied movement (on PostgreSQL one statement over unnested arrays). What comes back is
   `applied`; the rest was seen before (`duplicate`). The unique (merchant, event_id) index makes
   concurrent uploads of one event wait for each other, so an event applies exactly once;
3. lock the touched levels in variant order (`FOR UPDATE` on PostgreSQL; SQLite serialises writers)
   and fold the new events in with `app.inventory.pos.advance`, from the latest count each level
   remembers (`last_count_at`, `last_count_event_id`). Only a level that gets a later count is
   recomputed, in SQL: that count, plus the POS movements ordered after it, plus the other ledger
   movements (online fulfilment, restocks, ...) that occurred after it;
4. one executemany sets the levels; a `pos_fold` ledger row per level carries the part of the change
   the events' own rows do not (a count, or a late event superseded by a count), so the ledger still
   sums to the levels; `stock.changed` per level;
5. record an oversell conflict (and `stock.oversold`) where on_hand now falls short of what is reserved.

Everything commits at once with the stored idempotent response: a crash leaves all or none of it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from app.catalog.models import Variant
from app.core import events, idempotency
from app.core.auth import Principal
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, NotFound, field_error
from app.core.ids import new_id
from app.core.pagination import decode_cursor, encode_cursor, keyset_page
from app.db import dialect_of, insert_ignore
from app.inventory import pos, sync
from app.inventory import service as inventory_service
from app.inventory.bulk import one_of
from app.inventory.models import (
    Allocation,
    PosEventRecord,
    StockChangeCounter,
    StockConflict,
    StockLevel,
    StockMovement,
)
from app.inventory.pos_schemas import PosEventIn

MAX_CLOCK_SKEW = timedelta(hours=1)  # a till's clock may run ahead; an event further in the future is rejected
LEVELS = cast(Table, StockLevel.__table__)
CONFLICTS = cast(Table, StockConflict.__table__)
MOVEMENTS = cast(Table, StockMovement.__table__)
POS_EVENTS = cast(Table, PosEventRecord.__table__)
POS_KIND_PREFIX = "pos_"  # ledger kinds written here: pos_sale, pos_return, pos_receive, pos_adjust, pos_fold


def _event_error(event: PosEventIn) -> str | None:
    if event.type in ("sale", "return", "receive") and event.quantity < 1:
        return f"quantity of a {event.type} must be at least 1"
    if event.type == "count" and event.quantity < 0:
        return "a count cannot be negative"
    if event.type == "adjust" and event.quantity == 0:
        return "an adjust of 0 changes nothing"
    if as_utc(event.occurred_at) > utcnow() + MAX_CLOCK_SKEW:
        return "occurred_at is in the future; check the till's clock"
    return None


def _binary(session: AsyncSession, column: Any) -> Any:
    """Compare event ids by code point on both databases (PostgreSQL's default collation does not)."""
    return column.collate("C") if dialect_of(session) == "postgresql" else column


async def upload(session: AsyncSession, *, device: Principal, idempotency_key: str | None,
                 events_in: Sequence[PosEventIn], sync_lag_minutes: int) -> dict[str, Any]:
    """Apply a batch of till events (all or nothing); a retry with the same key returns the first answer.

    The upload is also the till's sync (app/inventory/sync.py), in the same transaction.
    """
    fingerprint = idempotency.request_hash("pos-events", [e.model_dump(mode="json") for e in events_in])

    async def work() -> tuple[int, Any]:
        out = await _apply(session, device=device, events_in=events_in)
        await sync.record_sync(session, device_id=device.subject_id, lag_minutes=sync_lag_minutes)
        return 200, out

    _, body = await idempotency.run_idempotent(session, scope=device.scope, key=idempotency_key,
                                               fingerprint=fingerprint, work=work)
    return dict(body)


def _screen(events_in: Sequence[PosEventIn], skus: set[str]
            ) -> tuple[dict[int, tuple[str, str | None]], list[tuple[int, PosEventIn]]]:
    """Per event: rejected (with the reason) or a repeat within the upload; the rest are candidates."""
    status: dict[int, tuple[str, str | None]] = {}
    seen: set[str] = set()
    candidates: list[tuple[int, PosEventIn]] = []
    for i, e in enumerate(events_in):
        if e.event_id in seen:
            status[i] = ("duplicate", None)
            continue
        seen.add(e.event_id)
        error = "unknown sku" if e.sku not in skus else _event_error(e)
        if error:
            status[i] = ("rejected", error)
        else:
            candidates.append((i, e))
    return status, candidates


async def _apply(session: AsyncSession, *, device: Principal, events_in: Sequence[PosEventIn]) -> dict[str, Any]:
    merchant_id, location_id, device_id = device.tenant, device.location_id, device.subject_id or "-"
    if location_id is None:
        raise NotFound("location")
    variants = {r.sku: r for r in (await session.execute(
        select(Variant.sku, Variant.id, Variant.price, Variant.currency)
        .where(Variant.merchant_id == merchant_id, Variant.sku.in_({e.sku for e in events_in})))).all()}
    status, candidates = _screen(events_in, set(variants))
    now = utcnow()
    rows = []
    for _, e in sorted(candidates, key=lambda c: c[1].event_id):  # one order for every writer: no deadlocks
        v = variants[e.sku]
        unit_price = e.unit_price if e.unit_price is not None else v.price
        rows.append({"merchant_id": merchant_id, "location_id": location_id, "variant_id": v.id,
                     "device_id": device_id, "event_id": e.event_id, "type": e.type, "quantity": e.quantity,
                     "on_hand_delta": pos.delta(e.type, e.quantity),
                     "unit_price": unit_price if e.type in ("sale", "return") else 0,
                     "amount": e.quantity * unit_price if e.type == "sale" else 0, "currency": v.currency,
                     "occurred_at": as_utc(e.occurred_at), "recorded_at": now})
    applied = await _insert_events(session, rows, source=f"pos:{device_id}") if rows else set()
    for i, e in candidates:
        status[i] = ("applied", None) if e.event_id in applied else ("duplicate", None)

    new_rows = [r for r in rows if r["event_id"] in applied]
    seq = None
    if new_rows:
        seq = await _write_levels(session, merchant_id=merchant_id, location_id=location_id, device_id=device_id,
                                  new_rows=new_rows, sku_of={v.id: s for s, v in variants.items()})
    if seq is None:
        seq = int(await session.scalar(select(StockChangeCounter.seq)
                                       .where(StockChangeCounter.location_id == location_id)) or 0)
        position = encode_cursor(f"{seq}:")
    else:
        position = encode_cursor(f"{seq - 1}:")  # just before this upload's changes
    results = []
    for i, e in enumerate(events_in):
        state, error = status[i]
        results.append({"event_id": e.event_id, "status": state, **({"error": error} if error else {})})
    return {"results": results, "cursor": position}


# Ledger rows of applied events are written together with the events; PostgreSQL in one statement.
_PG_INSERT_EVENTS = text("""
WITH ins AS (
    INSERT INTO pos_event (merchant_id, location_id, variant_id, device_id, event_id, type, quantity, on_hand_delta,
                           unit_price, amount, currency, occurred_at, recorded_at)
    SELECT CAST(:merchant_id AS varchar), CAST(:location_id AS varchar), u.v, CAST(:device_id AS varchar), u.e, u.t,
           u.q, u.d, u.p, u.a, u.c, u.o, CAST(:recorded_at AS timestamptz)
    FROM unnest(CAST(:variant_ids AS varchar[]), CAST(:event_ids AS varchar[]), CAST(:types AS varchar[]),
                CAST(:quantities AS integer[]), CAST(:deltas AS integer[]), CAST(:prices AS bigint[]),
                CAST(:amounts AS bigint[]), CAST(:currencies AS varchar[]), CAST(:occurred AS timestamptz[]))
         AS u(v, e, t, q, d, p, a, c, o)
    ORDER BY u.e
    ON CONFLICT (merchant_id, event_id) DO NOTHING
    RETURNING merchant_id, location_id, variant_id, event_id, type, on_hand_delta, occurred_at, recorded_at
), moves AS (
    INSERT INTO stock_movement (merchant_id, location_id, variant_id, kind, on_hand_delta, reserved_delta, source,
                                idempotency_key, occurred_at, recorded_at)
    SELECT merchant_id, location_id, variant_id, 'pos_' || type, on_hand_delta, 0, CAST(:source AS varchar),
           'pos:' || merchant_id || ':' || event_id, occurred_at, recorded_at
    FROM ins WHERE type <> 'count'
)
SELECT event_id FROM ins
""")


async def _insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]], *, source: str) -> set[str]:
    """Insert the events, skipping ids seen before, plus a ledger row per applied movement; returns applied ids.

    Rows come sorted by event id, so concurrent uploads take the unique-index entries in the same order.
    """
    if dialect_of(session) == "postgresql":
        first = rows[0]
        found = await session.execute(_PG_INSERT_EVENTS, {
            "merchant_id": first["merchant_id"], "location_id": first["location_id"],
            "device_id": first["device_id"], "recorded_at": first["recorded_at"], "source": source,
            "variant_ids": [r["variant_id"] for r in rows], "event_ids": [r["event_id"] for r in rows],
            "types": [r["type"] for r in rows], "quantities": [r["quantity"] for r in rows],
            "deltas": [r["on_hand_delta"] for r in rows], "prices": [r["unit_price"] for r in rows],
            "amounts": [r["amount"] for r in rows], "currencies": [r["currency"] for r in rows],
            "occurred": [r["occurred_at"] for r in rows]})
        return {row[0] for row in found.all()}
    stmt = insert_ignore(dialect_of(session), POS_EVENTS, ["merchant_id", "event_id"])
    applied = set((await session.scalars(stmt.returning(POS_EVENTS.c.event_id), rows)).all())
    moves = [{"merchant_id": r["merchant_id"], "location_id": r["location_id"], "variant_id": r["variant_id"],
              "kind": POS_KIND_PREFIX + r["type"], "on_hand_delta": r["on_hand_delta"], "reserved_delta": 0,
              "source": source, "idempotency_key": f"pos:{r['merchant_id']}:{r['event_id']}",
              "occurred_at": r["occurred_at"], "recorded_at": r["recorded_at"]}
             for r in rows if r["event_id"] in applied and r["type"] != "count"]
    if moves:
        await session.execute(insert(MOVEMENTS), moves)
    return applied


async def _recount(session: AsyncSession, *, merchant_id: str, location_id: str,
                   counts: dict[str, pos.PosEvent]) -> dict[str, int]:
    """on_hand per `pos.fold` for levels whose latest count changed: the count, plus the POS movements ordered
    after it, plus the other ledger movements (online fulfilment, restocks...) that occurred after it."""
    ev = PosEventRecord
    anchor = (select(ev.variant_id, ev.occurred_at, ev.event_id, ev.quantity)
              .where(ev.merchant_id == merchant_id, ev.event_id.in_([c.event_id for c in counts.values()]))
              .subquery())
    later = or_(ev.occurred_at > anchor.c.occurred_at,
                and_(ev.occurred_at == anchor.c.occurred_at,
                     _binary(session, ev.event_id) > _binary(session, anchor.c.event_id)))
    pos_after = {r[0]: int(r[1]) + int(r[2]) for r in (await session.execute(
        select(anchor.c.variant_id, anchor.c.quantity, func.coalesce(func.sum(ev.on_hand_delta), 0))
        .outerjoin(ev, and_(ev.location_id == location_id, ev.variant_id == anchor.c.variant_id,
                            ev.type != "count", later))
        .group_by(anchor.c.variant_id, anchor.c.quantity))).all()}
    mv = StockMovement
    other_after: dict[str, int] = {r[0]: int(r[1]) for r in (await session.execute(
        select(anchor.c.variant_id, func.sum(mv.on_hand_delta))
        .join(mv, and_(mv.location_id == location_id, mv.variant_id == anchor.c.variant_id,
                       mv.occurred_at > anchor.c.occurred_at, mv.on_hand_delta != 0,
                       ~mv.kind.startswith(POS_KIND_PREFIX)))
        .group_by(anchor.c.variant_id))).all()}
    return {v: pos_after[v] + other_after.get(v, 0) for v in counts}


_PG_SET_LEVELS = text("""
UPDATE stock_level SET on_hand = u.on_hand, last_count_at = u.count_at, last_count_event_id = u.count_event_id,
                       updated_at = CAST(:now AS timestamptz), change_seq = CAST(:seq AS bigint)
FROM unnest(CAST(:ids AS varchar[]), CAST(:on_hands AS integer[]), CAST(:count_ats AS timestamptz[]),
            CAST(:count_event_ids AS varchar[])) AS u(id, on_hand, count_at, count_event_id)
WHERE stock_level.id = u.id
""")


async def _set_levels(session: AsyncSession, *, seq: int, now: datetime,
                      rows: Sequence[tuple[str, int, datetime | None, str | None]]) -> None:
    """Set (level id, on_hand, latest count) for locked levels, stamped with the feed number `seq`."""
    if dialect_of(session) == "postgresql":  # one statement instead of one per level
        await session.execute(_PG_SET_LEVELS, {
            "now": now, "seq": seq, "ids": [r[0] for r in rows], "on_hands": [r[1] for r in rows],
            "count_ats": [r[2] for r in rows], "count_event_ids": [r[3] for r in rows]})
        return
    await session.execute(update(LEVELS).where(LEVELS.c.id == bindparam("level_id"))
                          .values(on_hand=bindparam("new_on_hand"), last_count_at=bindparam("count_at"),
                                  last_count_event_id=bindparam("count_event_id"), updated_at=now, change_seq=seq),
                          [{"level_id": r[0], "new_on_hand": r[1], "count_at": r[2], "count_event_id": r[3]}
                           for r in rows])


async def _lock_levels(session: AsyncSession, *, location_id: str, variant_ids: Sequence[str]) -> dict[str, Any]:
    """The levels, locked in variant order (PostgreSQL; SQLite writers are serialised already)."""
    return {r.variant_id: r for r in (await session.execute(
        select(StockLevel.id, StockLevel.variant_id, StockLevel.on_hand, StockLevel.reserved,
               StockLevel.last_count_at, StockLevel.last_count_event_id)
        .where(StockLevel.location_id == location_id, StockLevel.variant_id.in_(variant_ids))
        .order_by(StockLevel.variant_id).with_for_update())).all()}


async def _write_levels(session: AsyncSession, *, merchant_id: str, location_id: str, device_id: str,
                        new_rows: Sequence[dict[str, Any]], sku_of: dict[str, str]) -> int | None:
    """Fold applied events into their levels; returns the change number stamped on them (None: no change)."""
    source = f"pos:{device_id}"
    by_variant: dict[str, list[pos.PosEvent]] = defaultdict(list)
    for r in new_rows:
        by_variant[r["variant_id"]].append(pos.PosEvent(r["event_id"], r["type"], r["quantity"], r["occurred_at"]))
    touched = sorted(by_variant)
    current = await _lock_levels(session, location_id=location_id, variant_ids=touched)
    missing = [v for v in touched if v not in current]
    if missing:  # first stock of these SKUs at this store
        await inventory_service.ensure_levels(session, merchant_id=merchant_id,
                                              pairs=[(location_id, v) for v in missing])
        current.update(await _lock_levels(session, location_id=location_id, variant_ids=missing))

    target: dict[str, int] = {}
    anchor: dict[str, tuple[Any, str | None]] = {}
    recount: dict[str, pos.PosEvent] = {}
    for v in touched:
        level = current[v]
        key = ((as_utc(level.last_count_at), level.last_count_event_id or "")
               if level.last_count_at is not None else None)
        count, change = pos.advance(key, by_variant[v])
        anchor[v] = (level.last_count_at, level.last_count_event_id)
        if count is None:
            target[v] = level.on_hand + change
        else:
            recount[v] = count
            anchor[v] = (count.occurred_at, count.event_id)
    if recount:
        target.update(await _recount(session, merchant_id=merchant_id, location_id=location_id, counts=recount))

    now = utcnow()
    batch = new_id("posb")
    own = {v: sum(pos.delta(e.type, e.quantity) for e in by_variant[v]) for v in touched}
    folds = [{"merchant_id": merchant_id, "location_id": location_id, "variant_id": v, "kind": "pos_fold",
              "on_hand_delta": target[v] - current[v].on_hand - own[v], "reserved_delta": 0, "source": source,
              "idempotency_key": f"posfold:{batch}:{v}", "occurred_at": now, "recorded_at": now}
             for v in touched if target[v] - current[v].on_hand - own[v] != 0]
    await inventory_service.insert_movements(session, folds)
    changed = [v for v in touched if target[v] != current[v].on_hand or v in recount]
    seq = None
    if changed:  # every changed level is locked: take the feed number and stamp it in the same UPDATE
        seq = await inventory_service.take_change_seq(session, location_id=location_id)
        await _set_levels(session, seq=seq, now=now, rows=[(current[v].id, target[v], anchor[v][0], anchor[v][1])
                                                           for v in changed])
    await events.emit_many(session, [
        ("stock.changed", merchant_id, {"location_id": location_id, "variant_id": v, "sku": sku_of[v],
                                        "kind": "pos", "on_hand_delta": target[v] - current[v].on_hand,
                                        "reserved_delta": 0, "on_hand": target[v], "reserved": current[v].reserved,
                                        "source": "pos"})
        for v in changed if target[v] != current[v].on_hand])
    sold = {v for v in touched if any(e.type == "sale" for e in by_variant[v])}
    short = {v: current[v].reserved - target[v] for v in sorted(sold) if target[v] - current[v].reserved < 0}
    if short:
        await _record_oversells(session, merchant_id=merchant_id, location_id=location_id, short=short,
                                sku_of=sku_of)
    return seq


_PG_SET_SHORTFALLS = text("""
UPDATE stock_conflict SET shortfall = u.gap, updated_at = CAST(:now AS timestamptz)
FROM unnest(CAST(:ids AS varchar[]), CAST(:gaps AS integer[])) AS u(id, gap)
WHERE stock_conflict.id = u.id
""")


async def _record_oversells(session: AsyncSession, *, merchant_id: str, location_id: str, short: dict[str, int],
                            sku_of: dict[str, str]) -> None:
    """One open conflict per level: a new one, or the open one's shortfall brought up to date.

    `stock.oversold` is emitted for a new conflict and for one whose shortfall changed; a level that stays
    short by as much as before says nothing new. Set-based: a handful of statements however many levels.
    """
    now = utcnow()
    known = {r.variant_id: (r.id, r.shortfall) for r in (await session.execute(
        select(StockConflict.variant_id, StockConflict.id, StockConflict.shortfall)
        .where(StockConflict.location_id == location_id, StockConflict.status == "open",
               one_of(session, StockConflict.variant_id, list(short))))).all()}
    fresh = [{"id": new_id("cfl"), "merchant_id": merchant_id, "location_id": location_id, "variant_id": v,
              "sku": sku_of[v], "shortfall": q, "status": "open", "created_at": now, "updated_at": now}
             for v, q in short.items() if v not in known]
    if fresh:
        await session.execute(insert(CONFLICTS), fresh)
    moved = {v: cid for v, (cid, gap) in known.items() if gap != short[v]}
    if moved:
        if dialect_of(session) == "postgresql":
            await session.execute(_PG_SET_SHORTFALLS, {"now": now, "ids": list(moved.values()),
                                                       "gaps": [short[v] for v in moved]})
        else:
            await session.execute(update(CONFLICTS).where(CONFLICTS.c.id == bindparam("conflict_id"))
                                  .values(shortfall=bindparam("gap"), updated_at=now),
                                  [{"conflict_id": cid, "gap": short[v]} for v, cid in moved.items()])
    news = {**moved, **{f["variant_id"]: f["id"] for f in fresh}}
    await events.emit_many(session, [
        ("stock.oversold", merchant_id, {"conflict_id": cid, "location_id": location_id, "variant_id": v,
                                         "sku": sku_of[v], "shortfall": short[v]}) for v, cid in sorted(news.items())])


# ---- the changes feed -----------------------------------------------------------------------------------

def _parse_position(cursor: str | None) -> tuple[int, str]:
    raw = decode_cursor(cursor)
    if raw is None:
        return 0, ""
    seq, sep, variant_id = raw.partition(":")
    if not sep or not seq.isdigit() or len(seq) > 18:
        raise field_error("cursor", "not a valid cursor")
    return int(seq), variant_id


async def changes(session: AsyncSession, *, device: Principal, cursor: str | None, limit: int,
                  sync_lag_minutes: int) -> dict[str, Any]:
    """Levels at the device's location changed after `cursor`, oldest change first; gap-free.

    A poll is a sync too: the till is online and sees what online shoppers were promised.
    """
    location_id = device.location_id
    if location_id is None:
        raise NotFound("location")
    await sync.record_sync(session, device_id=device.subject_id, lag_minutes=sync_lag_minutes)
    await session.commit()
    seq, after_variant = _parse_position(cursor)
    position: ColumnElement[bool] = StockLevel.change_seq > seq
    if after_variant:  # inside a page break: the rest of that change number, then later ones
        position = or_(position, and_(StockLevel.change_seq == seq, StockLevel.variant_id > after_variant))
    rows = (await session.execute(
        select(StockLevel.change_seq, StockLevel.variant_id, Variant.sku, StockLevel.on_hand, StockLevel.reserved,
               StockLevel.safety_stock)
        .join(Variant, Variant.id == StockLevel.variant_id)
        .where(StockLevel.location_id == location_id, position)
        .order_by(StockLevel.change_seq, StockLevel.variant_id).limit(limit + 1))).all()
    await session.rollback()
    more = len(rows) > limit
    rows = rows[:limit]
    out = [{"sku": r.sku, "variant_id": r.variant_id, "on_hand": r.on_hand, "reserved": r.reserved,
            "safety_stock": r.safety_stock, "available": max(r.on_hand - r.reserved, 0)} for r in rows]
    last = f"{rows[-1].change_seq}:{rows[-1].variant_id}" if rows else f"{seq}:{after_variant}"
    return {"changes": out, "cursor": encode_cursor(last), "has_more": more}


# ---- oversell conflicts ---------------------------------------------------------------------------------

async def _order_ids(session: AsyncSession, conflicts: Sequence[StockConflict]) -> dict[tuple[str, str], list[str]]:
    if not conflicts:
        return {}
    rows = (await session.execute(
        select(Allocation.location_id, Allocation.variant_id, Allocation.order_id)
        .where(Allocation.status == "reserved", Allocation.variant_id.in_({c.variant_id for c in conflicts}),
               Allocation.location_id.in_({c.location_id for c in conflicts}))
        .order_by(Allocation.order_id))).all()
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in rows:
        if r.order_id not in found[(r.location_id, r.variant_id)]:
            found[(r.location_id, r.variant_id)].append(r.order_id)
    return found


def _conflict_view(c: StockConflict, orders: dict[tuple[str, str], list[str]]) -> dict[str, Any]:
    return {"id": c.id, "location_id": c.location_id, "variant_id": c.variant_id, "sku": c.sku,
            "shortfall": c.shortfall, "status": c.status, "resolution": c.resolution,
            "order_ids": orders.get((c.location_id, c.variant_id), []), "created_at": c.created_at,
            "updated_at": c.updated_at, "resolved_at": c.resolved_at}


async def list_conflicts(session: AsyncSession, *, merchant_id: str, status: str | None, after: str | None,
                         limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The merchant's oversell conflicts, newest first, with the open orders that hold the stock."""
    stmt = select(StockConflict).where(StockConflict.merchant_id == merchant_id)
    if status:
        stmt = stmt.where(StockConflict.status == status)
    page, last = await keyset_page(session, stmt, StockConflict.id, after=after, limit=limit)
    orders = await _order_ids(session, page)
    return [_conflict_view(c, orders) for c in page], last


async def resolve_conflict(session: AsyncSession, *, merchant_id: str, conflict_id: str,
                           resolution: str) -> dict[str, Any]:
    """Close an open conflict with what the merchant did (cancelled or re-allocated the order, recounted...)."""
    conflict = await session.get(StockConflict, conflict_id, with_for_update=True)
    if conflict is None or conflict.merchant_id != merchant_id:
        raise NotFound("conflict", conflict_id)
    if conflict.status != "open":
        raise Conflict(f"conflict {conflict_id} is already resolved")
    now = utcnow()
    conflict.status, conflict.resolution, conflict.resolved_at, conflict.updated_at = "resolved", resolution, now, now
    await events.emit(session, kind="stock.conflict_resolved", merchant_id=merchant_id,
                      payload={"conflict_id": conflict.id, "resolution": resolution})
    await session.commit()
    return _conflict_view(conflict, await _order_ids(session, [conflict]))

