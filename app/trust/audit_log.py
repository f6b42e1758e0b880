"""The audit log: who did what to which record, before and after (append-only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.clock import utcnow
from app.trust.models import (
    AuditEntry,
)

# ---- audit log -------------------------------------------------------------------------------------------


async def record_audit(session: AsyncSession, *, actor: str, action: str, target_type: str, target_id: str | None,
                       merchant_id: str | None = None, before: dict[str, Any] | None = None,
                       after: dict[str, Any] | None = None) -> None:
    """Append one audit entry inside the caller's transaction (never commits)."""
    await session.execute(insert(AuditEntry).values(
        actor=actor, action=action, target_type=target_type, target_id=target_id, merchant_id=merchant_id,
        before=before, after=after, created_at=utcnow()))


async def record_request(factory: async_sessionmaker[AsyncSession], *, actor: str, action: str, target_type: str,
                         target_id: str | None, merchant_id: str | None, after: dict[str, Any]) -> None:
    """Audit an admin or sensitive merchant request that succeeded (written by the middleware, after it)."""
    async with factory() as session:
        await record_audit(session, actor=actor, action=action, target_type=target_type, target_id=target_id,
                           merchant_id=merchant_id, after=after)
        await session.commit()


async def list_audit(*, session: AsyncSession, before: int | None, limit: int, actor: str | None,
                     merchant_id: str | None) -> Sequence[AuditEntry]:
    """Newest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if merchant_id:
        stmt = stmt.where(AuditEntry.merchant_id == merchant_id)
    return (await session.scalars(stmt)).all()
