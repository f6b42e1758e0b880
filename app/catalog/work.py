"""Catalogue work on existing listings: duplicate one, change many at once. Each use case commits once."""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import moderation, pricing, service
from app.catalog.media.models import ProductMedia, VariantMedia
from app.catalog.models import PriceTier, Product, Variant
from app.catalog.schemas import SKU_PATTERN, BulkEdit, DuplicateIn, ProductCreate
from app.catalog.search import service as search_service
from app.core import cache, events
from app.core.clock import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.ids import new_id

TAKEN_DOWN = "this listing was taken down by the platform (see GET /v1/enforcement)"
_SKU = re.compile(SKU_PATTERN)


async def duplicate_product(*, session: AsyncSession, merchant_id: str, product_id: str, body: DuplicateIn,
                            policy: moderation.ListingPolicy = service.DEFAULT_POLICY) -> dict[str, Any]:
    """A draft copy of one of the merchant's products: texts, options, variants (SKU + `sku_suffix`, no barcode:
    a barcode names one article), wholesale tiers and pictures. Checked as a new listing would be."""
    product = await session.get(Product, product_id)
    if product is None or product.merchant_id != merchant_id:
        raise NotFound("product", product_id)
    if product.status == "taken_down":
        raise Conflict(TAKEN_DOWN)
    variants = (await session.scalars(select(Variant).where(Variant.product_id == product_id)
                                      .order_by(Variant.id))).all()
    new_skus = [v.sku + body.sku_suffix for v in variants]
    bad = [s for s in new_skus if not _SKU.match(s)]
    if bad:
        raise field_error("sku_suffix", f"makes SKUs that are too long or hold other characters: {', '.join(bad[:5])}")
    taken = set((await session.scalars(select(Variant.sku).where(Variant.merchant_id == merchant_id,
                                                                  Variant.sku.in_(new_skus)))).all())
    if taken:
        raise field_error("sku_suffix", f"these SKUs are already in use: {', '.join(sorted(taken)[:10])}")
    tiers: dict[str, list[dict[str, int]]] = defaultdict(list)
    for t in (await session.execute(select(PriceTier.variant_id, PriceTier.min_qty, PriceTier.unit_price)
                                    .where(PriceTier.variant_id.in_([v.id for v in variants]))
                                    .order_by(PriceTier.min_qty))).all():
        tiers[t.variant_id].append({"min_qty": t.min_qty, "unit_price": t.unit_price})
    product_in = ProductCreate.model_validate({
        "title": body.title or product.title, "category": product.category, "description": product.description,
        "status": "draft", "options": product.options or None,
        "return_class": product.return_class, "return_reason": product.return_reason,
        "variants": [{"sku": sku, "price": v.price, "currency": v.currency, "attributes": v.attributes or {},
                      "weight": v.weight,
                      "wholesale": ({"moq": v.moq, "pack_size": v.pack_size, "tiers": tiers[v.id]}
                                    if v.wholesale else None)}
                     for v, sku in zip(variants, new_skus, strict=True)]})
    copy_id, variant_ids = await service.insert_product(session=session, merchant_id=merchant_id,
                                                        product_in=product_in, policy=policy)
    await _copy_pictures(session, merchant_id, product_id, copy_id,
                         {v.id: variant_ids[sku] for v, sku in zip(variants, new_skus, strict=True)})
    await events.emit(session, kind="product.duplicated", merchant_id=merchant_id,
                      payload={"id": copy_id, "from": product_id})
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("a variant SKU was taken by a concurrent request") from None
    return (await service.products_by_ids(session, [copy_id]))[0]


async def _copy_pictures(session: AsyncSession, merchant_id: str, from_id: str, to_id: str,
                         variant_map: dict[str, str]) -> None:
    """The copy shows the same stored pictures (assets are shared, nothing is processed again)."""
    pictures = (await session.execute(select(ProductMedia.id, ProductMedia.asset_id, ProductMedia.alt,
                                             ProductMedia.position)
                                      .where(ProductMedia.product_id == from_id))).all()
    if not pictures:
        return
    now = utcnow()
    media_map = {p.id: new_id("med") for p in pictures}
    await session.execute(insert(ProductMedia), [
        {"id": media_map[p.id], "merchant_id": merchant_id, "product_id": to_id, "asset_id": p.asset_id,
         "alt": p.alt, "position": p.position, "created_at": now} for p in pictures])
    links = (await session.execute(select(VariantMedia.variant_id, VariantMedia.media_id)
                                   .where(VariantMedia.media_id.in_(list(media_map))))).all()
    rows = [{"variant_id": variant_map[link.variant_id], "media_id": media_map[link.media_id],
             "merchant_id": merchant_id} for link in links if link.variant_id in variant_map]
    if rows:
        await session.execute(insert(VariantMedia), rows)


async def bulk_edit(*, session: AsyncSession, merchant_id: str, body: BulkEdit,
                    policy: moderation.ListingPolicy = service.DEFAULT_POLICY) -> dict[str, Any]:
    """Status, category and/or prices (by a percentage, to the fen) of many products in one transaction.

    Any id that is not the merchant's, a listing the platform took down, or a price pushed past the money
    limit refuses the whole request, naming each field; nothing changes then. Listings put on sale go through
    moderation as one edited alone would (a prohibited word holds it `pending_review`).
    """
    ids = body.product_ids
    rows = {r.id: r for r in (await session.execute(
        select(Product.id, Product.status, Product.title, Product.description)
        .where(Product.merchant_id == merchant_id, Product.id.in_(ids))
        .order_by(Product.id).with_for_update())).all()}
    errors = [{"field": f"product_ids.{i}", "message": "not one of your products"}
              for i, pid in enumerate(ids) if pid not in rows]
    errors += [{"field": f"product_ids.{i}", "message": "taken down by the platform: it cannot be edited"}
               for i, pid in enumerate(ids) if pid in rows and rows[pid].status == "taken_down"]
    if errors:
        raise InvalidInput("some products cannot be edited", errors=errors)
    prices: list[dict[str, Any]] = []
    if body.price_percent is not None:
        bp = pricing.basis_points(body.price_percent)
        variants = (await session.execute(select(Variant.id, Variant.sku, Variant.price)
                                          .where(Variant.product_id.in_(ids)).order_by(Variant.id))).all()
        prices = [{"id": v.id, "price": pricing.scaled(v.price, bp)} for v in variants]
        over = [v.sku for v, p in zip(variants, prices, strict=True) if pricing.too_large(p["price"])]
        if over:
            raise field_error("price_percent", f"takes these prices past the limit: {', '.join(over[:10])}")
    if body.status == "active":
        await service.ensure_may_list(session, merchant_id)
    now = utcnow()
    changes: list[dict[str, Any]] = []
    held: dict[str, list[str]] = {}
    for pid in ids:
        change: dict[str, Any] = {"id": pid, "updated_at": now}
        if body.category is not None:
            change["category"] = body.category
        if body.status is not None:
            change["status"] = body.status
            terms = (moderation.held_for({"title": rows[pid].title, "description": rows[pid].description}, policy)
                     if body.status != "archived" else [])
            if terms:
                change["status"] = "pending_review"
                held[pid] = terms
        changes.append(change)
    await session.execute(update(Product), changes)
    if prices:
        await session.execute(update(Variant), prices)
    await service.revise(session, ids)
    await search_service.reindex(session, ids)  # category names and lowest prices are in the index
    fields = sorted(body.model_dump(exclude_none=True, exclude={"product_ids"}))
    for pid in ids:
        await events.emit(session, kind="product.updated", merchant_id=merchant_id,
                          payload={"id": pid, "fields": fields, "bulk": True})
        if pid in held:
            await events.emit(session, kind="product.held", merchant_id=merchant_id,
                              payload={"id": pid, "terms": held[pid]})
    cache.mark_changed(session)
    await session.commit()
    return {"updated": len(ids), "items": await service.products_by_ids(session, ids)}
