"""Trust and compliance use cases: reviews, reputation, complaints, takedowns, enforcement, audit, exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog import service as catalog_service
from app.catalog.models import Product
from app.config import Settings
from app.core import events
from app.core.auth import Principal
from app.core.clock import SHANGHAI, as_utc, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.core.pagination import keyset_page
from app.core.workdays import working_days_deadline
from app.db import dialect_of, insert_ignore
from app.merchants import service as merchants_service
from app.merchants import verification
from app.merchants.models import Merchant
from app.orders import service as orders_service
from app.orders.models import Order, OrderLine, ReturnRequest
from app.trust import credit, declarations, trading
from app.trust.models import (
    AuditEntry,
    Complaint,
    Enforcement,
    LicenceChange,
    MerchantReputation,
    Review,
    SellerProfile,
)
from app.trust.schemas import ComplaintIn, LicenceChangeIn, ReviewIn, SellerProfileIn

# ---- audit log -------------------------------------------------------------------------------------------


async def record_audit(session: AsyncSession, *, actor: str, action: str, target_type: str, target_id: str | None,
                       merchant_id: str | None = None, before: dict[str, Any] | None = None,
                       after: dict[str, Any] | None = None) -> None:
    """Append one audit entry inside the caller's transaction (never commits)."""
    await session.execute(insert(AuditEntry).values(
        actor=actor, action=action, target_type=target_type, target_id=target_id, merchant_id=merchant_id,
        before=before, after=after, created_at=utcnow()))


async def record_request(factory: async_sessionmaker[AsyncSession], *, actor: str, action: str, target_type: str,
                         target_id: str | None, merchant_id: str | None, after: dict[str, Any]) -> None:
    """Audit an admin or sensitive merchant request that succeeded (written by the middleware, after it)."""
    async with factory() as session:
        await record_audit(session, actor=actor, action=action, target_type=target_type, target_id=target_id,
                           merchant_id=merchant_id, after=after)
        await session.commit()


async def list_audit(*, session: AsyncSession, before: int | None, limit: int, actor: str | None,
                     merchant_id: str | None) -> Sequence[AuditEntry]:
    """Newest first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before is not None:
        stmt = stmt.where(AuditEntry.id < before)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if merchant_id:
        stmt = stmt.where(AuditEntry.merchant_id == merchant_id)
    return (await session.scalars(stmt)).all()


# ---- reputation ------------------------------------------------------------------------------------------


async def _bump(session: AsyncSession, merchant_id: str, **increments: int) -> None:
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


async def _order_facts(session: AsyncSession, merchant_id: str) -> dict[str, int]:
    """Completed, shipped (and how fast), delivered and returned orders of a merchant, in two aggregates."""
    if dialect_of(session) == "postgresql":
        on_time = Order.shipped_at <= Order.created_at + timedelta(hours=48)
    else:  # SQLite keeps datetimes as text
        on_time = func.julianday(Order.shipped_at) - func.julianday(Order.created_at) <= 2.0
    row = (await session.execute(select(
        func.count().filter(Order.status == "completed"),
        func.count(Order.shipped_at),
        func.count().filter(Order.shipped_at.is_not(None), on_time),
        func.count(Order.delivered_at),
    ).where(Order.merchant_id == merchant_id))).one()
    returned = await session.scalar(select(func.count(func.distinct(ReturnRequest.order_id)))
                                    .where(ReturnRequest.merchant_id == merchant_id)) or 0
    return {"completed_orders": int(row[0]), "shipped_orders": int(row[1]), "shipped_within_48h": int(row[2]),
            "delivered_orders": int(row[3]), "returned_orders": int(returned)}


async def credit_facts(session: AsyncSession, *, merchant_id: str) -> credit.CreditFacts:
    """The stored facts the credit formula reads (running counts plus the merchant's orders)."""
    rep = await session.get(MerchantReputation, merchant_id, populate_existing=True)
    orders = await _order_facts(session, merchant_id)
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
                              takedowns=takedowns, **await _order_facts(session, merchant_id))


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
        "business_licence": {"uscc": merchant.licence_no.upper(), "name": merchant.name} if reg == "registered"
        else None,
        "self_declaration": declarations.SELF_DECLARATIONS[declaration] if reg == "unregistered" else None,
        "rating": credit.average_rating(facts.rating_count, facts.rating_sum), "rating_count": facts.rating_count,
        "credit_score": credit.credit_score_v1(facts), "credit_formula": credit.FORMULA_VERSION,
        "completed_orders": facts.completed_orders,
        "reverification_due_at": verification.reverification_due(as_utc(merchant.verified_at),
                                                                  settings.shop_reverify_months)
        if merchant.verified_at else None,
        "platform": platform_info(settings),
    }


def platform_info(settings: Settings) -> dict[str, Any]:
    """The platform's own ICP number and rules links, for every storefront page (C6), and its trading models."""
    return {"icp_no": settings.shop_platform_icp_no, "licence_url": settings.shop_platform_licence_url,
            "rules_url": settings.shop_rules_url, "credit_rules_url": settings.shop_credit_rules_url,
            "trading_models": [{"code": m, "name_zh": trading.TRADING_MODELS[m][0],
                                "name_en": trading.TRADING_MODELS[m][1]}
                               for m in trading.enabled_models(settings.shop_trading_models)]}


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
    row = await _seller_row(session, merchant_id)
    before = {"trading_model": row.trading_model, "self_declaration": row.self_declaration}
    row.trading_model = profile_in.trading_model
    row.self_declaration = profile_in.self_declaration or (
        declarations.DEFAULT_DECLARATION if reg == "unregistered" else None)
    row.updated_at = utcnow()
    after = {"trading_model": row.trading_model, "self_declaration": row.self_declaration}
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


# ---- reviews ---------------------------------------------------------------------------------------------


def review_view(review: Review) -> dict[str, Any]:
    return {"id": review.id, "order_id": review.order_id, "merchant_id": review.merchant_id,
            "rating": review.rating, "masked": review.masked_at is not None,
            "text": declarations.MASKED_NOTICE if review.masked_at else review.text,
            "reply": review.reply, "replied_at": review.replied_at, "created_at": review.created_at}


async def add_review(*, session: AsyncSession, principal: Principal, order_id: str,
                     review_in: ReviewIn) -> dict[str, Any]:
    """The order's customer rates a delivered order, once; the merchant's rating and credit follow at once."""
    order = await orders_service.get_visible(session, principal=principal, order_id=order_id, lock=True)
    if principal.kind != "customer" or order.customer_id != principal.subject_id:
        raise NotFound("order", order_id)
    if order.status not in ("delivered", "completed"):
        raise Conflict(f"only a delivered order can be reviewed (this one is {order.status})")
    review = Review(id=new_id("rev"), order_id=order.id, merchant_id=order.merchant_id,
                    customer_id=principal.subject_id, rating=review_in.rating, text=review_in.text,
                    created_at=utcnow())
    session.add(review)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict("this order has already been reviewed") from None
    await _bump(session, order.merchant_id, rating_count=1, rating_sum=review_in.rating)
    await events.emit(session, kind="review.created", merchant_id=order.merchant_id,
                      payload={"review_id": review.id, "order_id": order.id, "rating": review.rating})
    await session.commit()
    return review_view(review)


async def get_review(*, session: AsyncSession, review_id: str) -> dict[str, Any]:
    review = await session.get(Review, review_id)
    if review is None:
        raise NotFound("review", review_id)
    return review_view(review)


async def list_reviews(*, session: AsyncSession, merchant_id: str, before: str | None,
                       limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """All of a merchant's reviews, newest first, bad ones included (C17)."""
    rows, last = await keyset_page(session, select(Review).where(Review.merchant_id == merchant_id), Review.id,
                                   after=before, limit=limit)
    return [review_view(r) for r in rows], last


async def reply_review(*, session: AsyncSession, merchant_id: str, review_id: str, reply: str) -> dict[str, Any]:
    """The merchant answers a review of theirs, once."""
    review = await session.get(Review, review_id, with_for_update=True)
    if review is None or review.merchant_id != merchant_id:
        raise NotFound("review", review_id)
    if review.reply is not None:
        raise Conflict("this review already has a reply")
    review.reply, review.replied_at = reply, utcnow()
    await record_audit(session, actor=f"merchant:{merchant_id}", action="review.reply", target_type="review",
                       target_id=review_id, merchant_id=merchant_id, after={"reply": reply})
    await session.commit()
    return review_view(review)


async def mask_review(*, session: AsyncSession, actor: str, review_id: str, reason: str) -> dict[str, Any]:
    """Hide unlawful content of a review from the public; the original text and the reason are kept."""
    review = await session.get(Review, review_id, with_for_update=True)
    if review is None:
        raise NotFound("review", review_id)
    if review.masked_at is not None:
        raise Conflict("this review is already masked")
    review.masked_at, review.mask_reason = utcnow(), reason
    await record_audit(session, actor=actor, action="review.mask", target_type="review", target_id=review_id,
                       merchant_id=review.merchant_id, before={"text": review.text}, after={"reason": reason})
    await session.commit()
    return review_view(review)


# ---- complaints ------------------------------------------------------------------------------------------


def complaint_view(c: Complaint, now: datetime) -> dict[str, Any]:
    return {"id": c.id, "target_type": c.target_type, "target_id": c.target_id, "merchant_id": c.merchant_id,
            "category": c.category, "reason": c.reason, "evidence": c.evidence.get("urls", []),
            "status": c.status, "resolution": c.resolution, "history": c.history.get("items", []),
            "sla_due_at": c.sla_due_at, "overdue": c.status == "open" and as_utc(c.sla_due_at) < now,
            "created_at": c.created_at, "resolved_at": c.resolved_at}


def _iso(value: datetime) -> str:
    return as_utc(value).isoformat().replace("+00:00", "Z")


async def _target_merchant(session: AsyncSession, target_type: str, target_id: str) -> str:
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
    merchant_id = await _target_merchant(session, complaint_in.target_type, complaint_in.target_id)
    now = utcnow()
    by = principal.scope if principal else "anonymous"
    complaint = Complaint(
        id=new_id("cpl"), target_type=complaint_in.target_type, target_id=complaint_in.target_id,
        merchant_id=merchant_id, category=complaint_in.category, reason=complaint_in.reason,
        evidence={"urls": [str(u) for u in complaint_in.evidence]}, complainant=by,
        contact_email=complaint_in.contact_email, status="open", resolution=None,
        history={"items": [{"status": "open", "at": _iso(now), "by": by, "note": None}]},
        sla_due_at=now + timedelta(days=settings.shop_complaint_sla_days), created_at=now)
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
                                   {"status": outcome, "at": _iso(now), "by": actor, "note": note}]}
    if outcome == "upheld":
        await _bump(session, complaint.merchant_id, upheld_complaints=1)
    await record_audit(session, actor=actor, action=f"complaint.{outcome}", target_type="complaint",
                       target_id=complaint_id, merchant_id=complaint.merchant_id, before={"status": "open"},
                       after={"status": outcome, "note": note})
    await events.emit(session, kind=f"complaint.{outcome}", merchant_id=complaint.merchant_id,
                      payload={"complaint_id": complaint_id})
    await session.commit()
    return complaint_view(complaint, now)


# ---- takedowns and enforcement ---------------------------------------------------------------------------


async def take_down(*, session: AsyncSession, actor: str, product_id: str, reason: str) -> dict[str, Any]:
    """Hide a listing at once (not listed, not found, not sellable, carts included) and publish the measure."""
    before = await catalog_service.set_status_by_platform(session=session, product_id=product_id,
                                                          status="taken_down",
                                                          expect=("draft", "active", "pending_review"))
    merchant = await merchants_service.get(session=session, merchant_id=before["merchant_id"])
    assert merchant is not None  # a product's merchant always exists (foreign key)
    now = utcnow()
    entry = Enforcement(id=new_id("enf"), merchant_id=merchant.id, shop_name=merchant.name, action="takedown",
                        target_type="product", target_id=product_id, target_title=before["title"], reason=reason,
                        decided_at=now, published_at=now, ends_at=None)
    session.add(entry)
    await _bump(session, merchant.id, takedowns=1)
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
                                                                              "ends_at": _iso(ends_at)})
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
                                                       "ends_at": _iso(ends_at) if ends_at else None})
    await session.commit()
    return merchant


async def list_enforcement(*, session: AsyncSession, before: str | None, limit: int
                           ) -> tuple[Sequence[Enforcement], str | None]:
    """Measures in force, newest first; warnings and suspensions drop off when they end."""
    return await keyset_page(
        session, select(Enforcement).where(or_(Enforcement.ends_at.is_(None), Enforcement.ends_at > utcnow())),
        Enforcement.id, after=before, limit=limit)


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
    sent = change_in.model_dump(exclude_unset=True, exclude={"note"})
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
    if errors:
        raise InvalidInput("; ".join(e["message"] for e in errors), errors=errors)
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
            await _bump(session, merchant_id)
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


# ---- regulator export ------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("order_id", "number", "created_at", "merchant_id", "channel", "status", "payment_method",
                  "payment_status", "currency", "subtotal", "discount", "shipping", "total", "refunded",
                  "paid_at", "shipped_at", "delivered_at", "completed_at", "cancelled_at", "customer_id", "buyer_id",
                  "promotion_code", "listing_revision_ids", "lines")
_EXPORT_SELECT = (Order.id, Order.number, Order.created_at, Order.merchant_id, Order.channel, Order.status,
                  Order.payment_method, Order.payment_status, Order.currency, Order.subtotal, Order.discount,
                  Order.shipping, Order.total, Order.refunded, Order.paid_at, Order.shipped_at, Order.delivered_at,
                  Order.completed_at, Order.cancelled_at, Order.customer_id, Order.buyer_id, Order.promotion_code)
EXPORT_BATCH = 2000
# Built once: a statement built per batch leaves reference cycles (SQLAlchemy's construction) holding the
# batch's 2,000 order ids. The workers collect old objects rarely (`app.main.GC_THRESHOLDS`), so a 200,000-row
# export grew the worker by 17 MiB until the next full collection.
_EXPORT_ORDERS = (select(*_EXPORT_SELECT)
                  .where(Order.created_at >= bindparam("start"), Order.created_at < bindparam("end"),
                         Order.id > bindparam("after"))
                  .order_by(Order.id).limit(bindparam("batch")))
_EXPORT_LINES = (select(OrderLine.order_id, OrderLine.sku, OrderLine.title, OrderLine.quantity, OrderLine.unit_price,
                        OrderLine.total, OrderLine.listing_revision_id)
                 .where(OrderLine.order_id.in_(bindparam("ids", expanding=True)))
                 .order_by(OrderLine.order_id, OrderLine.id))


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    return "" if value is None else value


async def _export_lines(session: AsyncSession, order_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Each order's lines as sold: SKU, title and price as the buyer saw them and the listing revision."""
    lines: dict[str, list[dict[str, Any]]] = {}
    for ln in (await session.execute(_EXPORT_LINES, {"ids": order_ids})).all():
        lines.setdefault(ln.order_id, []).append({
            "sku": ln.sku, "title": ln.title, "quantity": ln.quantity, "unit_price": ln.unit_price,
            "total": ln.total, "listing_revision_id": ln.listing_revision_id})
    return lines


def _export_row(row: Any, lines: list[dict[str, Any]]) -> list[Any]:
    """The order's cells, then its listing revisions (`;`-separated) and its lines as a JSON array."""
    revisions = ";".join(ln["listing_revision_id"] for ln in lines if ln["listing_revision_id"])
    return [*(_cell(v) for v in row), revisions, json.dumps(lines, ensure_ascii=False, separators=(",", ":"))]


async def start_export(*, session: AsyncSession, factory: async_sessionmaker[AsyncSession], actor: str,
                       start: datetime, end: datetime, batch: int | None = None) -> AsyncIterator[bytes]:
    """Record the export in the audit log, then stream the period's orders as CSV.

    Rows are read in keyset batches (by id), each in its own short transaction, so memory stays flat
    however many rows there are and no lock or snapshot is held between batches.
    """
    if end <= start:
        raise field_error("to", "must be after `from`")
    await record_audit(session, actor=actor, action="export.transactions", target_type="export", target_id=None,
                       after={"from": _iso(start), "to": _iso(end)})
    await session.commit()
    return _export_rows(factory, as_utc(start), as_utc(end), batch or EXPORT_BATCH)  # read now: tests set it


async def _export_rows(factory: async_sessionmaker[AsyncSession], start: datetime, end: datetime,
                       batch: int) -> AsyncIterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    yield ("\ufeff" + buf.getvalue()).encode()  # BOM: spreadsheet software then reads the Chinese right
    last = ""
    while True:
        async with factory() as session:
            rows = (await session.execute(_EXPORT_ORDERS, {"start": start, "end": end, "after": last,
                                                           "batch": batch})).all()
            lines = await _export_lines(session, [r.id for r in rows]) if rows else {}
            await session.commit()
        if not rows:
            return
        buf.seek(0)
        buf.truncate()
        writer.writerows(_export_row(row, lines.get(row.id, [])) for row in rows)
        yield buf.getvalue().encode()
        last = rows[-1].id
        if len(rows) < batch:
            return
