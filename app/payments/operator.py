"""What the operator reads about money the providers reported: notifications whose amount differed from ours
(never marked paid) and the reconciliation runs (`shop reconcile`), newest first, paged by cursor."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.core.deps import AdminDep, SessionDep
from app.core.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor, keyset_page
from app.core.schemas import OutSchema, UtcDatetime
from app.payments.models import PaymentDiscrepancy, ReconciliationRun

router = APIRouter(prefix="/v1/admin/payments", tags=["payments"])


class DiscrepancyOut(OutSchema):
    id: str
    provider: str
    payment_id: str | None
    provider_ref: str
    kind: str
    expected: int | None
    received: int | None
    created_at: UtcDatetime


class ReconciliationOut(OutSchema):
    id: str
    provider: str
    day: date
    statement_lines: int
    matched: int
    findings: list[dict[str, Any]]
    created_at: UtcDatetime


@router.get("/discrepancies", response_model=Page[DiscrepancyOut])
async def discrepancies(_: AdminDep, session: SessionDep, limit: LimitQuery = 50,
                        cursor: CursorQuery = None) -> Page[DiscrepancyOut]:
    """Provider notifications whose amount was not the payment's: kept here, nothing was marked paid."""
    rows, last = await keyset_page(session, select(PaymentDiscrepancy), PaymentDiscrepancy.id,
                                   after=decode_cursor(cursor), limit=limit)
    return Page[DiscrepancyOut](items=[DiscrepancyOut.model_validate(r) for r in rows],
                                next_cursor=encode_cursor(last) if last else None)


@router.get("/reconciliations", response_model=Page[ReconciliationOut])
async def reconciliations(_: AdminDep, session: SessionDep, limit: LimitQuery = 20, cursor: CursorQuery = None,
                          provider: Annotated[str | None, Query(max_length=20)] = None) -> Page[ReconciliationOut]:
    """The reconciliation runs, the last first (`shop reconcile` makes them)."""
    stmt = select(ReconciliationRun)
    if provider:
        stmt = stmt.where(ReconciliationRun.provider == provider)
    rows, last = await keyset_page(session, stmt, ReconciliationRun.id, after=decode_cursor(cursor), limit=limit)
    return Page[ReconciliationOut](items=[ReconciliationOut.model_validate(r) for r in rows],
                                   next_cursor=encode_cursor(last) if last else None)
