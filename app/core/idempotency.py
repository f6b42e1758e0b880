"""`Idempotency-Key` handling: a retry with the same key and body gets the first response.

The key is recorded with the response as the last write of the unit of work, in the same transaction as the
change it describes, so an answer exists exactly when the change does; a concurrent retry blocks on the unique
index until the first request commits, then rolls back and reads the answer.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Awaitable, Callable
from typing import Any, cast

import orjson
from sqlalchemy import Table, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.errors import Conflict, IdempotencyConflict
from app.core.models import IdempotencyRecord
from app.db import dialect_of, execute, insert_ignore, sqlstate

Result = tuple[int, Any]  # (HTTP status, JSON-ready body)
RETRIES = 5
_RECORDS = cast(Table, IdempotencyRecord.__table__)


def answer_row(*, scope: str, key: str, fingerprint: str, result: Result) -> dict[str, Any]:
    """The record of a key and its answer: the parameters of `record`, or of a statement that records it itself
    (placing orders, `app.orders.placing.statement`)."""
    status, body = result
    return {"scope": scope, "key": key, "request_hash": fingerprint, "status_code": status,
            "response_body": orjson.dumps(body).decode(), "created_at": utcnow()}


class AlreadyAnswered(Conflict):
    """The key got its answer from another request meanwhile: this one's work is undone and that answer given."""


@functools.cache
def _record(dialect: str) -> Any:
    """INSERT the key and its answer unless the key exists, returning its id: built once per dialect."""
    return insert_ignore(dialect, _RECORDS, ["scope", "key"]).returning(_RECORDS.c.id)


async def record(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Record a key's answer (`answer_row`) in the session's transaction; False if the key has an answer already
    (a concurrent request with the key waits on the unique index for the first one to commit or roll back)."""
    return (await execute(session, _record(dialect_of(session)), row)).first() is not None


def request_hash(*parts: Any) -> str:
    """A fingerprint of a request: method/path plus its canonical JSON body."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def lookup(session: AsyncSession, *, scope: str, key: str, fingerprint: str) -> Result | None:
    """The stored answer to an earlier request with this key (409 if the body differs), or None."""
    found = await _stored(session, scope, key, fingerprint)
    if found is not None:
        await session.rollback()
    return found


async def _stored(session: AsyncSession, scope: str, key: str, fingerprint: str) -> Result | None:
    row = (await session.execute(
        select(IdempotencyRecord.request_hash, IdempotencyRecord.status_code, IdempotencyRecord.response_body)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflict(f"Idempotency-Key {key!r} was used with a different request")
    return row.status_code, orjson.loads(row.response_body)


async def run_idempotent(
    session: AsyncSession,
    *,
    scope: str,
    key: str | None,
    fingerprint: str,
    work: Callable[[], Awaitable[Result]],
    then: Callable[[], Awaitable[None]] | None = None,
) -> Result:
    """Run `work` (which must not commit) once per (scope, key) and commit it with its stored response.

    `then`, if given, runs after the response is recorded and before the commit, in the same transaction:
    work whose outcome the response does not depend on, kept out of `work` so that it runs as late as
    possible (a POS upload folds its events into the locked stock levels there, so the locks are held
    for that step and the commit only).

    A transaction that loses a deadlock or serialization race is rolled back and run again, so such
    errors never reach the client.
    """
    for attempt in range(1, RETRIES + 1):
        try:
            return await _run_once(session, scope=scope, key=key, fingerprint=fingerprint, work=work, then=then)
        except DBAPIError as exc:
            await session.rollback()
            if attempt == RETRIES or not is_retryable(exc):
                raise
            await asyncio.sleep(0.005 * attempt)
    raise AssertionError("unreachable")


def is_retryable(exc: DBAPIError) -> bool:
    """Deadlock, serialization failure (PostgreSQL) or a busy database (SQLite)."""
    return sqlstate(exc) in ("40P01", "40001") or "database is locked" in str(exc.orig)


async def _run_once(session: AsyncSession, *, scope: str, key: str | None, fingerprint: str,
                    work: Callable[[], Awaitable[Result]], then: Callable[[], Awaitable[None]] | None) -> Result:
    if key is None:
        result = await work()
        if then is not None:
            await then()
        await session.commit()
        return result
    # The work runs first and the key is recorded with its answer as the last statement of the same
    # transaction. A request whose key already has an answer finds out there (the insert does nothing) or, if
    # its work failed meanwhile (say the stock it reserved the first time is gone now), when the failure is
    # handled; either way it rolls back and gets that answer. A concurrent request with the same key waits on
    # the unique index until the first one commits.
    try:
        result = await work()
    except Exception:
        found = await answer_after_rollback(session, scope=scope, key=key, fingerprint=fingerprint)
        if found is not None:
            return found
        raise
    if not await record(session, answer_row(scope=scope, key=key, fingerprint=fingerprint, result=result)):
        found = await answer_after_rollback(session, scope=scope, key=key, fingerprint=fingerprint)
        if found is None:  # the other request's row is gone again (it cannot be: answers are kept)
            raise Conflict(f"a request with Idempotency-Key {key!r} is still in progress")
        return found
    if then is not None:
        await then()
    await session.commit()
    return result


async def answer_after_rollback(session: AsyncSession, *, scope: str, key: str, fingerprint: str) -> Result | None:
    """Undo this attempt's work and read the answer stored for the key, if any (409 if the body differs)."""
    await session.rollback()
    found = await _stored(session, scope, key, fingerprint)
    await session.rollback()
    return found
