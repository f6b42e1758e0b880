"""A merchant's reputation: the facts its credit score is computed from, and its public profile."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.auth import Principal
from app.core.clock import as_utc, utcnow
from app.core.errors import NotFound
from app.db import dialect_of, insert_ignore
from app.merchants import service as merchants_service
from app.merchants import verification
from app.merchants.models import Merchant
from app.orders.models import Order, ReturnRequest
from app.trust import credit, declarations, trading
from app.trust.models import (
    Complaint,
    Enforcement,
    MerchantReputation,
    Review,
    SellerProfile,
)

# ---- reputation ------------------------------------------------------------------------------------------


async def bump(session: AsyncSession, merchant_id: str, **increments: int) -> None:
    """Add to a merchant's running counts (one conditional UPDATE; the row is made on first use)."""
    stmt = insert_ignore(dialect_of(session), MerchantReputation.__table__, ["merchant_id"])
    await session.execute(stmt.values(merchant_id=merchant_id, rating_count=0, rating_sum=0, upheld_complaints=0,
                                      takedowns=0, credit_score=credit.BASE, formula_version=credit.FORMULA_VERSION,
                                      updated_at=utcnow()))
    cols = MerchantReputation.__table__.c
    await session.execute(update(MerchantReputation).where(MerchantReputation.merchant_id == merchant_id).values(
        {cols[name]: cols[name] + amount for name, amount in increments.items()} | {"updated_at": utcnow()}))
    facts = await credit_facts(session, merchant_id=merchant_id)
    await session.execute(update(MerchantReputation).where(MerchantReputation.merchant_id == merchant_id).values(
        credit_score=credit.credit_score_v1(facts), formula_version=credit.FORMULA_VERSION))


async def order_facts(session: AsyncSession, merchant_id: str) -> dict[str, int]:
    """Completed, shipped (and how fast), delivered and returned orders of a merchant, and paid orders it cancelled
    alone, in two aggregates."""
    if dialect_of(session) == "postgresql":
        within_48h = Order.shipped_at <= Order.created_at + timedelta(hours=48)
    else:  # SQLite keeps datetimes as text
        within_48h = func.julianday(Order.shipped_at) - func.julianday(Order.created_at) <= 2.0
    # By the merchant's promise (C28) where the order has one; orders from before promises: within 48 h.
    on_time = or_(and_(Order.promised_ship_by.is_not(None), Order.shipped_at <= Order.promised_ship_by),
                  and_(Order.promised_ship_by.is_(None), within_48h))
    row = (await session.execute(select(
        func.count().filter(Order.status == "completed"),
        func.count(Order.shipped_at),
        func.count().filter(Order.shipped_at.is_not(None), on_time),
        func.count(Order.delivered_at),
        func.count().filter(Order.shipped_at.is_(None), Order.status.in_(("paid", "confirmed")),
                            Order.promised_ship_by < utcnow()),
        func.count(Order.seller_cancel_code),
    ).where(Order.merchant_id == merchant_id))).one()
    returned = await session.scalar(select(func.count(func.distinct(ReturnRequest.order_id)))
                                    .where(ReturnRequest.merchant_id == merchant_id)) or 0
    return {"completed_orders": int(row[0]), "shipped_orders": int(row[1]), "shipped_within_48h": int(row[2]),
            "overdue_unshipped": int(row[4]),
            "delivered_orders": int(row[3]), "returned_orders": int(returned),
            "seller_cancellations": int(row[5])}


async def credit_facts(session: AsyncSession, *, merchant_id: str) -> credit.CreditFacts:
    """The stored facts the credit formula reads (running counts plus the merchant's orders)."""
    rep = await session.get(MerchantReputation, merchant_id, populate_existing=True)
    orders = await order_facts(session, merchant_id)
    if rep is None:
        return credit.CreditFacts(**orders)
    return credit.CreditFacts(rating_count=rep.rating_count, rating_sum=rep.rating_sum,
                              upheld_complaints=rep.upheld_complaints, takedowns=rep.takedowns, **orders)


async def recompute_credit(session: AsyncSession, *, merchant_id: str) -> credit.CreditFacts:
    """Rebuild the facts from the reviews, complaints, enforcement and order rows themselves (never commits)."""
    ratings = (await session.execute(select(func.count(), func.coalesce(func.sum(Review.rating), 0))
                                     .where(Review.merchant_id == merchant_id))).one()
    upheld = await session.scalar(select(func.count()).select_from(Complaint).where(
        Complaint.merchant_id == merchant_id, Complaint.status == "upheld")) or 0
    takedowns = await session.scalar(select(func.count()).select_from(Enforcement).where(
        Enforcement.merchant_id == merchant_id, Enforcement.action == "takedown")) or 0
    return credit.CreditFacts(rating_count=int(ratings[0]), rating_sum=int(ratings[1]), upheld_complaints=upheld,
                              takedowns=takedowns, **await order_facts(session, merchant_id))


def credit_score_of(merchant_id: SQLColumnExpression[str]) -> ColumnElement[int]:
    """The stored credit score of the merchant in `merchant_id` as SQL (the formula's base before any fact), for
    sorting search results by seller credit (C12)."""
    stored = (select(MerchantReputation.credit_score).where(MerchantReputation.merchant_id == merchant_id)
              .scalar_subquery())
    return func.coalesce(stored, credit.BASE)


async def refresh_credit_scores(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Job: store every active merchant's credit score afresh. Reviews, complaints and takedowns store it at once
    (`bump`); orders move it too (completed, shipped late, returned), and a sort by credit should rank shops by
    the score their pages show. Returns how many scores changed."""
    async with factory() as session:
        merchant_ids = (await session.scalars(select(Merchant.id).where(Merchant.status == "active")
                                              .order_by(Merchant.id))).all()
        stored = {row.merchant_id: row.credit_score for row in (await session.execute(
            select(MerchantReputation.merchant_id, MerchantReputation.credit_score))).all()}
        await session.commit()
        changed = 0
        for merchant_id in merchant_ids:
            score = credit.credit_score_v1(await credit_facts(session, merchant_id=merchant_id))
            if stored.get(merchant_id, credit.BASE) != score:
                await bump(session, merchant_id)
                changed += 1
            await session.commit()  # one short transaction per shop: no write lock held across the whole run
    return changed


# ---- public profile --------------------------------------------------------------------------------------


async def profile(*, session: AsyncSession, settings: Settings, principal: Principal | None,
                  merchant_id: str) -> dict[str, Any]:
    """The public shop page data: identity (licence or self-declaration), rating, credit, platform links."""
    merchant = await merchants_service.get(session=session, merchant_id=merchant_id)
    own = principal is not None and (principal.kind == "admin" or principal.merchant_id == merchant_id)
    if merchant is None or (merchant.status != "active" and not own):
        raise NotFound("merchant", merchant_id)
    facts = await credit_facts(session, merchant_id=merchant_id)
    seller = await session.get(SellerProfile, merchant_id)
    reg = verification.registration_type(merchant.kind, merchant.licence_no)
    declaration = (seller.self_declaration if seller else None) or declarations.DEFAULT_DECLARATION
    return {
        "id": merchant.id, "name": merchant.name, "kind": merchant.kind, "status": merchant.status,
        "icp_no": merchant.icp_no, "verified_at": merchant.verified_at, "created_at": merchant.created_at,
        "registration_type": reg, "badge": declarations.UNREGISTERED_BADGE if reg == "unregistered" else None,
        "trading_model": seller.trading_model if seller else None,
        "shop_description": seller.shop_description if seller else None,
        "business_licence": {"uscc": merchant.licence_no.upper(), "name": merchant.name} if reg == "registered"
        else None,
        "self_declaration": declarations.SELF_DECLARATIONS[declaration] if reg == "unregistered" else None,
        "rating": credit.average_rating(facts.rating_count, facts.rating_sum), "rating_count": facts.rating_count,
        "credit_score": credit.credit_score_v1(facts), "credit_formula": credit.FORMULA_VERSION,
        "completed_orders": facts.completed_orders, "late_shipments": facts.late_shipments,
        "reverification_due_at": verification.reverification_due(as_utc(merchant.verified_at),
                                                                  settings.shop_reverify_months)
        if merchant.verified_at else None,
        "self_operated": merchant.self_operated, "closes_at": merchant.closes_at, "closure_note": merchant.closure_note,
        "platform": platform_info(settings),
    }


def platform_info(settings: Settings) -> dict[str, Any]:
    """The platform's own ICP number and rules links, for every storefront page (C6), and its trading models."""
    return {"icp_no": settings.shop_platform_icp_no, "licence_url": settings.shop_platform_licence_url,
            "rules_url": settings.shop_rules_url, "credit_rules_url": settings.shop_credit_rules_url,
            "trading_models": [{"code": m, "name_zh": trading.TRADING_MODELS[m][0],
                                "name_en": trading.TRADING_MODELS[m][1]}
                               for m in trading.enabled_models(settings.shop_trading_models)]}
