"""POS sync use cases: upload a batch of till events, follow the location's changes, oversell conflicts.

An upload is set-based, a handful of statements whatever its size:

1. resolve the SKUs (one SELECT) and reject the events that break a rule, each with its reason;
2. insert the events into the ledger, one row each (a count moves nothing by itself, nor does a movement that
   occurred before the level's latest count: it is superseded), sorted by event id,
   with ON CONFLICT DO NOTHING ... RETURNING, and add the sales to the till's day totals (on PostgreSQL one
   statement over the events as one JSON parameter). What comes back is `applied`; the rest was seen
   before (`duplicate`). The ledger's unique idempotency key (`pos:<merchant>:<event id>`) makes
   concurrent uploads of one event wait for each other, so an event applies exactly once. The answer
   is known now and is recorded with the `Idempotency-Key`;
3. only then lock the touched levels in variant order (`FOR UPDATE` on PostgreSQL; SQLite serialises
   writers), taking the feed number in the same statement, and fold the
   new events in with `app.inventory.pos.advance`, from the latest count each level remembers
   (`last_count_at`, `last_count_event_id`). Only a level that gets a later count is recomputed, in SQL:
   that count, plus the POS movements ordered after it, plus the other ledger movements (online
   fulfilment, restocks, ...) that occurred after it;
4. one statement writes the rest: the levels; a `pos_fold` ledger row per level for the part of the
   change the events' own rows do not carry (a count, or a late event superseded by a count), so the
   ledger still sums to the levels; an oversell conflict where on_hand now falls short of what is
   reserved (new, or its shortfall brought up to date); and the outbox events (`stock.changed` per
   level, `stock.oversold`).

Uploads to one store queue for its levels, so the time between the lock and the commit bounds how many
a store takes per second: that stretch is two or three statements and the commit, nothing else.

Everything commits at once with the stored idempotent response: a crash leaves all or none of it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import Table, and_, bindparam, case, func, or_, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from app.catalog.models import Variant
from app.core import events, idempotency
from app.core.auth import Principal
from app.core.clock import SHANGHAI, as_utc, utcnow
from app.core.errors import Conflict, NotFound, field_error
from app.core.ids import new_id
from app.core.pagination import decode_cursor, encode_cursor, keyset_page
from app.db import dialect_of, execute, insert_ignore, one_of
from app.inventory import service as inventory_service
from app.inventory import sync
from app.inventory.models import (
    Allocation,
    PosSalesDay,
    StockChangeCounter,
    StockConflict,
    StockLevel,
    StockMovement,
)
from app.inventory.pos import rules as pos
from app.inventory.pos.schemas import PosEventIn
from app.inventory.schemas import MAX_ON_HAND

MAX_CLOCK_SKEW = timedelta(hours=1)  # a till's clock may run ahead; an event further in the future is rejected
LEVELS = cast(Table, StockLevel.__table__)
CONFLICTS = cast(Table, StockConflict.__table__)
MOVEMENTS = cast(Table, StockMovement.__table__)
SALES_DAYS = cast(Table, PosSalesDay.__table__)
POS_KIND_PREFIX = "pos_"  # ledger kinds written here: the till's `pos_<type>` and `pos_fold`
POS_MOVE_KINDS = ("pos_sale", "pos_return", "pos_receive", "pos_adjust")  # a till's events that move stock
# A till's day total stops at what the column holds: 10,000 sales of 100,000 units at the top price are 10^21 fen.
MAX_DAY_AMOUNT = 2**63 - 1


def _event_error(event: PosEventIn, latest: datetime) -> str | None:
    if event.type in ("sale", "return", "receive") and event.quantity < 1:
        return f"quantity of a {event.type} must be at least 1"
    if event.type == "count" and event.quantity < 0:
        return "a count cannot be negative"
    if event.type == "adjust" and event.quantity == 0:
        return "an adjust of 0 changes nothing"
    if event.occurred_at > latest:
        return "occurred_at is in the future; check the till's clock"
    return None


async def upload(session: AsyncSession, *, device: Principal, idempotency_key: str | None,
                 events_in: Sequence[PosEventIn], sync_lag_minutes: int, raw_body: bytes) -> dict[str, Any]:
    """Apply a batch of till events (all or nothing); a retry with the same key returns the first answer.

    The upload is also the till's sync (app/inventory/sync.py), in the same transaction. The key's
    fingerprint is the digest of `raw_body` (the request as sent), which costs nothing per event.
    """
    fingerprint = idempotency.request_hash("pos-events", hashlib.sha256(raw_body).hexdigest())
    fold: _Fold | None = None

    async def work() -> tuple[int, Any]:
        nonlocal fold
        await sync.record_sync(session, device_id=device.subject_id, lag_minutes=sync_lag_minutes)
        out, fold = await _record(session, device=device, events_in=events_in)
        return 200, out

    async def then() -> None:  # the answer is recorded: lock the levels for the fold and the commit only
        if fold is not None:
            await _fold_in(session, fold)

    _, body = await idempotency.run_idempotent(session, scope=device.scope, key=idempotency_key,
                                               fingerprint=fingerprint, work=work, then=then)
    return dict(body)


_DUPLICATE = ("duplicate", None)
_PRICED = frozenset(("sale", "return"))  # events that carry a unit price


@dataclass(frozen=True, slots=True)
class _Variant:
    """What screening needs of an uploaded SKU: its variant, price, and the level's on_hand and latest count so
    far."""

    id: str
    sku: str
    price: int
    currency: str
    counted: tuple[datetime, str] | None  # the (occurred_at, event id) key of the latest count folded in
    on_hand: int


class _Screened:
    """An upload's events after the rules: rejected ones (with the reason) and repeats within the upload are
    settled; the rest are candidates, each as the ledger row PostgreSQL reads from JSON (`_PG_INSERT_EVENTS`).

    A movement that occurred before the level's latest count is superseded by it: its row moves nothing
    (on_hand_delta 0). Counts only ever get later, so that stays true whatever else is folded in first; a
    count that arrives concurrently is caught by the fold, whose `pos_fold` row balances the ledger.

    A movement that would take on_hand, as read for the upload plus the upload's earlier movements, past
    `MAX_ON_HAND` is rejected: the rest of the upload applies, and the till can go on syncing. (Concurrent
    uploads to one store may pass the cap by what they add at once; the 64-bit levels hold that.)

    One pass over the events, which is where an upload's Python time goes: 10,000 events per request.
    """

    def __init__(self, events_in: Sequence[PosEventIn], variants: dict[str, _Variant], latest: datetime) -> None:
        self.status: list[tuple[str, str | None] | None] = [None] * len(events_in)  # None: a candidate
        self.candidates: list[PosEventIn] = []
        self.rows: list[dict[str, Any]] = []
        seen: set[str] = set()
        sign = pos.SIGN
        on_hand = {v.id: v.on_hand for v in variants.values()}  # as the upload's earlier movements leave it
        for i, e in enumerate(events_in):
            event_id = e.event_id
            if event_id in seen:
                self.status[i] = _DUPLICATE
                continue
            seen.add(event_id)
            variant = variants.get(e.sku)
            if variant is None:
                self.status[i] = ("rejected", "unknown sku")
                continue
            error = _event_error(e, latest)
            if error is not None:
                self.status[i] = ("rejected", error)
                continue
            kind, quantity = e.type, e.quantity
            price = variant.price if e.unit_price is None else e.unit_price
            counted = variant.counted
            moved = 0 if counted is not None and (e.occurred_at, event_id) < counted else sign[kind] * quantity
            if moved:
                after = on_hand[variant.id] + moved
                if moved > 0 and after > MAX_ON_HAND:
                    self.status[i] = ("rejected", f"on_hand would exceed {MAX_ON_HAND}; count the stock first")
                    continue
                on_hand[variant.id] = after
            self.candidates.append(e)
            self.rows.append({"v": variant.id, "e": event_id, "t": kind, "q": quantity, "d": moved,
                              "p": price if kind in _PRICED else 0, "a": quantity * price if kind == "sale" else 0,
                              "c": variant.currency, "o": e.occurred_at})


@dataclass(frozen=True, slots=True)
class _Fold:
    """Events an upload applied, waiting to be folded into their levels (`_fold_in`)."""

    merchant_id: str
    location_id: str
    device_id: str
    events: dict[str, list[pos.Event]]  # by variant id
    moved: dict[str, int]  # by variant id: what the events' own ledger rows moved on_hand by
    variants: dict[str, _Variant]  # by variant id, as screened


async def _record(session: AsyncSession, *, device: Principal, events_in: Sequence[PosEventIn]
                  ) -> tuple[dict[str, Any], _Fold | None]:
    """Store the new events in the ledger; returns the answer and what is left to fold."""
    merchant_id, location_id, device_id = device.tenant, device.location_id, device.subject_id or "-"
    if location_id is None:
        raise NotFound("location")
    variants = {sku: _Variant(variant_id, sku, price, currency,
                              None if counted_at is None else (as_utc(counted_at), counted_event_id or ""),
                              on_hand or 0)
                for sku, variant_id, price, currency, counted_at, counted_event_id, on_hand in (await session.execute(
                    select(Variant.sku, Variant.id, Variant.price, Variant.currency, StockLevel.last_count_at,
                           StockLevel.last_count_event_id, StockLevel.on_hand)
                    .outerjoin(StockLevel, and_(StockLevel.variant_id == Variant.id,
                                                StockLevel.location_id == location_id))
                    .where(Variant.merchant_id == merchant_id,
                           one_of(session, Variant.sku, list({e.sku for e in events_in}))))).all()}
    # The changes made from here on come after this position, so the feed lists them from it.
    position = encode_cursor(f"{await session.scalar(_FEED_POSITION, {'location_id': location_id}) or 0}:")
    now = utcnow()
    screened = _Screened(events_in, variants, now + MAX_CLOCK_SKEW)
    rows = _EventRows(merchant_id=merchant_id, location_id=location_id, device_id=device_id, recorded_at=now,
                      rows=screened.rows)
    applied = await _insert_events(session, rows, source=f"pos:{device_id}") if rows.rows else set()
    by_variant: dict[str, list[pos.Event]] = defaultdict(list)
    moved: dict[str, int] = defaultdict(int)
    for e, row in zip(screened.candidates, screened.rows, strict=True):
        if e.event_id in applied:
            by_variant[row["v"]].append(e)
            moved[row["v"]] += row["d"]
    results = []
    for e, settled in zip(events_in, screened.status, strict=True):
        if settled is None:
            results.append({"event_id": e.event_id, "status": "applied" if e.event_id in applied else "duplicate"})
        elif settled[1] is None:
            results.append({"event_id": e.event_id, "status": settled[0]})
        else:
            results.append({"event_id": e.event_id, "status": settled[0], "error": settled[1]})
    answer = {"results": results, "cursor": position}
    if not applied:
        return answer, None
    return answer, _Fold(merchant_id, location_id, device_id, dict(by_variant), dict(moved),
                         {v.id: v for v in variants.values()})


_FEED_POSITION = select(StockChangeCounter.seq).where(StockChangeCounter.location_id == bindparam("location_id"))


@dataclass(frozen=True, slots=True)
class _EventRows:
    """The ledger rows of an upload's candidates, as JSON objects: variant `v`, event id `e`, type `t`, quantity
    `q`, on_hand delta `d`, unit price `p`, amount `a`, currency `c`, occurred_at `o`."""

    merchant_id: str
    location_id: str
    device_id: str
    recorded_at: datetime
    rows: list[dict[str, Any]]

    def json(self) -> str:
        """One JSON parameter that PostgreSQL reads with json_to_recordset (binding a column per array costs the
        driver a type check per element)."""
        return orjson.dumps(self.rows).decode()

    def dicts(self, *, source: str, key_prefix: str) -> list[dict[str, Any]]:
        """The ledger rows, as SQLAlchemy inserts them."""
        return [{"merchant_id": self.merchant_id, "location_id": self.location_id, "variant_id": r["v"],
                 "kind": POS_KIND_PREFIX + r["t"], "on_hand_delta": r["d"], "reserved_delta": 0, "source": source,
                 "idempotency_key": key_prefix + r["e"], "event_id": r["e"], "quantity": r["q"], "unit_price": r["p"],
                 "amount": r["a"], "currency": r["c"], "occurred_at": as_utc(r["o"]),  # SQLite keeps no offset
                 "recorded_at": self.recorded_at}
                for r in self.rows]


# An applied event is one ledger row; a count moves nothing itself (its `pos_fold` row does). A till's sales
# are also added to its day's totals (Shanghai days, for the channel-share report). PostgreSQL: one statement.
_PG_INSERT_EVENTS = text("""
WITH ins AS (
    INSERT INTO stock_movement (merchant_id, location_id, variant_id, kind, on_hand_delta, reserved_delta, source,
                                idempotency_key, event_id, quantity, unit_price, amount, currency, occurred_at,
                                recorded_at)
    SELECT CAST(:merchant_id AS varchar), CAST(:location_id AS varchar), u.v, 'pos_' || u.t, u.d, 0,
           CAST(:source AS varchar), CAST(:key_prefix AS varchar) || u.e, u.e, u.q, u.p, u.a, u.c, u.o,
           CAST(:recorded_at AS timestamptz)
    FROM json_to_recordset(CAST(:rows AS json))
         AS u(v varchar, e varchar, t varchar, q bigint, d bigint, p bigint, a bigint, c varchar, o timestamptz)
    ORDER BY u.e COLLATE "C"
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING event_id, kind, quantity, amount, occurred_at
), sales AS (
    INSERT INTO pos_sales_day (merchant_id, day, location_id, device_id, amount, units, sales)
    SELECT CAST(:merchant_id AS varchar), CAST(timezone('Asia/Shanghai', occurred_at) AS date),
           CAST(:location_id AS varchar), CAST(:device_id AS varchar), LEAST(sum(amount), CAST(:max_amount AS bigint)),
           sum(quantity), count(*)
      FROM ins WHERE kind = 'pos_sale'
     GROUP BY 2
        ON CONFLICT (merchant_id, day, location_id, device_id)
        DO UPDATE SET amount = CASE WHEN EXCLUDED.amount > CAST(:max_amount AS bigint) - pos_sales_day.amount
                                    THEN CAST(:max_amount AS bigint) ELSE pos_sales_day.amount + EXCLUDED.amount END,
                      units = pos_sales_day.units + EXCLUDED.units, sales = pos_sales_day.sales + EXCLUDED.sales
)
SELECT event_id FROM ins
""")

_SQLITE_ADD_SALES = sqlite_insert(SALES_DAYS)
_SQLITE_ADD_SALES = _SQLITE_ADD_SALES.on_conflict_do_update(
    index_elements=["merchant_id", "day", "location_id", "device_id"],
    set_={"amount": case((_SQLITE_ADD_SALES.excluded.amount > MAX_DAY_AMOUNT - SALES_DAYS.c.amount, MAX_DAY_AMOUNT),
                         else_=SALES_DAYS.c.amount + _SQLITE_ADD_SALES.excluded.amount),
          "units": SALES_DAYS.c.units + _SQLITE_ADD_SALES.excluded.units,
          "sales": SALES_DAYS.c.sales + _SQLITE_ADD_SALES.excluded.sales})


def _event_key(merchant_id: str, event_id: str) -> str:
    """The ledger's idempotency key of a till's event: an event id applies once per merchant."""
    return f"pos:{merchant_id}:{event_id}"


async def _insert_events(session: AsyncSession, rows: _EventRows, *, source: str) -> set[str]:
    """Insert a ledger row per event, skipping ids seen before, and add the sales to the till's days; returns the
    ids applied.

    PostgreSQL inserts them sorted by event id, so concurrent uploads take the unique-index entries in one order
    (SQLite serialises writers).
    """
    if dialect_of(session) == "postgresql":
        found = await execute(session, _PG_INSERT_EVENTS, {
            "merchant_id": rows.merchant_id, "location_id": rows.location_id, "device_id": rows.device_id,
            "recorded_at": rows.recorded_at, "source": source, "key_prefix": _event_key(rows.merchant_id, ""),
            "rows": rows.json(), "max_amount": MAX_DAY_AMOUNT})
        return {row[0] for row in found.all()}
    dicts = rows.dicts(source=source, key_prefix=_event_key(rows.merchant_id, ""))
    stmt = insert_ignore(dialect_of(session), MOVEMENTS, ["idempotency_key"])
    applied = set((await session.scalars(stmt.returning(MOVEMENTS.c.event_id), dicts)).all())
    days: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for r in dicts:
        if r["kind"] == "pos_sale" and r["event_id"] in applied:
            day = days[r["occurred_at"].astimezone(SHANGHAI).date()]
            day[0], day[1], day[2] = day[0] + r["amount"], day[1] + r["quantity"], day[2] + 1
    if days:
        await session.execute(_SQLITE_ADD_SALES, [
            {"merchant_id": rows.merchant_id, "day": d, "location_id": rows.location_id, "device_id": rows.device_id,
             "amount": min(v[0], MAX_DAY_AMOUNT), "units": v[1], "sales": v[2]} for d, v in sorted(days.items())])
    return applied


async def _recount(session: AsyncSession, *, merchant_id: str, location_id: str,
                   counts: dict[str, pos.Event]) -> dict[str, int]:
    """on_hand per `pos.fold` for levels whose latest count changed: the count, plus the POS movements ordered
    after it, plus the other ledger movements (online fulfilment, restocks...) that occurred after it.

    One statement; it runs once the levels are locked, so it sees every upload that folded before.
    """
    ev = aliased(StockMovement)
    anchor = (select(ev.variant_id, ev.occurred_at, ev.event_id, ev.quantity)
              .where(one_of(session, ev.idempotency_key, [_event_key(merchant_id, c.event_id)
                                                          for c in counts.values()]))
              .subquery())
    mv = StockMovement
    later = or_(mv.occurred_at > anchor.c.occurred_at, mv.event_id > anchor.c.event_id)  # event ids compare bytes
    after = (select(func.coalesce(func.sum(mv.on_hand_delta), 0))  # one pass over the level's rows from the count
             .where(mv.location_id == location_id, mv.variant_id == anchor.c.variant_id,
                    mv.occurred_at >= anchor.c.occurred_at, mv.on_hand_delta != 0,
                    or_(and_(mv.kind.in_(POS_MOVE_KINDS), later),
                        and_(~mv.kind.startswith(POS_KIND_PREFIX, autoescape=True),
                             mv.occurred_at > anchor.c.occurred_at)))
             .scalar_subquery())
    return {r[0]: int(r[1]) for r in (await session.execute(
        select(anchor.c.variant_id, anchor.c.quantity + after))).all()}


# Lock the levels in variant order, then take the feed number (levels first, then the counter, like every
# writer): one statement. The counter is taken only when every level exists already (a first stock at the
# store creates levels first, and then takes it separately). Rows this statement did not lock are read
# with the snapshot it started with, so whatever else the fold needs is read by the statements after it.
_PG_LOCK_LEVELS = text("""
WITH locked AS MATERIALIZED (
    SELECT l.id, l.variant_id, l.on_hand, l.reserved, l.last_count_at, l.last_count_event_id
      FROM stock_level l
     WHERE l.location_id = CAST(:location_id AS varchar) AND l.variant_id = ANY(CAST(:variant_ids AS varchar[]))
     ORDER BY l.variant_id
       FOR UPDATE
), counter AS (
    UPDATE stock_change_counter SET seq = seq + 1
     WHERE location_id = CAST(:location_id AS varchar) AND CAST(:take_seq AS boolean)
       AND (SELECT count(*) FROM locked) = cardinality(CAST(:variant_ids AS varchar[]))
    RETURNING seq
)
SELECT k.*, (SELECT seq FROM counter) AS seq FROM locked k
""")


async def _lock_levels(session: AsyncSession, *, location_id: str, variant_ids: Sequence[str],
                       take_seq: bool) -> tuple[dict[str, Any], int | None]:
    """The levels, locked in variant order (PostgreSQL; SQLite writers are serialised already), and the feed
    number if `take_seq` and every level exists (PostgreSQL; None otherwise)."""
    if dialect_of(session) == "postgresql":
        rows = (await execute(session, _PG_LOCK_LEVELS, {"location_id": location_id, "variant_ids": list(variant_ids),
                                                     "take_seq": take_seq})).all()
        return {r.variant_id: r for r in rows}, (rows[0].seq if rows and rows[0].seq is not None else None)
    return {r.variant_id: r for r in (await session.execute(
        select(StockLevel.id, StockLevel.variant_id, StockLevel.on_hand, StockLevel.reserved,
               StockLevel.last_count_at, StockLevel.last_count_event_id)
        .where(StockLevel.location_id == location_id, StockLevel.variant_id.in_(variant_ids)))).all()}, None


async def _fold_in(session: AsyncSession, fold: _Fold) -> None:
    """Fold applied events into their levels: lock, advance (or recount), write; the caller commits next.

    The locks are held from here to the commit: on PostgreSQL the lock (with the feed number), a recount if a
    count came in, the oversell conflicts if a sale left a level short, and one statement writing the rest.
    """
    merchant_id, location_id = fold.merchant_id, fold.location_id
    touched = sorted(fold.events)
    current, seq = await _lock_levels(session, location_id=location_id, variant_ids=touched, take_seq=True)
    missing = [v for v in touched if v not in current]
    if missing:  # first stock of these SKUs at this store
        await inventory_service.ensure_levels(session, merchant_id=merchant_id,
                                              pairs=[(location_id, v) for v in missing])
        current.update((await _lock_levels(session, location_id=location_id, variant_ids=missing,
                                           take_seq=False))[0])
    if seq is None:
        seq = await inventory_service.take_change_seq(session, location_id=location_id)

    target: dict[str, int] = {}
    anchor: dict[str, tuple[Any, str | None]] = {}
    recount: dict[str, pos.Event] = {}
    for v in touched:
        level = current[v]
        key = ((as_utc(level.last_count_at), level.last_count_event_id or "")
               if level.last_count_at is not None else None)
        anchor[v] = (level.last_count_at, level.last_count_event_id)
        if key == fold.variants[v].counted and all(e.type != "count" for e in fold.events[v]):
            target[v] = level.on_hand + fold.moved[v]  # no count since screening, none now: the rows say it all
            continue
        count, change = pos.advance(key, fold.events[v])
        if count is None:
            target[v] = level.on_hand + change
        else:
            recount[v] = count
            anchor[v] = (as_utc(count.occurred_at), count.event_id)  # events keep the offset the till sent
    if recount:
        target.update(await _recount(session, merchant_id=merchant_id, location_id=location_id, counts=recount))

    now = utcnow()
    batch = new_id("posb")
    source = f"pos:{fold.device_id}"
    folds = [{"merchant_id": merchant_id, "location_id": location_id, "variant_id": v, "kind": "pos_fold",
              "on_hand_delta": target[v] - current[v].on_hand - fold.moved[v], "reserved_delta": 0, "source": source,
              "idempotency_key": f"posfold:{batch}:{v}", "occurred_at": now, "recorded_at": now}
             for v in touched if target[v] - current[v].on_hand - fold.moved[v] != 0]
    changed = [v for v in touched if target[v] != current[v].on_hand or v in recount]
    levels = [(current[v].id, target[v], anchor[v][0], anchor[v][1]) for v in changed]
    await events.emit_many(session, [
        ("stock.changed", merchant_id, {"location_id": location_id, "variant_id": v, "sku": fold.variants[v].sku,
                                        "kind": "pos", "on_hand_delta": target[v] - current[v].on_hand,
                                        "reserved_delta": 0, "on_hand": target[v], "reserved": current[v].reserved,
                                        "source": "pos"})
        for v in changed if target[v] != current[v].on_hand])
    short = {v: current[v].reserved - target[v] for v in touched
             if target[v] - current[v].reserved < 0 and any(e.type == "sale" for e in fold.events[v])}
    oversells = [_Oversell(v, fold.variants[v].sku, short[v]) for v in sorted(short)]
    await _write(session, merchant_id=merchant_id, location_id=location_id, source=source, seq=seq, now=now,
                 folds=folds, levels=levels, oversells=oversells)


@dataclass(frozen=True, slots=True)
class _Oversell:
    """A level a store sale left short of what online orders hold: its open conflict is new or updated."""

    variant_id: str
    sku: str
    shortfall: int

    def payload(self, location_id: str) -> dict[str, Any]:
        """`stock.oversold`'s payload but for `conflict_id`, which the conflict's upsert gives."""
        return {"location_id": location_id, "variant_id": self.variant_id, "sku": self.sku,
                "shortfall": self.shortfall}


_SQLITE_UPSERT = sqlite_insert(CONFLICTS)
# One open conflict per level (a partial unique index): a new one, or the open one's shortfall brought up to
# date. What it returns is what changed: a level that stays short by as much as before says nothing new.
_SQLITE_UPSERT_CONFLICTS = _SQLITE_UPSERT.on_conflict_do_update(
    index_elements=["location_id", "variant_id"], index_where=text("status = 'open'"),  # no bound literal: executemany
    set_={"shortfall": _SQLITE_UPSERT.excluded.shortfall, "updated_at": _SQLITE_UPSERT.excluded.updated_at},
    where=CONFLICTS.c.shortfall != _SQLITE_UPSERT.excluded.shortfall,
).returning(CONFLICTS.c.id, CONFLICTS.c.variant_id)


# Everything a fold writes in one statement on PostgreSQL: ledger rows, levels, the oversell conflicts (as
# `_SQLITE_UPSERT_CONFLICTS`), and the outbox: the events emitted so far, then `stock.oversold` for each
# conflict new or changed, by variant (the payload built in Python, the conflict's id added here); the
# same order as on SQLite.
_PG_WRITE = text("""
WITH folds AS (
    INSERT INTO stock_movement (merchant_id, location_id, variant_id, kind, on_hand_delta, reserved_delta, source,
                                idempotency_key, occurred_at, recorded_at)
    SELECT CAST(:merchant_id AS varchar), CAST(:location_id AS varchar), f.v, 'pos_fold', f.d, 0,
           CAST(:source AS varchar), f.k, CAST(:now AS timestamptz), CAST(:now AS timestamptz)
      FROM unnest(CAST(:fold_variants AS varchar[]), CAST(:fold_deltas AS bigint[]), CAST(:fold_keys AS varchar[]))
           AS f(v, d, k)
), levels AS (
    UPDATE stock_level SET on_hand = u.on_hand, last_count_at = u.count_at, last_count_event_id = u.count_event_id,
                           updated_at = CAST(:now AS timestamptz), change_seq = CAST(:seq AS bigint)
      FROM unnest(CAST(:level_ids AS varchar[]), CAST(:on_hands AS bigint[]), CAST(:count_ats AS timestamptz[]),
                  CAST(:count_event_ids AS varchar[])) AS u(id, on_hand, count_at, count_event_id)
     WHERE stock_level.id = u.id
), conflicts AS (
    INSERT INTO stock_conflict (id, merchant_id, location_id, variant_id, sku, shortfall, status, created_at,
                                updated_at)
    SELECT n.id, CAST(:merchant_id AS varchar), CAST(:location_id AS varchar), n.v, n.s, n.q, 'open',
           CAST(:now AS timestamptz), CAST(:now AS timestamptz)
      FROM unnest(CAST(:conflict_ids AS varchar[]), CAST(:short_variants AS varchar[]), CAST(:short_skus AS varchar[]),
                  CAST(:shortfalls AS bigint[])) AS n(id, v, s, q)
        ON CONFLICT (location_id, variant_id) WHERE status = 'open'
        DO UPDATE SET shortfall = EXCLUDED.shortfall, updated_at = EXCLUDED.updated_at
           WHERE stock_conflict.shortfall <> EXCLUDED.shortfall
    RETURNING id, variant_id
), oversold AS (
    SELECT CAST('stock.oversold' AS varchar) AS kind, CAST(:merchant_id AS varchar) AS merchant_id,
           CAST(p.payload AS jsonb) || jsonb_build_object('conflict_id', c.id) AS payload,
           CAST(:now AS timestamptz) AS created_at, c.variant_id
      FROM conflicts c
      JOIN unnest(CAST(:short_variants AS varchar[]), CAST(:short_payloads AS text[])) AS p(v, payload)
        ON p.v = c.variant_id
)
INSERT INTO event (kind, merchant_id, payload, created_at)
SELECT kind, merchant_id, payload, created_at
  FROM (SELECT kind, merchant_id, payload, created_at, 0 AS part, n, CAST('' AS varchar) AS variant_id
          FROM (SELECT u.kind, u.merchant_id, CAST(u.payload AS jsonb) AS payload, u.created_at, u.n
                  FROM unnest(CAST(:kinds AS varchar[]), CAST(:merchant_ids AS varchar[]),
                              CAST(:payloads AS text[]), CAST(:created AS timestamptz[]))
                       WITH ORDINALITY AS u(kind, merchant_id, payload, created_at, n)) AS pending
        UNION ALL
        SELECT kind, merchant_id, payload, created_at, 1, 0, variant_id FROM oversold) AS e
 ORDER BY part, n, variant_id""")


async def _write(session: AsyncSession, *, merchant_id: str, location_id: str, source: str, seq: int,
                 now: datetime, folds: Sequence[dict[str, Any]],
                 levels: Sequence[tuple[str, int, datetime | None, str | None]],
                 oversells: Sequence[_Oversell]) -> None:
    """Write a fold: ledger rows, levels (stamped with the feed number `seq`), oversell conflicts with their
    `stock.oversold`, and the outbox events emitted so far."""
    if dialect_of(session) == "postgresql":
        await execute(session, _PG_WRITE, {
            "now": now, "seq": seq, "merchant_id": merchant_id, "location_id": location_id,
            "source": source, "fold_variants": [f["variant_id"] for f in folds],
            "fold_deltas": [f["on_hand_delta"] for f in folds], "fold_keys": [f["idempotency_key"] for f in folds],
            "level_ids": [r[0] for r in levels], "on_hands": [r[1] for r in levels],
            "count_ats": [r[2] for r in levels], "count_event_ids": [r[3] for r in levels],
            "conflict_ids": [new_id("cfl") for _ in oversells], "short_variants": [o.variant_id for o in oversells],
            "short_skus": [o.sku for o in oversells], "shortfalls": [o.shortfall for o in oversells],
            "short_payloads": [orjson.dumps(o.payload(location_id)).decode() for o in oversells],
            **events.pg_params(events.take_pending(session))})
        return
    await inventory_service.insert_movements(session, folds)
    if levels:
        await session.execute(
            update(LEVELS).where(LEVELS.c.id == bindparam("level_id"))
            .values(on_hand=bindparam("new_on_hand"), last_count_at=bindparam("count_at"),
                    last_count_event_id=bindparam("count_event_id"), updated_at=now, change_seq=seq),
            [{"level_id": r[0], "new_on_hand": r[1], "count_at": r[2], "count_event_id": r[3]} for r in levels])
    if oversells:
        found = (await session.execute(_SQLITE_UPSERT_CONFLICTS, [
            {"id": new_id("cfl"), "merchant_id": merchant_id, "location_id": location_id, "variant_id": o.variant_id,
             "sku": o.sku, "shortfall": o.shortfall, "status": "open", "created_at": now, "updated_at": now}
            for o in oversells])).all()
        by_variant = {variant_id: conflict_id for conflict_id, variant_id in found}
        await events.emit_many(session, [
            ("stock.oversold", merchant_id, {"conflict_id": by_variant[o.variant_id], **o.payload(location_id)})
            for o in oversells if o.variant_id in by_variant])


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

