"""Reconciliation: a provider's daily statement against our payments (`shop reconcile`).

Lists the payments missing on either side and those whose amounts differ, and keeps each run
(`reconciliation_run`). A day is an Asia/Shanghai calendar day, as the providers' statements are; ours counts a
payment on the day its orders were marked paid.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.clock import SHANGHAI, utcnow
from app.core.ids import new_id
from app.orders.models import Order, Payment
from app.payments import registry
from app.payments.accounts import credential, unseal
from app.payments.base import Settling
from app.payments.models import PaymentAccount, ReconciliationRun


class NotReconcilable(ValueError):
    """The provider is not configured here, or keeps no statements we can read."""


async def _ours(session: AsyncSession, provider: str, day: date) -> dict[str, int]:
    # In UTC, as timestamps are stored: SQLite compares them as text, so a +08:00 bound would be off by 8 hours.
    start = datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)
    paid_at = func.min(Order.paid_at)
    rows = await session.execute(
        select(Payment.provider_ref, Payment.amount).join(Order, Order.payment_id == Payment.id)
        .where(Payment.provider == provider, Payment.status == "succeeded", Payment.provider_ref.is_not(None))
        .group_by(Payment.id, Payment.provider_ref, Payment.amount)
        .having(paid_at >= start, paid_at < start + timedelta(days=1)))
    return {str(ref): int(amount) for ref, amount in rows.all()}


async def _accounts(session: AsyncSession, settings: Settings, provider: str) -> list[str]:
    """Every account a statement may come from: the merchants' current ones and those payments were made on."""
    current = [credential(settings, a).value for a in (await session.scalars(
        select(PaymentAccount).where(PaymentAccount.provider == provider))).all()]
    used = (await session.scalars(select(Payment.account).where(Payment.provider == provider,
                                                                Payment.account.is_not(None)).distinct())).all()
    return sorted({*current, *(unseal(settings, a) or "" for a in used if a)} - {""})


async def reconcile(factory: async_sessionmaker[AsyncSession], settings: Settings, *, provider: str,
                    day: date) -> ReconciliationRun:
    """Compare `provider`'s statement of `day` with our payments; the run is stored and returned."""
    found = registry.PROVIDERS[provider].gateway(settings) if provider in registry.PROVIDERS else None
    if not isinstance(found, Settling):
        raise NotReconcilable(f"{provider} is not configured here or has no statements")
    async with factory() as session:
        ours = await _ours(session, provider, day)
        accounts = await _accounts(session, settings, provider)
        await session.commit()
        statement = await found.statement(day=day, accounts=accounts)  # no transaction open meanwhile
        theirs: dict[str, int] = {}
        for line in statement:
            theirs[line.provider_ref] = theirs.get(line.provider_ref, 0) + line.amount
        findings: list[dict[str, Any]] = []
        for ref in sorted(theirs.keys() - ours.keys()):
            status = await session.scalar(select(Payment.status).where(Payment.provider == provider,
                                                                       Payment.provider_ref == ref))
            findings.append({"kind": "missing_here", "out_trade_no": ref, "ours": None, "theirs": theirs[ref],
                             "our_status": status})
        for ref in sorted(ours.keys() - theirs.keys()):
            findings.append({"kind": "missing_there", "out_trade_no": ref, "ours": ours[ref], "theirs": None})
        for ref in sorted(ours.keys() & theirs.keys()):
            if ours[ref] != theirs[ref]:
                findings.append({"kind": "amount_mismatch", "out_trade_no": ref, "ours": ours[ref],
                                 "theirs": theirs[ref]})
        run = ReconciliationRun(id=new_id("rec"), provider=provider, day=day, statement_lines=len(statement),
                                matched=len(ours.keys() & theirs.keys()) - sum(
                                    1 for f in findings if f["kind"] == "amount_mismatch"),
                                findings=findings, created_at=utcnow())
        session.add(run)
        await session.commit()
        return run


async def last_runs(session: AsyncSession, *, provider: str | None, limit: int) -> list[ReconciliationRun]:
    query = select(ReconciliationRun).order_by(ReconciliationRun.created_at.desc(), ReconciliationRun.id.desc())
    if provider:
        query = query.where(ReconciliationRun.provider == provider)
    return list((await session.scalars(query.limit(limit))).all())
