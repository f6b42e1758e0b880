"""A return's status history: every step, who took it and why."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.ids import new_id
from app.orders.models import ReturnEvent, ReturnRequest


async def return_step(session: AsyncSession, ret: ReturnRequest, status: str, actor: str, note: str | None) -> None:
    """Move a return to `status` (`requested` only adds to the history) and record the step."""
    if status != "requested":
        ret.status = status
    session.add(ReturnEvent(id=new_id("rev"), return_id=ret.id, order_id=ret.order_id, merchant_id=ret.merchant_id,
                            status=status, actor=actor, note=note[:500] if note else None, created_at=utcnow()))
