"""Sellers' compliance: the seller profile (C2, C3), individual sellers' yearly turnover, and
re-verification of merchants whose checks are overdue."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog import moderation
from app.config import Settings
from app.core import events
from app.core.clock import SHANGHAI, utcnow
from app.core.errors import NotFound, field_error
from app.db import dialect_of, insert_ignore
from app.merchants import service as merchants_service
from app.merchants import verification
from app.merchants.models import Merchant
from app.orders.models import Order
from app.trust import declarations, trading
from app.trust.audit_log import record_audit
from app.trust.models import (
    MerchantReputation,
    SellerProfile,
)
from app.trust.reputation import bump
from app.trust.schemas import SellerProfileIn

# ---- seller compliance profile ---------------------------------------------------------------------------


async def _seller_row(session: AsyncSession, merchant_id: str) -> SellerProfile:
    stmt = insert_ignore(dialect_of(session), SellerProfile.__table__, ["merchant_id"])
    await session.execute(stmt.values(merchant_id=merchant_id, updated_at=utcnow()))
    row = await session.get(SellerProfile, merchant_id, with_for_update=True, populate_existing=True)
    assert row is not None
    return row


async def get_seller_profile(*, session: AsyncSession, merchant_id: str) -> SellerProfile | None:
    return await session.get(SellerProfile, merchant_id)


async def set_seller_profile(*, session: AsyncSession, settings: Settings, merchant_id: str,
                             profile_in: SellerProfileIn) -> dict[str, Any]:
    """A seller states its trading model (and, unregistered, its self-declaration ground)."""
    merchant = await merchants_service.get(session=session, merchant_id=merchant_id)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    reg = verification.registration_type(merchant.kind, merchant.licence_no)
    refusal = trading.model_refusal(model=profile_in.trading_model,
                                    enabled=trading.enabled_models(settings.shop_trading_models),
                                    kind=merchant.kind, registration=reg)
    if refusal:
        raise field_error("trading_model", refusal)
    if profile_in.self_declaration is not None and reg != "unregistered":
        raise field_error("self_declaration", "only unregistered individuals show a self-declaration")
    moderation.check_clauses({"shop_description": profile_in.shop_description})
    row = await _seller_row(session, merchant_id)
    before = {"trading_model": row.trading_model, "self_declaration": row.self_declaration,
              "shop_description": row.shop_description}
    row.trading_model = profile_in.trading_model
    row.self_declaration = profile_in.self_declaration or (
        declarations.DEFAULT_DECLARATION if reg == "unregistered" else None)
    row.shop_description = profile_in.shop_description
    row.updated_at = utcnow()
    after = {"trading_model": row.trading_model, "self_declaration": row.self_declaration,
             "shop_description": row.shop_description}
    await record_audit(session, actor=f"merchant:{merchant_id}", action="seller.profile", target_type="merchant",
                       target_id=merchant_id, merchant_id=merchant_id, before=before, after=after)
    await session.commit()
    return {"merchant_id": merchant_id, **after}


def _shanghai_year_bounds(now: datetime) -> tuple[int, datetime, datetime]:
    year = now.astimezone(SHANGHAI).year
    return (year, datetime(year, 1, 1, tzinfo=SHANGHAI).astimezone(UTC),
            datetime(year + 1, 1, 1, tzinfo=SHANGHAI).astimezone(UTC))


async def _individual_sales(session: AsyncSession, start: datetime, end: datetime) -> dict[str, int]:
    """Completed sales this year per unregistered person (by ID number), across all of their shops."""
    rows = (await session.execute(
        select(Merchant.licence_no, func.sum(Order.total - Order.refunded))
        .join(Order, Order.merchant_id == Merchant.id)
        .where(Merchant.kind == "individual", Order.status == "completed", Order.completed_at >= start,
               Order.completed_at < end)
        .group_by(Merchant.licence_no))).all()
    return {licence: int(total or 0) for licence, total in rows
            if verification.registration_type("individual", licence) == "unregistered"}


async def flag_individual_turnover(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Job (C3): flag every shop of a person whose completed sales this (Shanghai) year pass ¥100,000, once a
    year, with a reminder event; the flag feeds the half-yearly report to the regulator."""
    async with factory() as session:
        now = utcnow()
        year, start, end = _shanghai_year_bounds(now)
        sales = await _individual_sales(session, start, end)
        over = [licence for licence, total in sales.items() if trading.over_limit(total)]
        shops = (await session.execute(select(Merchant.licence_no, Merchant.id).where(
            Merchant.kind == "individual", Merchant.licence_no.in_(over)).order_by(Merchant.id))).all() if over else []
        newly: list[str] = []
        reminders: dict[str, list[str]] = {}
        for licence, merchant_id in shops:
            row = await _seller_row(session, merchant_id)
            if row.over_threshold_year != year:
                row.over_threshold_year, row.over_threshold_at = year, now
                newly.append(merchant_id)
                reminders.setdefault(licence, []).append(merchant_id)
        # One reminder per person, naming all of their shops.
        await events.emit_many(session, [("seller.over_threshold", ids[0], {"merchant_ids": ids, "year": year,
                                                                             "yearly_sales": sales[licence]})
                                         for licence, ids in reminders.items()])
        await session.commit()
    return len(newly)


async def over_threshold_sellers(*, session: AsyncSession) -> list[dict[str, Any]]:
    """Shops flagged this year for passing the ¥100,000 limit, with the person's yearly sales."""
    year, start, end = _shanghai_year_bounds(utcnow())
    sales = await _individual_sales(session, start, end)
    rows = (await session.execute(
        select(Merchant.id, Merchant.name, Merchant.licence_no, SellerProfile.over_threshold_at)
        .join(SellerProfile, SellerProfile.merchant_id == Merchant.id)
        .where(SellerProfile.over_threshold_year == year).order_by(Merchant.id))).all()
    return [{"merchant_id": r.id, "name": r.name, "year": year, "flagged_at": r.over_threshold_at,
             "person_yearly_sales": sales.get(r.licence_no, 0)} for r in rows]



# ---- re-verification -------------------------------------------------------------------------------------


async def flag_overdue_reverification(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Job: flag active merchants whose re-verification is due (C2) and tell them and the platform."""
    async with factory() as session:
        now = utcnow()
        cutoff = verification.add_months(now, -min(settings.shop_reverify_months, verification.MAX_REVERIFY_MONTHS))
        flagged = set((await session.scalars(select(MerchantReputation.merchant_id).where(
            MerchantReputation.reverify_flagged_at.is_not(None)))).all())
        due = [m for m in (await session.scalars(select(Merchant.id).where(
            Merchant.status == "active", Merchant.verified_at <= cutoff))).all() if m not in flagged]
        for merchant_id in due:
            await bump(session, merchant_id)
        if due:
            await session.execute(update(MerchantReputation).where(MerchantReputation.merchant_id.in_(due))
                                  .values(reverify_flagged_at=now))
            await events.emit_many(session, [("merchant.reverification_due", m, {"id": m}) for m in due])
        # Re-verified since they were flagged: clear the flag.
        await session.execute(update(MerchantReputation).where(
            MerchantReputation.reverify_flagged_at.is_not(None),
            MerchantReputation.merchant_id.in_(select(Merchant.id).where(Merchant.verified_at > cutoff)))
            .values(reverify_flagged_at=None))
        await session.commit()
    return len(due)


async def reverification_flags(*, session: AsyncSession) -> list[dict[str, Any]]:
    """Merchants flagged as overdue for re-verification, for the admin."""
    rows = (await session.execute(select(Merchant.id, Merchant.name, Merchant.verified_at,
                                         MerchantReputation.reverify_flagged_at)
                                  .join(MerchantReputation, MerchantReputation.merchant_id == Merchant.id)
                                  .where(MerchantReputation.reverify_flagged_at.is_not(None))
                                  .order_by(Merchant.id))).all()
    return [{"merchant_id": r.id, "name": r.name, "verified_at": r.verified_at,
             "flagged_at": r.reverify_flagged_at} for r in rows]
