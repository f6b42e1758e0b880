"""Write outbox events inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.models import OutboxEvent


async def emit(session: AsyncSession, *, kind: str, merchant_id: str | None, payload: dict[str, Any]) -> None:
    """Record one event; it commits (or rolls back) with the change that caused it."""
    await emit_many(session, [(kind, merchant_id, payload)])


async def emit_many(session: AsyncSession, events: Sequence[tuple[str, str | None, dict[str, Any]]]) -> None:
    """Record many events with one executemany."""
    if not events:
        return
    now = utcnow()
    await session.execute(
        insert(OutboxEvent),
        [{"kind": k, "merchant_id": m, "payload": p, "created_at": now} for k, m, p in events],
    )
