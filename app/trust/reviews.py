"""Reviews of delivered orders, the merchant's reply, and masking by the platform."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import events
from app.core.auth import Principal
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.core.pagination import keyset_page
from app.orders import access as orders_access
from app.trust import declarations
from app.trust.audit_log import record_audit
from app.trust.models import (
    Review,
)
from app.trust.reputation import bump
from app.trust.schemas import ReviewIn

# ---- reviews ---------------------------------------------------------------------------------------------


def review_view(review: Review) -> dict[str, Any]:
    return {"id": review.id, "order_id": review.order_id, "merchant_id": review.merchant_id,
            "rating": review.rating, "masked": review.masked_at is not None,
            "text": declarations.MASKED_NOTICE if review.masked_at else review.text,
            "reply": review.reply, "replied_at": review.replied_at, "created_at": review.created_at}


async def add_review(*, session: AsyncSession, principal: Principal, order_id: str,
                     review_in: ReviewIn) -> dict[str, Any]:
    """The order's customer rates a delivered order, once; the merchant's rating and credit follow at once."""
    order = await orders_access.get_visible(session, principal=principal, order_id=order_id, lock=True)
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
    await bump(session, order.merchant_id, rating_count=1, rating_sum=review_in.rating)
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


async def reviews_by(*, session: AsyncSession, customer_id: str) -> list[dict[str, Any]]:
    """Every review a customer wrote, oldest first, with the text as written (for their own data copy)."""
    rows = (await session.scalars(select(Review).where(Review.customer_id == customer_id)
                                  .order_by(Review.id))).all()
    return [review_view(r) | {"written_text": r.text} for r in rows]
