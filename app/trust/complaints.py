"""Complaints about products and merchants, and the platform's resolution of them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Product
from app.config import Settings
from app.core import events
from app.core.auth import Principal
from app.core.clock import as_utc, rfc3339, utcnow
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.core.pagination import keyset_page
from app.core.workdays import working_days_deadline
from app.merchants.models import Merchant
from app.trust.audit_log import record_audit
from app.trust.models import (
    Complaint,
)
from app.trust.reputation import bump
from app.trust.schemas import ComplaintIn

# ---- complaints ------------------------------------------------------------------------------------------


def complaint_view(c: Complaint, now: datetime) -> dict[str, Any]:
    return {"id": c.id, "target_type": c.target_type, "target_id": c.target_id, "merchant_id": c.merchant_id,
            "category": c.category, "reason": c.reason, "evidence": c.evidence.get("urls", []),
            "status": c.status, "resolution": c.resolution, "history": c.history.get("items", []),
            "sla_due_at": c.sla_due_at, "overdue": c.status == "open" and as_utc(c.sla_due_at) < now,
            "created_at": c.created_at, "resolved_at": c.resolved_at}


async def target_merchant(session: AsyncSession, target_type: str, target_id: str) -> str:
    if target_type == "product":
        merchant_id = await session.scalar(select(Product.merchant_id).where(Product.id == target_id))
    else:
        merchant_id = await session.scalar(select(Merchant.id).where(Merchant.id == target_id))
    if merchant_id is None:
        raise NotFound(target_type, target_id)
    return merchant_id


async def file_complaint(*, session: AsyncSession, settings: Settings, principal: Principal | None,
                         complaint_in: ComplaintIn) -> dict[str, Any]:
    """Anyone may complain about a listing or a merchant (a token, if sent, identifies the complainant)."""
    merchant_id = await target_merchant(session, complaint_in.target_type, complaint_in.target_id)
    now = utcnow()
    by = principal.scope if principal else "anonymous"
    complaint = Complaint(
        id=new_id("cpl"), target_type=complaint_in.target_type, target_id=complaint_in.target_id,
        merchant_id=merchant_id, category=complaint_in.category, reason=complaint_in.reason,
        evidence={"urls": [str(u) for u in complaint_in.evidence]}, complainant=by,
        contact_email=complaint_in.contact_email, status="open", resolution=None,
        history={"items": [{"status": "open", "at": rfc3339(now), "by": by, "note": None}]},
        sla_due_at=working_days_deadline(now, settings.shop_complaint_sla_days), created_at=now)
    session.add(complaint)
    await session.flush()
    await events.emit(session, kind="complaint.created", merchant_id=merchant_id,
                      payload={"complaint_id": complaint.id, "target_type": complaint.target_type,
                               "target_id": complaint.target_id})
    await session.commit()
    return complaint_view(complaint, now)


async def get_complaint(*, session: AsyncSession, principal: Principal | None, complaint_id: str) -> dict[str, Any]:
    """The complainant (same token) and the admin can follow a complaint."""
    complaint = await session.get(Complaint, complaint_id)
    if complaint is None or principal is None or (principal.kind != "admin"
                                                  and principal.scope != complaint.complainant):
        raise NotFound("complaint", complaint_id)
    return complaint_view(complaint, utcnow())


async def list_complaints(*, session: AsyncSession, status: str | None, before: str | None,
                          limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """The admin's queue, oldest first (`?status=open` for what is left to do)."""
    stmt = select(Complaint)
    if status:
        stmt = stmt.where(Complaint.status == status)
    rows, last = await keyset_page(session, stmt, Complaint.id, after=before, limit=limit, newest_first=False)
    now = utcnow()
    return [complaint_view(c, now) for c in rows], last


async def resolve_complaint(*, session: AsyncSession, actor: str, complaint_id: str, outcome: str,
                            note: str) -> dict[str, Any]:
    """Close a complaint as upheld (it counts against the merchant's credit) or rejected, with the reason."""
    complaint = await session.get(Complaint, complaint_id, with_for_update=True)
    if complaint is None:
        raise NotFound("complaint", complaint_id)
    if complaint.status != "open":
        raise Conflict(f"the complaint is already {complaint.status}")
    now = utcnow()
    complaint.status, complaint.resolution, complaint.resolved_at = outcome, note, now
    complaint.history = {"items": [*complaint.history.get("items", []),
                                   {"status": outcome, "at": rfc3339(now), "by": actor, "note": note}]}
    if outcome == "upheld":
        await bump(session, complaint.merchant_id, upheld_complaints=1)
    await record_audit(session, actor=actor, action=f"complaint.{outcome}", target_type="complaint",
                       target_id=complaint_id, merchant_id=complaint.merchant_id, before={"status": "open"},
                       after={"status": outcome, "note": note})
    await events.emit(session, kind=f"complaint.{outcome}", merchant_id=complaint.merchant_id,
                      payload={"complaint_id": complaint_id})
    await session.commit()
    return complaint_view(complaint, now)


async def complaints_by(*, session: AsyncSession, principal: Principal) -> list[dict[str, Any]]:
    """Every complaint the principal filed with its token, oldest first (for their own data copy)."""
    rows = (await session.scalars(select(Complaint).where(Complaint.complainant == principal.scope)
                                  .order_by(Complaint.id))).all()
    now = utcnow()
    return [complaint_view(c, now) for c in rows]
