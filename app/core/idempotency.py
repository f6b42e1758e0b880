"""`Idempotency-Key` handling: a retry with the same key and body gets the first response.

The key is claimed (inserted) at the start of the unit of work, so a concurrent retry blocks on the
unique index and then reads the stored answer; the response is stored in the same transaction as the
change it describes, so an answer exists exactly when the change does.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.errors import Conflict, IdempotencyConflict
from app.core.models import IdempotencyRecord

Result = tuple[int, Any]  # (HTTP status, JSON-ready body)


def request_hash(*parts: Any) -> str:
    """A fingerprint of a request: method/path plus its canonical JSON body."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


async def _stored(session: AsyncSession, scope: str, key: str, fingerprint: str) -> Result | None:
    row = (await session.execute(
        select(IdempotencyRecord.request_hash, IdempotencyRecord.status_code, IdempotencyRecord.response_body)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    )).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise IdempotencyConflict(f"Idempotency-Key {key!r} was used with a different request")
    if row.status_code == 0:
        raise Conflict(f"a request with Idempotency-Key {key!r} is still in progress")
    return row.status_code, orjson.loads(row.response_body)


async def run_idempotent(
    session: AsyncSession,
    *,
    scope: str,
    key: str | None,
    fingerprint: str,
    work: Callable[[], Awaitable[Result]],
) -> Result:
    """Run `work` (which must not commit) once per (scope, key) and commit it with its stored response."""
    if key is None:
        result = await work()
        await session.commit()
        return result
    found = await _stored(session, scope, key, fingerprint)
    if found is not None:
        await session.rollback()
        return found
    try:
        await session.execute(insert(IdempotencyRecord).values(
            scope=scope, key=key, request_hash=fingerprint, status_code=0, response_body="", created_at=utcnow()))
    except IntegrityError:
        await session.rollback()  # a concurrent request with this key committed first
        found = await _stored(session, scope, key, fingerprint)
        await session.rollback()
        if found is None:
            raise
        return found
    status, body = await work()
    await session.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .values(status_code=status, response_body=orjson.dumps(body).decode())
    )
    await session.commit()
    return status, body
