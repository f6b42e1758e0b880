"""Outbox events, written in the transaction of the change that caused them.

`emit` buffers the event on the session; just before the session commits, every buffered event is
inserted with one multi-row INSERT. A rollback drops the buffer, so an event exists exactly when its
change does, and a use case that emits several events pays for one statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import orjson
from sqlalchemy import Table, event, insert, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from app.core.clock import utcnow
from app.core.models import OutboxEvent

_KEY = "outbox"
_INSERT = insert(cast(Table, OutboxEvent.__table__))  # built once; a Core insert skips ORM bulk bookkeeping


async def emit(session: AsyncSession, *, kind: str, merchant_id: str | None, payload: dict[str, Any]) -> None:
    """Record one event; it commits (or rolls back) with the change that caused it."""
    await emit_many(session, [(kind, merchant_id, payload)])


async def emit_many(session: AsyncSession, events: Sequence[tuple[str, str | None, dict[str, Any]]]) -> None:
    """Record many events (written with the commit, in the order they were emitted)."""
    if events:
        session.info.setdefault(_KEY, []).extend(rows(events))


def rows(events: Sequence[tuple[str, str | None, dict[str, Any]]]) -> list[dict[str, Any]]:
    """Events as outbox rows, made now: what `emit_many` buffers, and what `pg_params` takes."""
    now = utcnow()
    return [{"kind": k, "merchant_id": m, "payload": p, "created_at": now} for k, m, p in events]


# The events of `pg_params` as rows, numbered in the order they were emitted (`n`).
_PG_ROWS_SQL = """
SELECT u.kind, u.merchant_id, CAST(u.payload AS jsonb) AS payload, u.created_at, u.n
  FROM unnest(CAST(:kinds AS varchar[]), CAST(:merchant_ids AS varchar[]), CAST(:payloads AS text[]),
              CAST(:created AS timestamptz[])) WITH ORDINALITY AS u(kind, merchant_id, payload, created_at, n)
"""
# Many events in one statement on PostgreSQL (a POS upload or a big order emits hundreds at a time).
_PG_INSERT_MANY = text(f"""
INSERT INTO event (kind, merchant_id, payload, created_at)
SELECT kind, merchant_id, payload, created_at FROM ({_PG_ROWS_SQL}) AS pending ORDER BY n
""")
_MANY = 8  # from this many rows on, one unnest statement beats an executemany


def pending(session: AsyncSession) -> bool:
    """Whether events were emitted in this unit of work and not yet written."""
    return bool(session.info.get(_KEY))


def take_pending(session: AsyncSession) -> list[dict[str, Any]]:
    """The events emitted so far and not yet written, for a statement that writes them itself (`pg_params`):
    the commit will not write them again."""
    return cast(list[dict[str, Any]], session.info.pop(_KEY, None) or [])


def pg_params(rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    """These events as four arrays (`:kinds`, `:merchant_ids`, `:payloads`, `:created`), in the order they were
    emitted: the parameters of a statement that inserts them with `unnest(...) WITH ORDINALITY` (this module's
    own, the placing statement, a POS fold)."""
    return {"kinds": [r["kind"] for r in rows], "merchant_ids": [r["merchant_id"] for r in rows],
            "payloads": [orjson.dumps(r["payload"], option=orjson.OPT_NON_STR_KEYS).decode() for r in rows],
            "created": [r["created_at"] for r in rows]}


@event.listens_for(Session, "before_commit")
def _write_outbox(session: Session) -> None:
    rows = session.info.pop(_KEY, None)
    if not rows:
        return
    conn = session.connection()
    if len(rows) < _MANY or conn.dialect.name != "postgresql":
        conn.execute(_INSERT, rows)
        return
    conn.execute(_PG_INSERT_MANY, pg_params(rows))


@event.listens_for(Session, "after_rollback")
def _drop_outbox(session: Session) -> None:
    session.info.pop(_KEY, None)
