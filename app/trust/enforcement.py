"""Takedowns, warnings and suspensions, and the public list of actions taken."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import service as catalog_service
from app.core.clock import as_utc, rfc3339, utcnow
from app.core.errors import Conflict, NotFound, field_error
from app.core.ids import new_id
from app.core.pagination import keyset_page
from app.merchants import service as merchants_service
from app.merchants.models import Merchant
from app.trust.audit_log import record_audit
from app.trust.models import (
    Enforcement,
)
from app.trust.reputation import bump

# ---- takedowns and enforcement ---------------------------------------------------------------------------


async def take_down(*, session: AsyncSession, actor: str, product_id: str, reason: str) -> dict[str, Any]:
    """Hide a listing at once (not listed, not found, not sellable, carts included) and publish the measure."""
    before = await catalog_service.set_status_by_platform(session=session, product_id=product_id,
                                                          status="taken_down",
                                                          expect=("draft", "active", "pending_review", "archived"))
    merchant = await merchants_service.get(session=session, merchant_id=before["merchant_id"])
    assert merchant is not None  # a product's merchant always exists (foreign key)
    now = utcnow()
    entry = Enforcement(id=new_id("enf"), merchant_id=merchant.id, shop_name=merchant.name, action="takedown",
                        target_type="product", target_id=product_id, target_title=before["title"], reason=reason,
                        decided_at=now, published_at=now, ends_at=None)
    session.add(entry)
    await bump(session, merchant.id, takedowns=1)
    await record_audit(session, actor=actor, action="product.takedown", target_type="product", target_id=product_id,
                       merchant_id=merchant.id, before=before, after={"status": "taken_down", "reason": reason})
    await session.commit()
    return {"id": entry.id, "merchant_id": entry.merchant_id, "shop_name": entry.shop_name, "action": entry.action,
            "target_type": entry.target_type, "target_id": entry.target_id, "target_title": entry.target_title,
            "reason": entry.reason, "decided_at": entry.decided_at, "published_at": entry.published_at,
            "ends_at": entry.ends_at}


async def approve_listing(*, session: AsyncSession, actor: str, product_id: str) -> dict[str, Any]:
    """Release a listing held by moderation: it goes live."""
    before = await catalog_service.set_status_by_platform(session=session, product_id=product_id, status="active",
                                                          expect=("pending_review",))
    await record_audit(session, actor=actor, action="product.approve", target_type="product", target_id=product_id,
                       merchant_id=before["merchant_id"], before=before, after={"status": "active"})
    await session.commit()
    return {"id": product_id, "status": "active"}


async def warn(*, session: AsyncSession, actor: str, merchant_id: str, reason: str,
               ends_at: datetime) -> Enforcement:
    """A public warning to a merchant, shown on the enforcement list until it expires."""
    merchant = await merchants_service.get(session=session, merchant_id=merchant_id)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    now = utcnow()
    if as_utc(ends_at) <= now:
        raise Conflict("a warning must end in the future")
    entry = Enforcement(id=new_id("enf"), merchant_id=merchant_id, shop_name=merchant.name, action="warning",
                        target_type="merchant", target_id=merchant_id, target_title=merchant.name, reason=reason,
                        decided_at=now, published_at=now, ends_at=as_utc(ends_at))
    session.add(entry)
    await record_audit(session, actor=actor, action="merchant.warning", target_type="merchant",
                       target_id=merchant_id, merchant_id=merchant_id, after={"reason": reason,
                                                                              "ends_at": rfc3339(ends_at)})
    await session.commit()
    return entry


async def suspend(*, session: AsyncSession, actor: str, merchant_id: str, reason: str | None,
                  ends_at: datetime | None) -> Merchant:
    """Suspend a merchant: every listing disappears and nothing of theirs can be bought, carts included, at once;
    the measure is published at once and, when it has an end, drops off the public list then (C10)."""
    now = utcnow()
    if ends_at is not None and as_utc(ends_at) <= now:
        raise field_error("ends_at", "must be in the future")
    merchant = await merchants_service.change_status(session=session, merchant_id=merchant_id, status="suspended",
                                                     reason=reason)
    text = reason or "违反平台规则 (breach of the platform rules)"
    session.add(Enforcement(id=new_id("enf"), merchant_id=merchant_id, shop_name=merchant.name, action="suspension",
                            target_type="merchant", target_id=merchant_id, target_title=merchant.name, reason=text,
                            decided_at=now, published_at=now, ends_at=as_utc(ends_at) if ends_at else None))
    await record_audit(session, actor=actor, action="merchant.suspend", target_type="merchant", target_id=merchant_id,
                       merchant_id=merchant_id, after={"status": "suspended", "reason": text,
                                                       "ends_at": rfc3339(ends_at) if ends_at else None})
    await session.commit()
    return merchant


async def list_enforcement(*, session: AsyncSession, before: str | None, limit: int
                           ) -> tuple[Sequence[Enforcement], str | None]:
    """Measures in force, newest first; warnings and suspensions drop off when they end."""
    return await keyset_page(
        session, select(Enforcement).where(or_(Enforcement.ends_at.is_(None), Enforcement.ends_at > utcnow())),
        Enforcement.id, after=before, limit=limit)
