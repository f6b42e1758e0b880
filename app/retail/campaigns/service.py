"""Campaign use cases: create (merchant or platform), join with products and promotions, the public page."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import moderation
from app.catalog.collections import service as collections_service
from app.catalog.models import Product, Variant
from app.core import events
from app.core.clock import as_utc, utcnow
from app.core.errors import InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.db import dialect_of, insert_ignore
from app.merchants.models import Merchant
from app.retail.campaigns import rules
from app.retail.campaigns.models import Campaign, CampaignProduct, CampaignPromotion
from app.retail.campaigns.schemas import CampaignIn, CampaignJoin
from app.retail.models import Promotion

MAX_PRODUCTS = 500


def _summary(c: Campaign, now: Any) -> dict[str, Any]:
    return {"id": c.id, "merchant_id": c.merchant_id, "slug": c.slug, "title": c.title, "headline": c.headline,
            "starts_at": c.starts_at, "ends_at": c.ends_at, "created_at": c.created_at,
            "status": rules.status(starts_at=c.starts_at, ends_at=c.ends_at, now=now)}


async def _attach(session: AsyncSession, *, campaign: Campaign, merchant_id: str, product_ids: Sequence[str],
                  promotion_codes: Sequence[str], collection_ids: Sequence[str] = ()) -> None:
    """Add the merchant's own products (named, or the ones in its collections at this moment) and promotions (by
    code) to the campaign; unknown ones are field errors."""
    from_collections, collection_errors = await collections_service.product_ids_of(
        session, merchant_id=merchant_id, collection_ids=collection_ids, limit=MAX_PRODUCTS)
    named = list(dict.fromkeys(product_ids))
    codes = list(dict.fromkeys(c.strip().upper() for c in promotion_codes))
    owned = set((await session.scalars(select(Product.id).where(Product.id.in_(named),
                                                                 Product.merchant_id == merchant_id))).all()
                ) if named else set()
    promos = {p.code: p.id for p in (await session.execute(
        select(Promotion.code, Promotion.id).where(Promotion.code.in_(codes), Promotion.merchant_id == merchant_id)
    )).all()} if codes else {}
    errors = [{"field": f"product_ids.{i}", "message": "not one of your products"}
              for i, p in enumerate(named) if p not in owned]
    errors += [{"field": f"promotion_codes.{i}", "message": "not one of your promotions"}
               for i, c in enumerate(codes) if c not in promos]
    errors += collection_errors
    if errors:
        raise InvalidInput("some items cannot join the campaign", errors=errors)
    product_ids = list(dict.fromkeys(named + from_collections))
    count = await session.scalar(select(func.count()).select_from(CampaignProduct)
                                 .where(CampaignProduct.campaign_id == campaign.id)) or 0
    if count + len(product_ids) > MAX_PRODUCTS:
        raise field_error("product_ids", f"a campaign holds at most {MAX_PRODUCTS} products")
    dialect = dialect_of(session)
    now = utcnow()
    if product_ids:
        await session.execute(insert_ignore(dialect, CampaignProduct, ["campaign_id", "product_id"]), [
            {"id": new_id("cpp"), "campaign_id": campaign.id, "merchant_id": merchant_id, "product_id": p,
             "created_at": now} for p in product_ids])
    if codes:
        await session.execute(insert_ignore(dialect, CampaignPromotion, ["campaign_id", "promotion_id"]), [
            {"id": new_id("cpr"), "campaign_id": campaign.id, "merchant_id": merchant_id, "promotion_id": promos[c],
             "created_at": now} for c in codes])


async def create_campaign(*, session: AsyncSession, merchant_id: str | None, body: CampaignIn) -> dict[str, Any]:
    """A merchant's own campaign (with its products and promotions), or a platform one (merchant_id None)."""
    moderation.check_clauses({"title": body.title, "headline": body.headline})
    now = utcnow()
    errors = rules.period_errors(starts_at=body.starts_at, ends_at=body.ends_at, now=now)
    if errors:
        raise InvalidInput("the campaign period is not valid", errors=errors)
    if merchant_id is None and (body.product_ids or body.promotion_codes or body.collection_ids):
        raise field_error("product_ids", "merchants add their own products to a platform campaign")
    campaign = Campaign(id=new_id("cmp"), merchant_id=merchant_id, slug=body.slug, title=body.title,
                        headline=body.headline, starts_at=as_utc(body.starts_at), ends_at=as_utc(body.ends_at),
                        created_at=now)
    session.add(campaign)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise field_error("slug", f"the address {body.slug!r} is taken") from None
    if merchant_id is not None:
        await _attach(session, campaign=campaign, merchant_id=merchant_id, product_ids=body.product_ids,
                      promotion_codes=body.promotion_codes, collection_ids=body.collection_ids)
    await events.emit(session, kind="campaign.created", merchant_id=merchant_id,
                      payload={"id": campaign.id, "slug": campaign.slug})
    out = await _view(session, campaign, public=False)
    await session.commit()
    return out


async def _find(session: AsyncSession, ref: str) -> Campaign:
    campaign = await session.scalar(select(Campaign).where(or_(Campaign.id == ref, Campaign.slug == ref)))
    if campaign is None:
        raise NotFound("campaign", ref)
    return campaign


async def join_campaign(*, session: AsyncSession, merchant_id: str, campaign_ref: str,
                        body: CampaignJoin) -> dict[str, Any]:
    """Put the merchant's products and promotions into its own or a platform campaign that has not ended."""
    campaign = await _find(session, campaign_ref)
    if campaign.merchant_id not in (None, merchant_id):
        raise NotFound("campaign", campaign_ref)
    if rules.status(starts_at=campaign.starts_at, ends_at=campaign.ends_at, now=utcnow()) == "ended":
        raise InvalidInput("the campaign has ended", errors=[{"field": "campaign", "message": "ended"}])
    await _attach(session, campaign=campaign, merchant_id=merchant_id, product_ids=body.product_ids,
                  promotion_codes=body.promotion_codes, collection_ids=body.collection_ids)
    out = await _view(session, campaign, public=False)
    await session.commit()
    return out


async def _view(session: AsyncSession, campaign: Campaign, *, public: bool) -> dict[str, Any]:
    """The campaign with its products (cheapest variant price) and promotions; public: on-sale products only."""
    stmt = (select(Product.id, Product.merchant_id, Product.title, func.min(Variant.price), func.min(Variant.currency))
            .join(CampaignProduct, CampaignProduct.product_id == Product.id)
            .join(Variant, Variant.product_id == Product.id)
            .where(CampaignProduct.campaign_id == campaign.id)
            .group_by(Product.id, Product.merchant_id, Product.title).order_by(Product.id))
    if public:
        stmt = stmt.join(Merchant, Merchant.id == Product.merchant_id).where(Product.status == "active",
                                                                             Merchant.status == "active")
    products = [{"id": r[0], "merchant_id": r[1], "title": r[2], "price": int(r[3]), "currency": r[4]}
                for r in (await session.execute(stmt)).all()]
    promos = [{"merchant_id": r[0], "code": r[1], "kind": r[2], "value": r[3]} for r in (await session.execute(
        select(Promotion.merchant_id, Promotion.code, Promotion.kind, Promotion.value)
        .join(CampaignPromotion, CampaignPromotion.promotion_id == Promotion.id)
        .where(CampaignPromotion.campaign_id == campaign.id).order_by(Promotion.code))).all()]
    return {**_summary(campaign, utcnow()), "products": products, "promotions": promos}


async def get_campaign(*, session: AsyncSession, campaign_ref: str) -> dict[str, Any]:
    """The public landing page's data, by id or slug."""
    return await _view(session, await _find(session, campaign_ref), public=True)


async def list_campaigns(*, session: AsyncSession, merchant_id: str | None, include_ended: bool,
                         limit: int) -> list[dict[str, Any]]:
    """Campaigns by start (live and upcoming unless include_ended); a merchant's own plus the platform's."""
    stmt = select(Campaign)
    if merchant_id is not None:
        stmt = stmt.where(or_(Campaign.merchant_id == merchant_id, Campaign.merchant_id.is_(None)))
    now = utcnow()
    if not include_ended:
        stmt = stmt.where(Campaign.ends_at > now)
    found = (await session.scalars(stmt.order_by(Campaign.starts_at, Campaign.id).limit(limit))).all()
    return [_summary(c, now) for c in found]
