"""Placing orders: reserve their stock and write their rows, all or nothing, or nothing at all.

`place` takes the orders' rows (`drafts.build`) and the planned takes of their stock, in the (variant, location)
order every stock writer locks in, and either reserves every take and writes the orders, their lines, the
allocations, the `reserve` ledger rows, the outbox events and the Idempotency-Key's answer, or, if a take no longer
fits (a concurrent order took the units since the plan was read), writes nothing and says which variants are short.

On PostgreSQL that is one statement (`_pg_place`, below): it locks every planned level, decides once they are all
locked whether every take still fits, and only then takes them and inserts the rows. FOR UPDATE returns the latest
committed version of a row it waited for, so what it checks is what the level holds once locked. On SQLite, whose
writers are serialised, the same happens one statement at a time (`inventory.service.take_sqlite`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy import DateTime, Table, bindparam, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import events, idempotency
from app.core.errors import TryAgain
from app.core.ids import new_id, new_ids
from app.db import dialect_of, execute, execute_many, finish
from app.inventory import service as inventory_service
from app.inventory.allocation import Take
from app.orders.models import Order, OrderLine
from app.orders.placing.drafts import Placed


@dataclass(frozen=True, slots=True)
class OrderTake:
    """A planned take of stock for one order."""

    merchant_id: str
    order_id: str
    take: Take


@dataclass(frozen=True, slots=True)
class Outcome:
    placed: bool  # everything was written
    short: tuple[str, ...] = ()  # else: the variants a take no longer fits (plan again from fresh levels)
    answered: bool = False  # else: every take fit, but the Idempotency-Key got its answer from another request


_ORDER_COLUMNS = ", ".join(c.name for c in cast(Table, Order.__table__).columns)
_LINE_COLUMNS = ", ".join(c.name for c in cast(Table, OrderLine.__table__).columns)
_INSERT_ORDERS = insert(cast(Table, Order.__table__))
_INSERT_LINES = insert(cast(Table, OrderLine.__table__))


@functools.cache
def _pg_place(keys: str, turns: bool, tables: tuple[Table, ...]) -> Any:
    """The placing statement. `keys`: "" (no Idempotency-Key), "one" or "several": it also records the keys'
    answers, and then makes the takes only if every answer was recorded (a concurrent request with a key waits here
    for the first to end). One key already answered writes nothing (the verdict says so); with several, it fails the
    statement (a unique violation), so that a statement that is its own transaction never keeps the others' keys
    without their orders. `turns`: it first takes the orders' turn locks (`OrderDraft.turn`). `tables`: it also
    inserts the orders' rows of these tables (`OrderDraft.with_rows`)."""
    conflict = "" if keys == "several" else "\n        ON CONFLICT (scope, key) DO NOTHING"
    record = f"""
), recorded AS (
    INSERT INTO idempotency_key (scope, key, request_hash, status_code, response_body, created_at)
    SELECT k.* FROM unnest(CAST(:k_scopes AS varchar[]), CAST(:k_keys AS varchar[]), CAST(:k_hashes AS varchar[]),
                           CAST(:k_codes AS integer[]), CAST(:k_bodies AS text[]), CAST(:k_created AS timestamptz[]))
                    AS k(scope, key, request_hash, status_code, response_body, created_at)
     WHERE (SELECT ok FROM fits){conflict}
    RETURNING id""" if keys else ""
    gate = "(SELECT count(*) FROM recorded) = cardinality(CAST(:k_keys AS varchar[]))" if keys else "true"
    # The locks are taken in the order given (sorted), and before anything is written: `fits` waits for them.
    turn = """
), turns AS MATERIALIZED (
    SELECT pg_advisory_xact_lock(hashtext(t.a), hashtext(t.b))
      FROM unnest(CAST(:turn_a AS text[]), CAST(:turn_b AS text[])) AS t(a, b)""" if turns else ""
    waited = " AND (SELECT count(*) FROM turns) >= 0" if turns else ""
    extra = "".join(f"""
), with_{i} AS (
    INSERT INTO {table.name} ({columns})
    SELECT {columns} FROM json_populate_recordset(NULL::{table.name}, CAST(:rows_{i} AS json))
     WHERE (SELECT ok FROM verdict)""" for i, table in enumerate(tables)
                    for columns in [", ".join(c.name for c in table.columns)])
    return text(f"""
WITH want AS (
    SELECT * FROM unnest(CAST(:r_locs AS varchar[]), CAST(:r_vars AS varchar[]), CAST(:r_qs AS bigint[]),
                         CAST(:r_merchants AS varchar[]), CAST(:r_orders AS varchar[]),
                         CAST(:r_alloc_ids AS varchar[])) WITH ORDINALITY
             AS w(location_id, variant_id, q, merchant_id, order_id, alloc_id, n){turn}
), locked AS (
    SELECT s.id, s.on_hand - s.reserved - s.safety_stock AS free, w.*
      FROM stock_level AS s
      JOIN want AS w ON s.location_id = w.location_id AND s.variant_id = w.variant_id
     ORDER BY s.variant_id, s.location_id
       FOR UPDATE OF s
), fits AS (
    SELECT count(*) = cardinality(CAST(:r_locs AS varchar[])) AND coalesce(bool_and(free >= q), true){waited} AS ok,
           array_agg(variant_id) FILTER (WHERE free < q) AS short
      FROM locked{record}
), verdict AS (
    SELECT fits.ok AND ({gate}) AS ok FROM fits
), took AS (
    UPDATE stock_level AS s
       SET reserved = s.reserved + l.q, updated_at = :now
      FROM locked AS l
     WHERE s.id = l.id AND (SELECT ok FROM verdict)
 RETURNING l.location_id, l.variant_id, l.q, l.merchant_id, l.order_id, l.alloc_id, l.n
), allocated AS (
    INSERT INTO allocation (id, merchant_id, order_id, variant_id, location_id, quantity, status)
    SELECT alloc_id, merchant_id, order_id, variant_id, location_id, q, 'reserved' FROM took
), reserved AS (
    INSERT INTO stock_movement (merchant_id, location_id, variant_id, kind, on_hand_delta, reserved_delta, source,
                                idempotency_key, occurred_at, recorded_at)
    SELECT merchant_id, location_id, variant_id, 'reserve', 0, q, 'order:' || order_id,
           'reserve:' || order_id || ':' || variant_id || ':' || location_id || :key_suffix, :now, :now FROM took
), ordered AS (
    INSERT INTO sales_order ({_ORDER_COLUMNS})
    SELECT {_ORDER_COLUMNS} FROM json_populate_recordset(NULL::sales_order, CAST(:orders AS json))
     WHERE (SELECT ok FROM verdict)
), lined AS (
    INSERT INTO order_line ({_LINE_COLUMNS})
    SELECT {_LINE_COLUMNS} FROM json_populate_recordset(NULL::order_line, CAST(:lines AS json))
     WHERE (SELECT ok FROM verdict){extra}
), announced AS (
    -- the events emitted before (:events_before of them), a `stock.changed` per take, the orders' own events
    INSERT INTO event (kind, merchant_id, payload, created_at)
    SELECT kind, merchant_id, payload, created_at FROM (
        SELECT u.kind, u.merchant_id, CAST(u.payload AS jsonb) AS payload, u.created_at,
               CASE WHEN u.n <= :events_before THEN 0 ELSE 2 END AS part, u.n
          FROM unnest(CAST(:kinds AS varchar[]), CAST(:merchant_ids AS varchar[]), CAST(:payloads AS text[]),
                      CAST(:created AS timestamptz[])) WITH ORDINALITY AS u(kind, merchant_id, payload, created_at, n)
         WHERE (SELECT ok FROM verdict)
        UNION ALL
        SELECT 'stock.changed', merchant_id,
               jsonb_build_object('location_id', location_id, 'variant_id', variant_id, 'kind', 'reserve',
                                  'on_hand_delta', 0, 'reserved_delta', q),
               :now, 1, n
          FROM took) AS e
     ORDER BY part, n
)
SELECT v.ok, f.ok AS fits, f.short, (SELECT count(*) FROM took) AS taken FROM verdict AS v, fits AS f
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))


async def place(session: AsyncSession, placed: Sequence[Placed], takes: Sequence[OrderTake], *, attempt: int,
                records: Sequence[dict[str, Any]], now: datetime, commit: bool) -> Outcome:
    """Reserve `takes` and write the orders of `placed` with their other rows (`OrderDraft.with_rows`), all or
    nothing (see the module). Orders with a turn (`OrderDraft.turn`) wait for it first.

    `records`: the Idempotency-Keys' rows with their answers (`idempotency.answer_row`; one per request placed
    together), written with the orders. If any key has an answer already, nothing is placed (`answered`).
    `commit`: nothing follows in this unit of work: the orders are committed before this returns (on PostgreSQL,
    when no store's change number is needed, as a statement that is its own transaction). Otherwise the caller's
    transaction goes on and the caller commits. Either way, the caller rolls back what is not placed.

    TryAgain if another order drew the same number at the same moment (nothing was written).
    """
    try:
        if dialect_of(session) == "postgresql":
            outcome = await _place_pg(session, placed, takes, attempt=attempt, records=records, now=now,
                                      commit=commit)
        else:
            outcome = await _place_sqlite(session, placed, takes, records=records, commit=commit)
    except IntegrityError as error:
        if _constraint(error) == _KEY_TAKEN:  # one of several keys was answered meanwhile: nothing was written
            return Outcome(False, answered=True)
        if _constraint(error) != _NUMBER_TAKEN:
            raise
        # Another order drew the same number (`rules.order_number`): this one's statements failed whole, and
        # the caller rolls back. Sent again, it draws a new number.
        raise TryAgain("an order number was drawn twice at the same moment; nothing was placed, send the "
                       "request again") from None
    return outcome


_NUMBER_TAKEN = "uq_sales_order_number"
_KEY_TAKEN = "uq_idempotency_key_scope_key"


def _constraint(error: IntegrityError) -> str | None:
    """Which of the placing statement's unique constraints was violated (PostgreSQL names it; SQLite names the
    columns), if one of these."""
    message = str(error.orig)
    if _NUMBER_TAKEN in message or "sales_order.number" in message:
        return _NUMBER_TAKEN
    if _KEY_TAKEN in message:
        return _KEY_TAKEN
    return None


def _levels(takes: Iterable[OrderTake]) -> list[tuple[str, str]]:
    return [(t.take.location_id, t.take.variant_id) for t in takes]


async def _place_pg(session: AsyncSession, placed: Sequence[Placed], takes: Sequence[OrderTake], *, attempt: int,
                    records: Sequence[dict[str, Any]], now: datetime, commit: bool) -> Outcome:
    statement, params = _pg_statement(placed, takes, records, attempt=attempt, now=now,
                                      before=events.take_pending(session),
                                      locking=any(p.draft.turn is not None for p in placed),
                                      rows=_rows_by_table(placed))
    # A store's levels get the store's next change number (the tills' feed) in the same transaction.
    feeds = inventory_service.may_feed_changes(t.take.location_id for t in takes)
    if commit and not feeds:
        verdict = (await finish(session, statement, params)).first()
    else:
        verdict = (await execute(session, statement, params)).first()
    assert verdict is not None
    if not verdict.ok:
        return Outcome(False, short=tuple(verdict.short or ()), answered=bool(verdict.fits))
    if verdict.taken != len(takes):  # cannot happen: every take was checked with its level locked
        raise RuntimeError(f"placing orders took {verdict.taken} of {len(takes)} planned levels")
    inventory_service.note_changes(session, _levels(takes))
    if commit and feeds:
        await session.commit()
    return Outcome(True)


def _pg_statement(placed: Sequence[Placed], takes: Sequence[OrderTake], records: Sequence[dict[str, Any]], *,
                  attempt: int, now: datetime, before: Sequence[dict[str, Any]], locking: bool,
                  rows: Mapping[Table, list[dict[str, Any]]]) -> tuple[Any, dict[str, Any]]:
    """The placing statement for these orders, and its parameters. `before`: the outbox events emitted before
    them; `locking`: it takes the orders' turns first; `rows`: their rows of other tables, by table (a table may
    have none: `rehearse`)."""
    # The statement makes the `stock.changed` event of each take (as `inventory.service.stock_changed_events`
    # does) and the ledger rows' idempotency keys from the takes: ten thousand of each need not be sent.
    outbox = [*before, *events.rows([e for p in placed for e in p.events()])]
    turns = sorted({p.draft.turn for p in placed if p.draft.turn is not None})
    tables = tuple(sorted(rows, key=lambda t: t.name))
    params = {
        "r_locs": [t.take.location_id for t in takes], "r_vars": [t.take.variant_id for t in takes],
        "r_qs": [t.take.quantity for t in takes], "r_merchants": [t.merchant_id for t in takes],
        "r_orders": [t.order_id for t in takes], "r_alloc_ids": new_ids("alc", len(takes)),
        "key_suffix": f":a{attempt}", "events_before": len(before),
        **events.pg_params(outbox), **_key_params(records), "now": now,
        "orders": _json_rows([p.order for p in placed]), "lines": _json_rows([ln for p in placed for ln in p.lines]),
        **({"turn_a": [a for a, _ in turns], "turn_b": [b for _, b in turns]} if locking else {}),
        **{f"rows_{i}": _json_rows(rows[table]) for i, table in enumerate(tables)}}
    return _pg_place(_keys(records), locking, tables), params


def _rows_by_table(placed: Sequence[Placed]) -> dict[Table, list[dict[str, Any]]]:
    rows: dict[Table, list[dict[str, Any]]] = {}
    for p in placed:
        for table, row in p.rows:
            rows.setdefault(table, []).append(row)
    return rows


def _keys(records: Sequence[dict[str, Any]]) -> str:
    return "" if not records else "one" if len(records) == 1 else "several"


async def rehearse(session: AsyncSession, *, keys: int, turns: bool, tables: Sequence[Table], now: datetime) -> None:
    """Run the placing statement of this shape with nothing to place, in the session's transaction (the caller rolls
    back): PostgreSQL plans it, and the driver learns its types, before the first orders need it. `keys` keys are
    recorded (and rolled back with the transaction)."""
    records = [idempotency.answer_row(scope="rehearsal", key=new_id("rhs"), fingerprint="",
                                      result=(201, {})) for _ in range(keys)]
    statement, params = _pg_statement([], [], records, attempt=1, now=now, before=[], locking=turns,
                                      rows={table: [] for table in tables})
    await execute(session, statement, params)


async def _place_sqlite(session: AsyncSession, placed: Sequence[Placed], takes: Sequence[OrderTake], *,
                        records: Sequence[dict[str, Any]], commit: bool) -> Outcome:
    # SQLite runs one writer at a time: the orders' turns are theirs already.
    if not await inventory_service.take_sqlite(session, [(t.merchant_id, t.order_id, t.take) for t in takes]):
        return Outcome(False, short=tuple(sorted({t.take.variant_id for t in takes})))
    await execute_many(session, _INSERT_ORDERS, [p.order for p in placed])
    await execute_many(session, _INSERT_LINES, [ln for p in placed for ln in p.lines])
    for table, rows in _rows_by_table(placed).items():
        await execute_many(session, insert(table), rows)
    await events.emit_many(session, [e for p in placed for e in p.events()])
    for record in records:
        if not await idempotency.record(session, record):
            return Outcome(False, answered=True)
    if commit:
        await session.commit()
    return Outcome(True)


def _key_params(records: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """The keys' rows as the arrays the placing statement unnests."""
    if not records:
        return {}
    return {"k_scopes": [r["scope"] for r in records], "k_keys": [r["key"] for r in records],
            "k_hashes": [r["request_hash"] for r in records], "k_codes": [r["status_code"] for r in records],
            "k_bodies": [r["response_body"] for r in records], "k_created": [r["created_at"] for r in records]}


def _json_rows(rows: Sequence[dict[str, Any]]) -> str:
    return orjson.dumps(rows, option=orjson.OPT_NON_STR_KEYS).decode()
