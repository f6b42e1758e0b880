"""IP notice and takedown (C37, ECL arts. 42-45): a rights holder's notice takes the listing down and tells the
seller; the seller may answer with a counter-notice, which is forwarded to the rights holder; the listing
returns 15 days later unless the rights holder reports a complaint or suit. Every case is public."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog import service as catalog_service
from app.config import Settings
from app.core import events
from app.core.auth import Principal
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, Forbidden, NotFound
from app.core.ids import new_id
from app.core.pagination import keyset_page
from app.core.security import constant_time_equals, hash_token
from app.db import dialect_of
from app.merchants import service as merchants_service
from app.trust import ip_rules
from app.trust.audit_log import record_audit
from app.trust.models import IPCase
from app.trust.schemas import CounterNoticeIn, IPActionIn, IPNoticeIn

RESTORE_BATCH = 100


def case_view(case: IPCase, *, private: bool = False) -> dict[str, Any]:
    """The case as published; `private` adds the rights holder's contact (the seller's and the admin's view)."""
    return {
        "id": case.id, "status": case.status, "product_id": case.product_id, "product_title": case.product_title,
        "merchant_id": case.merchant_id, "shop_name": case.shop_name, "right_type": case.right_type,
        "right_reference": case.right_reference, "rights_holder": case.holder_name, "notice": case.notice,
        "evidence": case.evidence.get("urls", []), "counter_notice": case.counter_notice,
        "counter_evidence": (case.counter_evidence or {}).get("urls", []),
        "counter_forwarded_at": case.counter_forwarded_at, "restore_due_at": case.restore_due_at,
        "action_kind": case.action_kind, "action_reference": case.action_reference,
        "action_reported_at": case.action_reported_at, "outcome": case.outcome, "created_at": case.created_at,
        "closed_at": case.closed_at,
        "rights_holder_contact": {"email": case.holder_email, "phone": case.holder_phone} if private else None,
    }


def _sees_contact(case: IPCase, principal: Principal | None) -> bool:
    return principal is not None and (principal.kind == "admin" or principal.merchant_id == case.merchant_id)


async def _case(session: AsyncSession, case_id: str, *, lock: bool = False) -> IPCase:
    stmt = select(IPCase).where(IPCase.id == case_id)
    found = await session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise NotFound("ip_case", case_id)
    return found


async def file_notice(*, session: AsyncSession, notice_in: IPNoticeIn) -> dict[str, Any]:
    """Take the listing down at once (ECL art. 42), tell the seller (outbox event and its console) and open the
    public case. Returns the case with the rights holder's key, shown once."""
    before = await catalog_service.set_status_by_platform(session=session, product_id=notice_in.product_id,
                                                          status="taken_down", expect=("active",))
    merchant = await merchants_service.get(session=session, merchant_id=before["merchant_id"])
    assert merchant is not None  # a product's merchant always exists (foreign key)
    key = secrets.token_urlsafe(32)
    now = utcnow()
    holder = notice_in.rights_holder
    case = IPCase(id=new_id("ipc"), product_id=notice_in.product_id, merchant_id=merchant.id, shop_name=merchant.name,
                  product_title=before["title"], product_status_before=before["status"], status="taken_down",
                  right_type=notice_in.right_type, right_reference=notice_in.right_reference,
                  holder_name=holder.name, holder_email=holder.email, holder_phone=holder.phone,
                  token_hash=hash_token(key), notice=notice_in.notice,
                  evidence={"urls": [str(u) for u in notice_in.evidence]}, counter_evidence=None, created_at=now)
    session.add(case)
    await events.emit(session, kind="ip_case.opened", merchant_id=merchant.id,
                      payload={"case_id": case.id, "product_id": case.product_id, "right_type": case.right_type})
    await record_audit(session, actor=f"rights_holder:{case.id}", action="ip_case.notice", target_type="product",
                       target_id=case.product_id, merchant_id=merchant.id, before=before,
                       after={"status": "taken_down", "case_id": case.id})
    await session.commit()
    return {**case_view(case, private=True), "case_key": key}


async def get_case(*, session: AsyncSession, principal: Principal | None, case_id: str) -> dict[str, Any]:
    case = await _case(session, case_id)
    return case_view(case, private=_sees_contact(case, principal))


async def list_cases(*, session: AsyncSession, merchant_id: str | None, status: str | None, before: str | None,
                     limit: int) -> tuple[Sequence[IPCase], str | None]:
    """Every case and its outcome, newest first (ECL art. 44)."""
    stmt = select(IPCase)
    if merchant_id is not None:
        stmt = stmt.where(IPCase.merchant_id == merchant_id)
    if status is not None:
        stmt = stmt.where(IPCase.status == status)
    return await keyset_page(session, stmt, IPCase.id, after=before, limit=limit)


async def file_counter_notice(*, session: AsyncSession, merchant_id: str, actor: str, case_id: str,
                              counter_in: CounterNoticeIn) -> dict[str, Any]:
    """The seller's counter-notice (ECL art. 43). It is forwarded to the rights holder at once (published on the
    case, which the rights holder follows with its key), and the 15 days of art. 45 start now."""
    case = await _case(session, case_id, lock=True)
    if case.merchant_id != merchant_id:
        raise NotFound("ip_case", case_id)
    refusal = ip_rules.counter_refusal(case.status)
    if refusal:
        raise Conflict(refusal)
    now = utcnow()
    case.status, case.counter_notice = "countered", counter_in.statement
    case.counter_evidence = {"urls": [str(u) for u in counter_in.evidence]}
    case.counter_forwarded_at, case.restore_due_at = now, ip_rules.restore_due(now)
    await events.emit(session, kind="ip_case.countered", merchant_id=merchant_id,
                      payload={"case_id": case.id, "restore_due_at": case.restore_due_at.isoformat()})
    await record_audit(session, actor=actor, action="ip_case.counter_notice", target_type="ip_case",
                       target_id=case.id, merchant_id=merchant_id, after={"status": "countered"})
    await session.commit()
    return case_view(case, private=True)


async def report_action(*, session: AsyncSession, principal: Principal | None, case_id: str,
                        action_in: IPActionIn) -> dict[str, Any]:
    """The rights holder (with its case key) or the admin reports a complaint or suit: the listing stays down and
    the case closes as `upheld` once a counter-notice was answered this way."""
    case = await _case(session, case_id, lock=True)
    is_admin = principal is not None and principal.kind == "admin"
    if not is_admin and (action_in.case_key is None
                         or not constant_time_equals(hash_token(action_in.case_key), case.token_hash)):
        raise Forbidden("only the rights holder (with the case key) or the platform may report on the case")
    now = utcnow()
    refusal = ip_rules.report_refusal(case.status, now=now,
                                      restore_due_at=as_utc(case.restore_due_at) if case.restore_due_at else None)
    if refusal:
        raise Conflict(refusal)
    case.action_kind, case.action_reference = action_in.kind, action_in.reference
    case.action_evidence = {"urls": [str(u) for u in action_in.evidence]}
    case.action_reported_at = now
    case.status, case.closed_at = "upheld", now
    case.outcome = ("投诉已提交主管部门，商品保持下架 (a complaint was filed with an authority; the listing stays down)"
                    if action_in.kind == "complaint" else
                    "已向法院起诉，商品保持下架 (a suit was filed; the listing stays down)")
    await events.emit(session, kind="ip_case.upheld", merchant_id=case.merchant_id,
                      payload={"case_id": case.id, "action_kind": case.action_kind})
    await record_audit(session, actor=principal.scope if is_admin and principal else f"rights_holder:{case.id}",
                       action="ip_case.action_reported", target_type="ip_case", target_id=case.id,
                       merchant_id=case.merchant_id, after={"status": "upheld", "kind": action_in.kind,
                                                            "reference": action_in.reference})
    await session.commit()
    return case_view(case, private=_sees_contact(case, principal))


async def restore_due_listings(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Job: put back the listings whose 15 days after the counter-notice passed with no complaint or suit
    reported (ECL art. 45), closing their cases as `restored`. Safe in several processes (rows claimed with
    SKIP LOCKED on PostgreSQL; SQLite serialises writers)."""
    restored = 0
    while True:
        async with factory() as session:
            now = utcnow()
            stmt = (select(IPCase).where(IPCase.status == "countered", IPCase.restore_due_at <= now)
                    .order_by(IPCase.restore_due_at, IPCase.id).limit(RESTORE_BATCH))
            if dialect_of(session) == "postgresql":
                stmt = stmt.with_for_update(skip_locked=True)
            cases = (await session.scalars(stmt)).all()
            for case in cases:
                if not ip_rules.restore_is_due(case.status, now=now, restore_due_at=as_utc(case.restore_due_at)
                                               if case.restore_due_at else None):
                    continue
                await _restore(session, case)
            await session.commit()
        restored += len(cases)
        if len(cases) < RESTORE_BATCH:
            return restored


async def _restore(session: AsyncSession, case: IPCase) -> None:
    """Put the listing back as it was before the notice (unless something else took it down since)."""
    now = utcnow()
    try:
        await catalog_service.set_status_by_platform(session=session, product_id=case.product_id,
                                                     status=case.product_status_before, expect=("taken_down",))
        case.outcome = ("反通知转送 15 日内未收到投诉或起诉通知，商品已恢复 (no complaint or suit was reported within "
                        "15 days of the counter-notice: the listing is back)")
    except Conflict:
        case.outcome = ("反通知转送 15 日内未收到投诉或起诉通知，本案措施终止；商品因其他原因仍不在售 (no complaint or "
                        "suit within 15 days: this case's measure ended; the listing is off sale for another reason)")
    case.status, case.closed_at = "restored", now
    await events.emit(session, kind="ip_case.restored", merchant_id=case.merchant_id,
                      payload={"case_id": case.id, "product_id": case.product_id})
    await record_audit(session, actor="system", action="ip_case.restored", target_type="product",
                       target_id=case.product_id, merchant_id=case.merchant_id,
                       after={"status": case.product_status_before, "case_id": case.id})
