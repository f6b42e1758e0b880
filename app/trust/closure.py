"""Shop closure (C39, ECL art. 16, NTM art. 23): announced on the shop page at least 30 days ahead; at the day
the shop stops selling, while its open orders and returns go on being served to the end."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core import cache, events
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, NotFound, field_error
from app.merchants.models import Merchant
from app.trust.audit_log import record_audit

MIN_NOTICE = timedelta(days=30)


def closure_refusal(*, now: datetime, closes_at: datetime) -> str | None:
    """Why a closure on `closes_at` cannot be announced `now`, or None: the notice runs at least 30 days."""
    if closes_at < now + MIN_NOTICE:
        return f"announce a closure at least 30 days ahead: not before {(now + MIN_NOTICE).isoformat()}"
    return None


def closure_view(merchant: Merchant) -> dict[str, Any]:
    return {"merchant_id": merchant.id, "status": merchant.status, "announced_at": merchant.closure_announced_at,
            "closes_at": merchant.closes_at, "note": merchant.closure_note}


async def announce(*, session: AsyncSession, actor: str, merchant_id: str, closes_at: datetime,
                   note: str | None) -> dict[str, Any]:
    """The seller announces it stops trading on `closes_at`; its shop page says so from now on."""
    merchant = await session.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    if merchant.status != "active":
        raise Conflict(f"only a trading shop announces a closure; this one is {merchant.status}")
    now = utcnow()
    refusal = closure_refusal(now=now, closes_at=as_utc(closes_at))
    if refusal:
        raise field_error("closes_at", refusal)
    before = closure_view(merchant)
    merchant.closure_announced_at, merchant.closes_at, merchant.closure_note = now, as_utc(closes_at), note
    cache.mark_changed(session)  # the shop page shows the notice
    await record_audit(session, actor=actor, action="shop.closure_announced", target_type="merchant",
                       target_id=merchant_id, merchant_id=merchant_id,
                       before={"closes_at": before["closes_at"].isoformat() if before["closes_at"] else None},
                       after={"closes_at": as_utc(closes_at).isoformat(), "note": note})
    await events.emit(session, kind="merchant.closure_announced", merchant_id=merchant_id,
                      payload={"id": merchant_id, "closes_at": as_utc(closes_at).isoformat()})
    await session.commit()
    return closure_view(merchant)


async def close_due_shops(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Job: shops whose announced day has come stop selling (`closed`: out of every list and checkout). Their
    open orders, shipments, returns and refunds carry on: those paths do not ask whether the shop trades."""
    async with factory() as session:
        now = utcnow()
        due = list((await session.scalars(select(Merchant.id).where(
            Merchant.status == "active", Merchant.closes_at.is_not(None), Merchant.closes_at <= now)
            .order_by(Merchant.id))).all())
        if due:
            await session.execute(update(Merchant).where(Merchant.id.in_(due), Merchant.status == "active")
                                  .values(status="closed", status_reason="closed as announced", updated_at=now))
            cache.mark_changed(session)
            await events.emit_many(session, [("merchant.closed", m, {"id": m}) for m in due])
        await session.commit()
    return len(due)
