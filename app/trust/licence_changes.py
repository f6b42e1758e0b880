"""Licence changes (C4): merchants report new licence data, the platform decides within 7 working days."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import service as catalog_service
from app.core import events
from app.core.auth import Principal
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.ids import new_id
from app.core.pagination import keyset_page
from app.core.workdays import working_days_deadline
from app.merchants import service as merchants_service
from app.merchants import verification
from app.merchants.models import Merchant
from app.trust.audit_log import record_audit
from app.trust.models import (
    LicenceChange,
)
from app.trust.schemas import LicenceChangeIn

# ---- licence changes (C4) --------------------------------------------------------------------------------

LICENCE_CHANGE_SLA_WORKING_DAYS = 7  # NTM art. 26: the platform verifies a change within 7 working days


def licence_change_view(change: LicenceChange, now: datetime) -> dict[str, Any]:
    """The public shape (`LicenceChangeOut`); breached once pending past its due time, or decided late."""
    ended = as_utc(change.decided_at) if change.decided_at else now
    return {"id": change.id, "merchant_id": change.merchant_id, "status": change.status, "changes": change.changes,
            "previous": change.previous, "note": change.note, "submitted_at": change.submitted_at,
            "sla_due_at": change.sla_due_at, "sla_breached": ended > as_utc(change.sla_due_at),
            "decided_at": change.decided_at, "decided_by": change.decided_by,
            "decision_reason": change.decision_reason}


def _identity_errors(current: dict[str, str | None], changes: dict[str, str | None]) -> list[dict[str, Any]]:
    """Field errors of the data after the change, for the fields it touches (a new kind re-checks the licence)."""
    merged = {**current, **changes}
    errors = verification.sign_up_errors(kind=str(merged["kind"]), licence_no=str(merged["licence_no"]),
                                         icp_no=merged["icp_no"])
    touched = set(changes) | ({"licence_no"} if "kind" in changes else set())
    return [e for e in errors if e["field"] in touched]


async def submit_licence_change(*, session: AsyncSession, principal: Principal,
                                change_in: LicenceChangeIn) -> dict[str, Any]:
    """A seller reports new licence or registration data; it waits, one request at a time, for the platform."""
    merchant_id = principal.tenant
    merchant = await session.get(Merchant, merchant_id, with_for_update=True)  # one submission at a time
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    sent = change_in.model_dump(exclude_unset=True, exclude={"note", "id_number_consent"})
    nulls = [{"field": f, "message": "cannot be null"} for f in ("name", "kind", "licence_no")
             if f in sent and sent[f] is None]
    if nulls:
        raise InvalidInput("only icp_no can be removed", errors=nulls)
    current = merchants_service.identity_of(merchant)
    changes = {f: v for f, v in sent.items() if v != current[f]}
    if not changes:
        raise InvalidInput("nothing to change: every value sent is already on record",
                           errors=[{"field": "body", "message": "no field differs from the data on record"}])
    errors = _identity_errors(current, changes)
    merged = {**current, **changes}
    holds_id = verification.holds_id_number(str(merged["kind"]), str(merged["licence_no"]))
    consent_error = verification.id_number_consent_error(kind=str(merged["kind"]), licence_no=str(merged["licence_no"]),
                                                         consent=change_in.id_number_consent)
    if consent_error and not errors and changes.keys() & {"kind", "licence_no"}:
        errors.append(consent_error)  # an ID number is kept (here, from now) only with its own consent (C19)
    if errors:
        raise InvalidInput("; ".join(e["message"] for e in errors), errors=errors)
    if holds_id and changes.keys() & {"kind", "licence_no"}:
        merchant.id_number_consent_at = utcnow()
        merchant.id_number_consent_version = verification.ID_NUMBER_NOTICE_VERSION
    pending = await session.scalar(select(LicenceChange.id).where(LicenceChange.merchant_id == merchant_id,
                                                                  LicenceChange.status == "pending").limit(1))
    if pending is not None:
        raise Conflict(f"licence change {pending} is still waiting for the platform; wait for its decision")
    now = utcnow()
    change = LicenceChange(id=new_id("lch"), merchant_id=merchant_id, status="pending", changes=changes,
                           previous={f: current[f] for f in changes}, note=change_in.note,
                           submitted_by=principal.scope, submitted_at=now,
                           sla_due_at=working_days_deadline(now, LICENCE_CHANGE_SLA_WORKING_DAYS))
    session.add(change)
    await session.flush()
    await record_audit(session, actor=principal.scope, action="licence_change.submit", target_type="licence_change",
                       target_id=change.id, merchant_id=merchant_id, before=change.previous, after=changes)
    await events.emit(session, kind="licence_change.submitted", merchant_id=merchant_id,
                      payload={"id": change.id, "fields": sorted(changes)})
    await session.commit()
    return licence_change_view(change, now)


async def get_licence_change(*, session: AsyncSession, principal: Principal, change_id: str) -> dict[str, Any]:
    """One request, for the admin or the merchant that made it."""
    change = await session.get(LicenceChange, change_id)
    if change is None or (principal.kind != "admin" and change.merchant_id != principal.tenant):
        raise NotFound("licence change", change_id)
    return licence_change_view(change, utcnow())


async def list_licence_changes(*, session: AsyncSession, merchant_id: str | None, status: str | None,
                               after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """Requests oldest first (the review queue), of one merchant or of all."""
    stmt = select(LicenceChange)
    if merchant_id is not None:
        stmt = stmt.where(LicenceChange.merchant_id == merchant_id)
    if status:
        stmt = stmt.where(LicenceChange.status == status)
    rows, last = await keyset_page(session, stmt, LicenceChange.id, after=after, limit=limit, newest_first=False)
    now = utcnow()
    return [licence_change_view(r, now) for r in rows], last


async def decide_licence_change(*, session: AsyncSession, actor: str, change_id: str, approve: bool,
                                reason: str | None) -> dict[str, Any]:
    """The platform approves (the shop page shows the new data at once) or rejects a pending request."""
    change = await session.get(LicenceChange, change_id, with_for_update=True)
    if change is None:
        raise NotFound("licence change", change_id)
    if change.status != "pending":
        raise Conflict(f"this licence change was already {change.status}")
    now = utcnow()
    change.status = "approved" if approve else "rejected"
    change.decided_at, change.decided_by, change.decision_reason = now, actor, reason
    if approve:
        await merchants_service.update_identity(session=session, merchant_id=change.merchant_id,
                                                values=change.changes)
        if "name" in change.changes:  # listings name their seller: buyers from now on see the new name
            await session.flush()
            await catalog_service.revise_merchant_listings(session=session, merchant_id=change.merchant_id)
    await record_audit(session, actor=actor, action=f"licence_change.{'approve' if approve else 'reject'}",
                       target_type="licence_change", target_id=change.id, merchant_id=change.merchant_id,
                       before={"status": "pending", **change.previous},
                       after={"status": change.status, "reason": reason, **(change.changes if approve else {})})
    await events.emit(session, kind=f"licence_change.{change.status}", merchant_id=change.merchant_id,
                      payload={"id": change.id})
    await session.commit()
    return licence_change_view(change, now)
