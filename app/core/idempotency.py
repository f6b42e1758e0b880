"""`Idempotency-Key` handling: a retry with the same key and body gets the first response.

The key is recorded with the response as the last statement of the unit of work, in the same
transaction as the change it describes, so an answer exists exactly when the change does; a concurrent
retry blocks on the unique index until the first request commits, then rolls back and reads the answer.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import orjson
from sqlalchemy import Table, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.errors import Conflict, IdempotencyConflict
from app.core.models import IdempotencyRecord
from app.db import dialect_of, insert_ignore, run

Result = tuple[int, Any]  # (HTTP status, JSON-ready body)
RETRIES = 5
_RECORDS = cast(Table, IdempotencyRecord.__table__)
_CLAIM = "idempotency.claim"


@dataclass(slots=True)
class Claim:
    """The key a unit of work runs under. A statement of the work that knows the answer before it runs may
    record it itself (`PG_RECORD_SQL`), saving the separate insert; it then sets `recorded`."""

    scope: str
    key: str
    fingerprint: str
    recorded: bool = False

    def row(self, result: Result) -> dict[str, Any]:
        """The record of this key and its answer: the parameters of `PG_RECORD_SQL`, or of the separate insert."""
        status, body = result
        return {"scope": self.scope, "key": self.key, "request_hash": self.fingerprint, "status_code": status,
                "response_body": orjson.dumps(body).decode(), "created_at": utcnow()}


class AlreadyAnswered(Conflict):
    """The key got its answer from another request meanwhile: this one's work is undone and that answer given."""


def claim(session: AsyncSession) -> Claim | None:
    """The key the session's current unit of work runs under, if any (see `Claim`)."""
    return cast(Claim | None, session.info.get(_CLAIM))


# Record a claim's answer as part of a bigger statement (PostgreSQL): a CTE body, run only if `{when}` holds.
# It returns the row's id, or nothing if the key has an answer already (waiting, as the separate insert does,
# for a concurrent request with the key to commit or roll back).
PG_RECORD_SQL = """
INSERT INTO idempotency_key (scope, key, request_hash, status_code, response_body, created_at)
SELECT :scope, :key, :request_hash, :status_code, :response_body, CAST(:created_at AS timestamptz) WHERE {when}
    ON CONFLICT (scope, key) DO NOTHING
RETURNING id"""


@functools.cache
def _record(dialect: str) -> Any:
    """INSERT the key and its answer unless the key exists, returning its id: built once per dialect."""
    return insert_ignore(dialect, _RECORDS, ["scope", "key"]).returning(_RECORDS.c.id)


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
    code = getattr(exc.orig, "sqlstate", None) or getattr(getattr(exc.orig, "__cause__", None), "sqlstate", None)
    return code in ("40P01", "40001") or "database is locked" in str(exc.orig)


async def _run_once(session: AsyncSession, *, scope: str, key: str | None, fingerprint: str,
                    work: Callable[[], Awaitable[Result]], then: Callable[[], Awaitable[None]] | None) -> Result:
    if key is None:
        result = await work()
        if then is not None:
            await then()
        await session.commit()
        return result
    # The work runs first and the key is recorded with its answer as the last statement of the same
    # transaction: one statement per request. A request whose key already has an answer finds out there
    # (the insert does nothing) or, if its work failed meanwhile (say the stock it reserved the first
    # time is gone now), when the failure is handled; either way it rolls back and gets that answer. A
    # concurrent request with the same key waits on the unique index until the first one commits.
    claimed = session.info[_CLAIM] = Claim(scope, key, fingerprint)
    try:
        status, body = await work()
    except Exception:
        found = await _answer_after_rollback(session, scope, key, fingerprint)
        if found is not None:
            return found
        raise
    finally:
        session.info.pop(_CLAIM, None)
    recorded = claimed.recorded or (await run(session, _record(dialect_of(session)),
                                              claimed.row((status, body)))).first()
    if not recorded:
        found = await _answer_after_rollback(session, scope, key, fingerprint)
        if found is None:  # the other request's row is gone again (it cannot be: answers are kept)
            raise Conflict(f"a request with Idempotency-Key {key!r} is still in progress")
        return found
    if then is not None:
        await then()
    await session.commit()
    return status, body


async def _answer_after_rollback(session: AsyncSession, scope: str, key: str, fingerprint: str) -> Result | None:
    """Undo this attempt's work and read the answer stored for the key, if any (409 if the body differs)."""
    await session.rollback()
    found = await _stored(session, scope, key, fingerprint)
    await session.rollback()
    return found
