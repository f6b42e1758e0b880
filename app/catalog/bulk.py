"""Products from a CSV import, set-based: the checks that need the database, then one write of everything.

`check` names the rows the database refuses (an unknown product id, a SKU another product has); `apply`
creates and updates the products of the good rows in a few statements per batch, whatever their number,
with the same rules as one product at a time (moderation holds, listing revisions, options, pictures,
outbox events). Neither commits: the import job owns the transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import moderation, options, service
from app.catalog.media import service as media_service
from app.catalog.models import Product, Variant
from app.catalog.schemas import VariantIn
from app.catalog.search import service as search_service
from app.catalog.transfer import ProductRows, missing_product_fields
from app.core import cache, events
from app.core.clock import as_utc, utcnow
from app.core.csvfile import RowError
from app.core.errors import Forbidden
from app.core.ids import new_id
from app.db import in_batches
from app.merchants import verification
from app.merchants.models import Merchant


async def check(session: AsyncSession, *, merchant_id: str, products: Mapping[str, ProductRows]
                ) -> tuple[set[str], list[RowError]]:
    """The keys that are the merchant's existing products, and the errors of rows the database refuses."""
    keys = list(products)
    existing: dict[str, list[dict[str, Any]]] = {}
    taken_down: set[str] = set()
    for chunk in in_batches(keys):
        for pid, opts, status in (await session.execute(select(Product.id, Product.options, Product.status).where(
                Product.merchant_id == merchant_id, Product.id.in_(chunk)))).all():
            existing[pid] = opts or []
            if status == "taken_down":
                taken_down.add(pid)
    skus = [v.sku for g in products.values() for v in g.variants]
    owner: dict[str, str] = {}
    for chunk in in_batches(skus, 5_000):
        owner.update(dict((await session.execute(select(Variant.sku, Variant.product_id).where(
            Variant.merchant_id == merchant_id, Variant.sku.in_(chunk)))).all()))
    errors: list[RowError] = []
    for key, group in products.items():
        if key not in existing:
            if key.startswith("prd_"):
                errors += [RowError(line, "product", f"{key} is not one of your products") for line in group.lines]
                continue
            errors += missing_product_fields(group)
        if key in taken_down:
            errors += [RowError(line, "product", "taken down by the platform (see GET /v1/enforcement)")
                       for line in group.lines]
            continue
        names = {o["name"] for o in existing.get(key, [])}
        for v in group.variants:
            if v.sku in owner and owner[v.sku] != key:
                errors.append(RowError(v.line, "sku", f"{v.sku} belongs to product {owner[v.sku]}"))
            elif names and set(v.attributes) != names:
                errors.append(RowError(v.line, "option1_name", f"the product's options are {', '.join(sorted(names))}"))
    return set(existing), errors


async def apply(session: AsyncSession, *, merchant_id: str, products: Mapping[str, ProductRows],
                existing: set[str], pictures: Mapping[str, str],
                policy: moderation.ListingPolicy = service.DEFAULT_POLICY) -> int:
    """Create the new products and update the existing ones; `pictures` maps each image reference of the rows
    to a stored asset. Returns how many rows were applied."""
    now = utcnow()
    new = [g for k, g in products.items() if k not in existing and g.variants]
    if any(g.status == "active" for g in products.values()):
        await service.ensure_may_list(session, merchant_id)
    if new:
        verified_at = await session.scalar(select(Merchant.verified_at).where(Merchant.id == merchant_id))
        if verification.listings_blocked(verified_at=as_utc(verified_at) if verified_at else None, now=now,
                                         months=policy.reverify_months, grace_days=policy.reverify_grace_days):
            raise Forbidden("re-verification of your business information is overdue: no new listings until "
                            "the platform has verified it again")
    product_ids: dict[str, str] = {}
    product_rows: list[dict[str, Any]] = []
    variant_rows: list[dict[str, Any]] = []
    held: list[tuple[str, list[str]]] = []
    for g in new:
        pid = product_ids[g.key] = new_id("prd")
        title, description = g.title or "", g.description or ""
        terms = moderation.held_for({"title": title, "description": description}, policy)
        if terms:
            held.append((pid, terms))
        product_rows.append({
            "id": pid, "merchant_id": merchant_id, "title": title, "description": description,
            "category": g.category, "status": "pending_review" if terms else (g.status or "draft"),
            "return_class": "standard", "return_reason": None, "created_at": now, "updated_at": now,
            "options": g.options()})
        variant_rows += [service.variant_row(merchant_id, pid, _variant_in(v), now) for v in g.variants]
    for rows in in_batches(product_rows):
        await session.execute(insert(Product), rows)
    for rows in in_batches(variant_rows, 2_000):
        await session.execute(insert(Variant), rows)
    updated = [g for k, g in products.items() if k in existing and g.variants]
    for g in updated:
        product_ids[g.key] = g.key
    held += await _update_existing(session, merchant_id, updated, now, policy)
    await _attach_pictures(session, merchant_id, [*new, *updated], product_ids, pictures)
    ids = list(product_ids.values())
    for some in in_batches(ids):
        await service.revise(session, some)
    await search_service.reindex(session, [product_ids[g.key] for g in new], new=True)
    await search_service.reindex(session, [g.key for g in updated])
    await events.emit_many(session, [("product.created", merchant_id, {"id": product_ids[g.key]}) for g in new]
                           + [("product.updated", merchant_id, {"id": g.key, "fields": ["import"]}) for g in updated]
                           + [("product.held", merchant_id, {"id": pid, "terms": terms}) for pid, terms in held])
    cache.mark_changed(session)
    return sum(len(g.variants) for g in [*new, *updated])


def _variant_in(v: Any) -> VariantIn:
    return VariantIn.model_construct(sku=v.sku, price=v.price, currency="CNY", attributes=v.attributes,
                                     wholesale=None, barcode=v.barcode, weight=v.weight)


async def _update_existing(session: AsyncSession, merchant_id: str, groups: Sequence[ProductRows],
                           now: Any, policy: moderation.ListingPolicy) -> list[tuple[str, list[str]]]:
    """Update the merchant's products from their rows; returns the ones held for review (prohibited words)."""
    held: list[tuple[str, list[str]]] = []
    if not groups:
        return held
    keys = [g.key for g in groups]
    current = {v.sku: v.id for v in (await session.execute(
        select(Variant.sku, Variant.id).where(Variant.product_id.in_(keys)))).all()}
    changes: list[dict[str, Any]] = []
    added: list[dict[str, Any]] = []
    for g in groups:
        for v in g.variants:
            if v.sku in current:
                change: dict[str, Any] = {"id": current[v.sku], "price": v.price}
                if v.attributes:
                    change["attributes"] = v.attributes
                if v.barcode is not None:
                    change["barcode"] = v.barcode
                if v.weight is not None:
                    change["weight"] = v.weight
                changes.append(change)
            else:
                added.append(service.variant_row(merchant_id, g.key, _variant_in(v), now))
    for kind in {frozenset(c) for c in changes}:  # one executemany per set of columns
        await session.execute(update(Variant), [c for c in changes if frozenset(c) == kind])
    if added:
        await session.execute(insert(Variant), added)
    products = (await session.scalars(select(Product).where(Product.id.in_(keys)).with_for_update())).all()
    by_id = {g.key: g for g in groups}
    for product in products:
        g = by_id[product.id]
        for name in ("title", "category", "status", "description"):
            value = getattr(g, name)
            if value is not None and not (name == "status" and product.status == "pending_review"):
                setattr(product, name, value)  # a held listing stays held until the platform approves it
        if g.title is not None or g.description is not None:
            terms = moderation.held_for({"title": product.title, "description": product.description}, policy)
            if terms and product.status != "taken_down":
                product.status = "pending_review"
                held.append((product.id, terms))
        product.updated_at = now
        attributes = list((await session.scalars(select(Variant.attributes).where(
            Variant.product_id == product.id).order_by(Variant.id))).all())
        if not product.options or options.mismatches(product.options, attributes):
            product.options = options.derive(attributes)
    await session.flush()
    return held


async def _attach_pictures(session: AsyncSession, merchant_id: str, groups: Sequence[ProductRows],
                           product_ids: Mapping[str, str], pictures: Mapping[str, str]) -> None:
    wanted = [g for g in groups if g.pictures()]
    if not wanted:
        return
    have = await media_service.assets_of(session=session, product_ids=[product_ids[g.key] for g in wanted])
    variant_ids = {sku: vid for sku, vid in (await session.execute(select(Variant.sku, Variant.id).where(
        Variant.merchant_id == merchant_id, Variant.product_id.in_([product_ids[g.key] for g in wanted])))).all()}
    attachments: list[media_service.Attachment] = []
    links: list[tuple[str, str, str]] = []  # (product, variant, asset) for pictures the product has already
    for g in wanted:
        pid = product_ids[g.key]
        shows: dict[str, list[str]] = {}
        for v in g.variants:
            if v.variant_image:
                shows.setdefault(pictures[v.variant_image], []).append(variant_ids[v.sku])
        for ref in g.pictures():
            asset = pictures[ref]
            if asset in have.get(pid, {}):
                links += [(pid, vid, asset) for vid in shows.pop(asset, [])]
                continue
            have.setdefault(pid, {})[asset] = ""
            attachments.append(media_service.Attachment(pid, asset, "", tuple(shows.pop(asset, []))))
    await media_service.attach(session=session, merchant_id=merchant_id, attachments=attachments)
    for pid, vid, asset in links:
        await media_service.set_variant_image(session=session, merchant_id=merchant_id, product_id=pid,
                                              variant_id=vid, media_id=have[pid][asset], field="variant_image")
