"""Catalog use cases. Reads build plain dicts with a few set-based queries (the hot public paths)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import Select, and_, bindparam, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import listing, moderation, options, returns, revisions, tax
from app.catalog.media import service as media_service
from app.catalog.models import Category, ListingRevision, PriceTier, Product, Variant
from app.catalog.schemas import OptionsPut, ProductCreate, ProductPatch, VariantIn, VariantPatch, WholesaleIn
from app.catalog.search import service as search_service
from app.catalog.search.live import LiveIndex
from app.core import cache, events
from app.core.clock import as_utc, rfc3339, utcnow
from app.core.errors import Conflict, Forbidden, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.db import custom_plans, dialect_of, fetch, in_batches
from app.logistics.models import ShippingTemplate
from app.merchants import verification
from app.merchants.models import Merchant
from app.trust import rules as trust_rules

DEFAULT_POLICY = moderation.ListingPolicy()


async def _check_new_skus(session: AsyncSession, merchant_id: str, skus: list[tuple[str, str]]) -> None:
    """`skus`: (the variant's field path, its SKU)."""
    taken = set((await session.scalars(select(Variant.sku).where(
        Variant.merchant_id == merchant_id, Variant.sku.in_([s for _, s in skus])))).all())
    errors = [{"field": f"{path}.sku", "message": f"sku {sku!r} already exists"}
              for path, sku in skus if sku in taken]
    if errors:
        raise InvalidInput("some SKUs are already in use", errors=errors)


def variant_row(merchant_id: str, product_id: str, v: VariantIn | VariantPatch, now: datetime) -> dict[str, Any]:
    w = v.wholesale
    return {"id": new_id("var"), "product_id": product_id, "merchant_id": merchant_id, "sku": v.sku,
            "price": v.price, "currency": v.currency or "CNY", "attributes": v.attributes or {},
            "wholesale": w is not None, "moq": w.moq if w else 1, "pack_size": w.pack_size if w else 1,
            "created_at": now, "barcode": v.barcode, "weight": v.weight, "volume": v.volume}


def _options_for(product_in: ProductCreate) -> list[dict[str, Any]]:
    """The options sent (every variant must pick one value of each), or the ones its attributes show."""
    attributes = [v.attributes for v in product_in.variants]
    if product_in.options is None:
        return options.derive(attributes)
    chosen = [o.model_dump() for o in product_in.options]
    errors = [{"field": f"variants.{i}.{field}", "message": message}
              for i, field, message in options.mismatches(chosen, attributes)]
    if errors:
        raise InvalidInput("every variant picks one value of each option", errors=errors)
    return chosen


async def _write_tiers(session: AsyncSession, tiers_by_variant: dict[str, WholesaleIn]) -> None:
    if not tiers_by_variant:
        return
    await session.execute(delete(PriceTier).where(PriceTier.variant_id.in_(list(tiers_by_variant))))
    rows = [{"id": new_id("tier"), "variant_id": vid, "min_qty": t.min_qty, "unit_price": t.unit_price}
            for vid, w in tiers_by_variant.items() for t in w.tiers]
    if rows:
        await session.execute(insert(PriceTier), rows)


@contextmanager
def _fields_of(n: int | None) -> Iterator[None]:
    """Errors raised inside name their fields under `products.<n>.` (a batch's n-th product); None: as they are."""
    try:
        yield
    except InvalidInput as exc:
        if n is None:
            raise
        errors = [{**e, "field": f"products.{n}.{e['field']}"} for e in exc.extra.get("errors", [])]
        raise InvalidInput(f"products.{n}: {exc.detail}", errors=errors) from None


def _check_clauses(texts: dict[str, str], policy: moderation.ListingPolicy) -> None:
    errors = moderation.clause_errors(texts, policy)
    if errors:
        raise InvalidInput("seller texts may not take away consumer rights", errors=errors)


async def _check_template(session: AsyncSession, merchant_id: str, template_id: str | None) -> None:
    """A product's shipping template must be one of its merchant's (None: the flat fee)."""
    if template_id is None:
        return
    owner = await session.scalar(select(ShippingTemplate.merchant_id).where(ShippingTemplate.id == template_id))
    if owner != merchant_id:
        raise field_error("shipping_template_id", "not one of your shipping templates")


def _check_return_class(return_class: str, return_reason: str | None) -> None:
    error = returns.class_error(return_class, return_reason)
    if error:
        raise field_error("return_reason", error)


def _patch_return_class(product: Product, patch: ProductPatch) -> None:
    """Apply `return_class`/`return_reason` from a patch; a class sent alone keeps the reason only if it fits."""
    sent = patch.model_fields_set & {"return_class", "return_reason"}
    if not sent:
        return
    if "return_class" in sent and patch.return_class is None:
        raise field_error("return_class", "cannot be null")
    return_class = patch.return_class or product.return_class
    reason = patch.return_reason if "return_reason" in sent else product.return_reason
    if "return_reason" not in sent and reason not in returns.REASONS_BY_CLASS.get(return_class, ()):
        reason = None
    _check_return_class(return_class, reason)
    product.return_class, product.return_reason = return_class, reason


async def ensure_may_list(session: AsyncSession, merchant_id: str) -> None:
    """403 unless the seller is verified and trading (C1) and has accepted the return rules in force (C35):
    until then it keeps drafts only."""
    status = await session.scalar(select(Merchant.status).where(Merchant.id == merchant_id))
    refusal = (verification.active_listing_refusal(status or "pending")
               or await trust_rules.return_rules_refusal(session, merchant_id))
    if refusal:
        raise Forbidden(refusal)


async def create_product(*, session: AsyncSession, merchant_id: str, product_in: ProductCreate,
                         policy: moderation.ListingPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """Create a product with its variants and wholesale tiers; SKUs are unique per merchant.

    Forbidden clauses are refused; prohibited words hold the listing (`pending_review`) for the platform;
    a seller overdue for re-verification cannot list anything new.
    """
    product_id, _ = await insert_product(session=session, merchant_id=merchant_id, product_in=product_in,
                                         policy=policy)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("a variant SKU was taken by a concurrent request") from None
    return await _require(session, product_id)


async def insert_product(*, session: AsyncSession, merchant_id: str, product_in: ProductCreate,
                         policy: moderation.ListingPolicy = DEFAULT_POLICY) -> tuple[str, dict[str, str]]:
    """`create_product`'s checks and writes without the commit (a duplicate adds its pictures in the same
    transaction). Returns the product id and its variants' ids by SKU."""
    (created,) = await insert_products(session=session, merchant_id=merchant_id, products_in=[product_in],
                                       policy=policy)
    return created


async def insert_products(*, session: AsyncSession, merchant_id: str, products_in: Sequence[ProductCreate],
                          policy: moderation.ListingPolicy = DEFAULT_POLICY) -> list[tuple[str, dict[str, str]]]:
    """Several of one merchant's products with `insert_product`'s rules, in a few statements whatever their number
    (the seller is checked once, the SKUs in one query, revisions and the search index per batch); never commits.
    Returns each product's id and its variants' ids by SKU, in the order given. Errors name the fields of the
    product at fault (prefixed `products.<n>.` when there are several)."""
    if not products_in:
        return []
    now = utcnow()
    many = len(products_in) > 1
    prepared: list[tuple[ProductCreate, list[dict[str, Any]], list[str]]] = []
    for n, product_in in enumerate(products_in):
        with _fields_of(n if many else None):
            texts = {"title": product_in.title, "description": product_in.description}
            _check_clauses(texts, policy)
            _check_return_class(product_in.return_class, product_in.return_reason)
            prepared.append((product_in, _options_for(product_in), moderation.held_for(texts, policy)))
    for template_id in {p.shipping_template_id for p in products_in if p.shipping_template_id is not None}:
        await _check_template(session, merchant_id, template_id)
    if any(p.status == "active" for p in products_in):
        await ensure_may_list(session, merchant_id)
    verified_at = await session.scalar(select(Merchant.verified_at).where(Merchant.id == merchant_id))
    if verification.listings_blocked(verified_at=as_utc(verified_at) if verified_at else None, now=now,
                                     months=policy.reverify_months, grace_days=policy.reverify_grace_days):
        raise Forbidden("re-verification of your business information is overdue: no new listings until "
                        "the platform has verified it again")
    await _check_new_skus(session, merchant_id, [
        (f"products.{n}.variants.{i}" if many else f"variants.{i}", v.sku)
        for n, p in enumerate(products_in) for i, v in enumerate(p.variants)])
    product_rows: list[dict[str, Any]] = []
    variant_rows: list[dict[str, Any]] = []
    tiers: dict[str, WholesaleIn] = {}
    created: list[tuple[str, dict[str, str]]] = []
    held: list[tuple[str, list[str]]] = []
    for product_in, product_options, terms in prepared:
        product_id = new_id("prd")
        if terms:
            held.append((product_id, terms))
        product_rows.append({
            "id": product_id, "merchant_id": merchant_id, "title": product_in.title,
            "description": product_in.description, "category": product_in.category,
            "status": "pending_review" if terms else product_in.status, "options": product_options,
            "return_class": product_in.return_class, "return_reason": product_in.return_reason,
            "shipping_template_id": product_in.shipping_template_id, "tax_rate": product_in.tax_rate,
            "created_at": now, "updated_at": now})
        rows = [variant_row(merchant_id, product_id, v, now) for v in product_in.variants]
        variant_rows += rows
        tiers.update({r["id"]: v.wholesale for r, v in zip(rows, product_in.variants, strict=True)
                      if v.wholesale is not None})
        created.append((product_id, {r["sku"]: r["id"] for r in rows}))
    for batch in in_batches(product_rows):
        await session.execute(insert(Product), batch)
    for batch in in_batches(variant_rows):
        await session.execute(insert(Variant), batch)
    await _write_tiers(session, tiers)
    ids = [product_id for product_id, _ in created]
    for some in in_batches(ids):
        await revise(session, some)
    await search_service.reindex(session, ids, new=True)
    await events.emit_many(session, [("product.created", merchant_id, {"id": product_id}) for product_id in ids]
                           + [("product.held", merchant_id, {"id": pid, "terms": terms}) for pid, terms in held])
    cache.mark_changed(session)
    return created


async def update_product(*, session: AsyncSession, merchant_id: str, product_id: str, patch: ProductPatch,
                         policy: moderation.ListingPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """Change the fields sent; variants are matched by SKU (new SKUs are added).

    Texts are moderated as on create; a held listing stays `pending_review` until the platform approves it,
    and a listing the platform took down cannot be edited back.
    """
    product = await session.get(Product, product_id, with_for_update=True)
    if product is None or product.merchant_id != merchant_id:
        raise NotFound("product", product_id)
    if product.status == "taken_down":
        raise Conflict("this listing was taken down by the platform (see GET /v1/enforcement)")
    changes = patch.model_dump(exclude_unset=True, exclude={"variants", "return_class", "return_reason",
                                                            "shipping_template_id", "tax_rate"})
    if "shipping_template_id" in patch.model_fields_set:  # null detaches it: back to the flat fee
        await _check_template(session, merchant_id, patch.shipping_template_id)
        product.shipping_template_id = patch.shipping_template_id
    if changes.get("status") == "active" and product.status != "active":
        await ensure_may_list(session, merchant_id)
    _check_clauses({k: v for k, v in changes.items() if k in ("title", "description") and v}, policy)
    _patch_return_class(product, patch)
    if "tax_rate" in patch.model_fields_set:  # null goes back to the category's rate
        product.tax_rate = patch.tax_rate
    was_held = product.status == "pending_review"
    for field, value in changes.items():
        if value is None:
            raise InvalidInput(f"{field} cannot be null", errors=[{"field": field, "message": "cannot be null"}])
        setattr(product, field, value)
    # An archived listing is off sale whatever it says; it is checked again when it comes back.
    if changes.keys() & {"title", "description", "status"} and product.status != "archived":
        held = moderation.held_for({"title": product.title, "description": product.description}, policy)
        if held:
            product.status = "pending_review"
            await events.emit(session, kind="product.held", merchant_id=merchant_id,
                              payload={"id": product_id, "terms": held})
        elif was_held and "status" not in changes:
            product.status = "draft"
    product.updated_at = utcnow()
    cache.mark_changed(session)
    if patch.variants:
        await _patch_variants(session, merchant_id, product_id, patch.variants)
        await _fit_options(session, product)
    await session.flush()
    await revise(session, [product_id])
    await search_service.reindex(session, [product_id])
    await events.emit(session, kind="product.updated", merchant_id=merchant_id,
                      payload={"id": product_id, "fields": sorted(patch.model_dump(exclude_unset=True))})
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("a variant SKU was taken by a concurrent request") from None
    return await _require(session, product_id)


async def _patch_variants(session: AsyncSession, merchant_id: str, product_id: str,
                          patches: list[VariantPatch]) -> None:
    existing = {v.sku: v for v in (await session.scalars(
        select(Variant).where(Variant.product_id == product_id))).all()}
    new = [(i, p) for i, p in enumerate(patches) if p.sku not in existing]
    missing_price = [{"field": f"variants.{i}.price", "message": "required for a new variant"}
                     for i, p in new if p.price is None]
    if missing_price:
        raise InvalidInput("new variants need a price", errors=missing_price)
    if new:
        await _check_new_skus(session, merchant_id, [(f"variants.{i}", p.sku) for i, p in new])
        now = utcnow()
        rows = [variant_row(merchant_id, product_id, p, now) for _, p in new]
        await session.execute(insert(Variant), rows)
        await _write_tiers(session, {r["id"]: p.wholesale for r, (_, p) in zip(rows, new, strict=True)
                                     if p.wholesale is not None})
    tiers: dict[str, WholesaleIn] = {}
    for p in patches:
        variant = existing.get(p.sku)
        if variant is None:
            continue
        values = p.model_dump(exclude_unset=True, exclude={"sku", "wholesale", "image_id"}, exclude_none=True)
        if p.wholesale is not None:
            values.update(wholesale=True, moq=p.wholesale.moq, pack_size=p.wholesale.pack_size)
            tiers[variant.id] = p.wholesale
        if values:
            await session.execute(update(Variant).where(Variant.id == variant.id).values(**values))
    await _write_tiers(session, tiers)
    images = [(i, p) for i, p in enumerate(patches) if "image_id" in p.model_fields_set]
    if images:
        ids = {v.sku: v.id for v in (await session.execute(
            select(Variant.sku, Variant.id).where(Variant.product_id == product_id))).all()}
        for i, p in images:
            await media_service.set_variant_image(session=session, merchant_id=merchant_id, product_id=product_id,
                                                  variant_id=ids[p.sku], media_id=p.image_id,
                                                  field=f"variants.{i}.image_id")


async def _fit_options(session: AsyncSession, product: Product) -> None:
    """After variants changed: the product's options stay if every variant still fits them, else they are read
    off the attributes again (none when the variants do not name the same ones)."""
    attributes = list((await session.scalars(select(Variant.attributes).where(Variant.product_id == product.id)
                                             .order_by(Variant.id))).all())
    current = product.options or []
    if not current or options.mismatches(current, attributes):
        product.options = options.derive(attributes)


async def set_options(*, session: AsyncSession, merchant_id: str, product_id: str, body: OptionsPut
                      ) -> dict[str, Any]:
    """Replace a product's options. Variants keep their values; an option they lack gives them its first value;
    a removed option is dropped from them; combinations that no variant has yet become new variants (price,
    SKU ... from `fill`). A value still used by a variant cannot be removed (409 naming its SKUs)."""
    product = await session.get(Product, product_id, with_for_update=True)
    if product is None or product.merchant_id != merchant_id:
        raise NotFound("product", product_id)
    if product.status == "taken_down":
        raise Conflict("this listing was taken down by the platform (see GET /v1/enforcement)")
    chosen = [o.model_dump() for o in body.options]
    variants = (await session.execute(select(Variant.id, Variant.sku, Variant.attributes)
                                      .where(Variant.product_id == product_id).order_by(Variant.id))).all()
    moved: list[dict[str, Any]] = []
    dropped: dict[str, list[str]] = defaultdict(list)
    taken: dict[tuple[str, ...], str] = {}
    clashes: list[str] = []
    for v in variants:
        old = v.attributes or {}
        new = {o["name"]: old.get(o["name"], o["values"][0]) for o in chosen}
        for o in chosen:
            if new[o["name"]] not in o["values"]:
                dropped[f"{o['name']} {new[o['name']]}"].append(v.sku)
        combo = options.key(new, chosen)
        if combo in taken:
            clashes.append(f"{taken[combo]} and {v.sku}")
        taken.setdefault(combo, v.sku)
        if new != old:
            moved.append({"id": v.id, "attributes": new})
    if dropped:
        raise Conflict("values still used by variants: " + "; ".join(
            f"{value} ({', '.join(skus)})" for value, skus in dropped.items()))
    if clashes:
        raise Conflict("without that option these variants would be the same: " + "; ".join(clashes))
    missing = [c for c in options.combinations(chosen) if options.key(c, chosen) not in taken]
    if len(taken) + len(missing) > options.MAX_VARIANTS:
        raise field_error("options", f"a product has at most {options.MAX_VARIANTS} variants")
    if missing and body.fill is None:
        raise field_error("fill", f"{len(missing)} new variants need a price")
    if moved:
        await session.execute(update(Variant), moved)
    if missing and body.fill is not None:
        await _add_combinations(session, merchant_id, product_id, chosen, missing, body, variants[0].sku)
    product.options = chosen
    product.updated_at = utcnow()
    cache.mark_changed(session)
    await session.flush()
    await revise(session, [product_id])
    await search_service.reindex(session, [product_id])
    await events.emit(session, kind="product.updated", merchant_id=merchant_id,
                      payload={"id": product_id, "fields": ["options", "variants"]})
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("a variant SKU was taken by a concurrent request") from None
    return await _require(session, product_id)


async def _add_combinations(session: AsyncSession, merchant_id: str, product_id: str,
                            chosen: list[dict[str, Any]], missing: list[dict[str, str]], body: OptionsPut,
                            first_sku: str) -> None:
    fill = body.fill
    assert fill is not None
    prefix = fill.sku_prefix or first_sku
    wanted = [options.sku_for(prefix, c, chosen) for c in missing]
    taken = set((await session.scalars(select(Variant.sku).where(
        Variant.merchant_id == merchant_id, Variant.sku.in_(wanted)))).all())
    now = utcnow()
    rows = []
    for combination, sku in zip(missing, wanted, strict=True):
        n = 2
        unique = sku
        while unique in taken:  # a SKU the merchant already uses elsewhere: number this one
            unique = f"{sku[:60]}-{n}"
            n += 1
        taken.add(unique)
        rows.append(variant_row(merchant_id, product_id, VariantIn(
            sku=unique, price=fill.price, attributes=combination, barcode=None, weight=fill.weight), now))
    await session.execute(insert(Variant), rows)


async def set_status_by_platform(*, session: AsyncSession, product_id: str, status: str,
                                 expect: tuple[str, ...] | None = None) -> dict[str, Any]:
    """The platform moves a listing (take down, approve after review); never commits. Returns the listing
    as it was before, for the audit log and the enforcement record."""
    product = await session.get(Product, product_id, with_for_update=True)
    if product is None:
        raise NotFound("product", product_id)
    if expect is not None and product.status not in expect:
        raise Conflict(f"the listing is {product.status}")
    before = {"id": product.id, "merchant_id": product.merchant_id, "title": product.title,
              "category": product.category, "status": product.status}
    product.status = status
    product.updated_at = utcnow()
    cache.mark_changed(session)
    await events.emit(session, kind=f"product.{status}", merchant_id=product.merchant_id,
                      payload={"id": product_id, "from": before["status"]})
    return before


# ---- listing revisions ---------------------------------------------------------------------------------

REVISE_BATCH = 500


async def revise(session: AsyncSession, product_ids: Sequence[str], *, lock: bool = False) -> dict[str, str]:
    """Append a listing revision for each product whose content differs from its current one; never commits.

    Three reads for the whole batch (products with seller and category, variants with tiers, current
    revisions), one insert and one update. Returns product id -> current revision id.
    """
    if not product_ids:
        return {}
    stmt = (select(*_PRODUCT_COLS, Product.current_revision_id, Merchant.name.label("merchant_name"),
                   Category.returnable)
            .join(Merchant, Merchant.id == Product.merchant_id)
            .join(Category, Category.slug == Product.category)
            .where(Product.id.in_(list(product_ids))).order_by(Product.id))
    if lock:
        stmt = stmt.with_for_update(of=Product)
    rows = (await session.execute(stmt)).all()
    products = await _with_variants(session, rows, media=False)
    current_ids = [r.current_revision_id for r in rows if r.current_revision_id]
    current = {rev.product_id: rev for rev in (await session.execute(
        select(ListingRevision.id, ListingRevision.product_id, ListingRevision.revision, ListingRevision.content_hash)
        .where(ListingRevision.id.in_(current_ids)))).all()} if current_ids else {}
    now = utcnow()
    out: dict[str, str] = {}
    new_rows: list[dict[str, Any]] = []
    for row, product in zip(rows, products, strict=True):
        content = revisions.listing_content(product, merchant_name=row.merchant_name, returnable=row.returnable)
        digest = revisions.content_hash(content)
        cur = current.get(row.id)
        if cur is not None and cur.content_hash == digest:
            out[row.id] = cur.id
            continue
        out[row.id] = new_id("lrv")
        new_rows.append({"id": out[row.id], "product_id": row.id, "merchant_id": row.merchant_id,
                         "revision": cur.revision + 1 if cur is not None else 1, "content": content,
                         "content_hash": digest, "created_at": now})
    if new_rows:
        await session.execute(insert(ListingRevision), new_rows)
        await session.execute(update(Product), [{"id": r["product_id"], "current_revision_id": r["id"]}
                                                for r in new_rows])
    return out


_revise = revise  # the name tests knew it by


async def revise_merchant_listings(*, session: AsyncSession, merchant_id: str) -> int:
    """Re-snapshot every listing of a merchant (its display name changed); never commits. Returns how many
    products got a new revision."""
    changed = 0
    last = ""
    while True:
        ids = list((await session.scalars(select(Product.id).where(Product.merchant_id == merchant_id,
                                                                   Product.id > last)
                                          .order_by(Product.id).limit(REVISE_BATCH))).all())
        if not ids:
            return changed
        before = {pid: rid for pid, rid in (await session.execute(
            select(Product.id, Product.current_revision_id).where(Product.id.in_(ids)))).all()}
        after = await revise(session, ids, lock=True)
        changed += sum(1 for pid, rid in after.items() if before.get(pid) != rid)
        last = ids[-1]


async def get_revision(*, session: AsyncSession, revision_id: str) -> ListingRevision | None:
    """A listing revision by id, or None (callers decide who may see it)."""
    return await session.get(ListingRevision, revision_id)


# ---- reads -------------------------------------------------------------------------------------------

_Sel = TypeVar("_Sel", bound=Select)  # type: ignore[type-arg]

_PRODUCT_COLS = (Product.id, Product.merchant_id, Product.title, Product.description, Product.category,
                 Product.status, Product.created_at, Product.updated_at, Product.return_class, Product.return_reason,
                 Product.options, Product.shipping_template_id, Product.tax_rate)


async def _with_variants(session: AsyncSession, rows: Sequence[Any], *, media: bool = True
                         ) -> list[dict[str, Any]]:
    """Attach variants (and their tiers) and, with `media`, pictures to product rows: a few queries in all."""
    ids = [r.id for r in rows]
    variants: dict[str, list[dict[str, Any]]] = defaultdict(list)
    wholesale_ids: list[str] = []
    media_by_product, media_by_variant = await media_service.media_of(session, ids if media else [])
    if ids:
        vrows = (await session.execute(
            select(Variant.id, Variant.product_id, Variant.sku, Variant.price, Variant.currency,
                   Variant.attributes, Variant.wholesale, Variant.moq, Variant.pack_size, Variant.barcode,
                   Variant.weight, Variant.volume, Variant.condition_label)
            .where(Variant.product_id.in_(ids)).order_by(Variant.product_id, Variant.id))).all()
        tiers: dict[str, list[dict[str, int]]] = defaultdict(list)
        wholesale_ids = [v.id for v in vrows if v.wholesale]
        if wholesale_ids:
            for t in (await session.execute(
                    select(PriceTier.variant_id, PriceTier.min_qty, PriceTier.unit_price)
                    .where(PriceTier.variant_id.in_(wholesale_ids)).order_by(PriceTier.min_qty))).all():
                tiers[t.variant_id].append({"min_qty": t.min_qty, "unit_price": t.unit_price})
        for v in vrows:
            variants[v.product_id].append({
                "id": v.id, "sku": v.sku, "price": v.price, "currency": v.currency, "attributes": v.attributes,
                "wholesale": ({"moq": v.moq, "pack_size": v.pack_size, "tiers": tiers[v.id]}
                              if v.wholesale else None),
                "barcode": v.barcode, "weight": v.weight, "volume": v.volume,
                "condition_label": v.condition_label, "media": media_by_variant.get(v.id, [])})
    return [{"id": r.id, "merchant_id": r.merchant_id, "title": r.title, "description": r.description,
             "category": r.category, "status": r.status, "options": r.options or [], "variants": variants[r.id],
             "media": media_by_product.get(r.id, []),
             "return_class": r.return_class, "return_reason": r.return_reason,
             "return_label": returns.label(r.category, r.return_class, r.return_reason),
             "shipping_template_id": r.shipping_template_id,
             "tax_rate": tax.tax_rate_of(r.category, r.tax_rate),
             "tax_rate_source": "category" if r.tax_rate is None else "product",
             "created_at": rfc3339(r.created_at), "updated_at": rfc3339(r.updated_at)} for r in rows]


def _visible(stmt: _Sel, viewer_merchant_id: str | None) -> _Sel:
    """Public visibility: active product of an active merchant; the owner also sees its drafts."""
    public = and_(Product.status == "active", Merchant.status == "active")
    if viewer_merchant_id is None:
        return stmt.join(Merchant, Merchant.id == Product.merchant_id).where(public)
    return stmt.join(Merchant, Merchant.id == Product.merchant_id).where(
        public | (Product.merchant_id == viewer_merchant_id))


def _listed(stmt: _Sel, viewer_merchant_id: str | None) -> _Sel:
    """Public lists leave out the goods of unlisted merchants (sold by link only); the owner still sees its own."""
    if viewer_merchant_id is None:
        return stmt.where(Merchant.listed)
    return stmt.where(Merchant.listed | (Product.merchant_id == viewer_merchant_id))


async def get_product(*, session: AsyncSession, product_id: str,
                      viewer_merchant_id: str | None) -> dict[str, Any]:
    """A product as its page shows it; 404 unless public or the viewer's own."""
    rows = (await session.execute(_visible(select(*_PRODUCT_COLS), viewer_merchant_id)
                                  .where(Product.id == product_id))).all()
    if not rows:
        raise NotFound("product", product_id)
    return (await _with_variants(session, rows))[0]


async def _require(session: AsyncSession, product_id: str) -> dict[str, Any]:
    rows = (await session.execute(select(*_PRODUCT_COLS).where(Product.id == product_id))).all()
    return (await _with_variants(session, rows))[0]


@dataclass(frozen=True, slots=True)
class Refinements:
    """What a listing may add to `q`, `category` and `merchant_id` (app/catalog/search/service.py `Search`)."""

    sort: str | None = None
    facets: tuple[str, ...] = ()
    price_min: int | None = None
    price_max: int | None = None
    options: tuple[tuple[str, str], ...] = ()

    def any(self) -> bool:
        return bool(self.sort or self.facets or self.price_min is not None or self.price_max is not None
                    or self.options)


NO_REFINEMENTS = Refinements()
_OFFSET = "o:"  # a search page's position: how many results came before it


def _offset(before: str | None) -> int:
    if before is None:
        return 0
    if not before.startswith(_OFFSET) or not before[len(_OFFSET):].isdigit():
        raise field_error("cursor", "not a valid cursor")
    offset = int(before[len(_OFFSET):])
    if offset > search_service.MAX_OFFSET:
        raise field_error("cursor", f"results go no further than {search_service.MAX_OFFSET}")
    return offset


def _search_of(*, q: str | None, category: str | None, merchant_id: str | None, viewer_merchant_id: str | None,
               before: str | None, limit: int, refine: Refinements) -> search_service.Search:
    """A listing's ranked search (app/catalog/search)."""
    return search_service.Search(
        q=q, category=category, merchant_id=merchant_id, viewer_merchant_id=viewer_merchant_id,
        price_min=refine.price_min, price_max=refine.price_max, options=dict(refine.options), sort=refine.sort,
        facets=list(refine.facets), offset=_offset(before), limit=limit)


async def products_by_ids(session: AsyncSession, product_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Products as the API shows them (any status), in the order of `product_ids`; missing ids are skipped."""
    if not product_ids:
        return []
    rows = (await session.execute(select(*_PRODUCT_COLS).where(Product.id.in_(list(product_ids))))).all()
    by_id = {p["id"]: p for p in await _with_variants(session, rows)}
    return [by_id[i] for i in product_ids if i in by_id]


async def list_products(*, session: AsyncSession, q: str | None, category: str | None, merchant_id: str | None,
                        viewer_merchant_id: str | None, before: str | None, limit: int,
                        refine: Refinements = NO_REFINEMENTS) -> tuple[list[dict[str, Any]], str | None]:
    """With `q` (or any refinement): best matches first (app/catalog/search). Without: newest first,
    keyset-paginated. The second value is the next page's position (None on the last page)."""
    items, last, _ = await list_products_facets(session=session, q=q, category=category, merchant_id=merchant_id,
                                                viewer_merchant_id=viewer_merchant_id, before=before, limit=limit,
                                                refine=refine)
    return items, last


async def list_products_facets(*, session: AsyncSession, q: str | None, category: str | None,
                               merchant_id: str | None, viewer_merchant_id: str | None, before: str | None,
                               limit: int, refine: Refinements = NO_REFINEMENTS
                               ) -> tuple[list[dict[str, Any]], str | None, dict[str, Any] | None]:
    body, last, facets = await list_products_json(session=session, q=q, category=category, merchant_id=merchant_id,
                                                  viewer_merchant_id=viewer_merchant_id, before=before, limit=limit,
                                                  refine=refine)
    return orjson.loads(body), last, facets


async def _newest_ids(session: AsyncSession, *, category: str | None, merchant_id: str | None,
                      viewer_merchant_id: str | None, before: str | None, limit: int) -> tuple[list[str], str | None]:
    base = _listed(_visible(select(Product.id), viewer_merchant_id), viewer_merchant_id)
    if category:
        base = base.where(Product.category == category)
    if merchant_id:
        base = base.where(Product.merchant_id == merchant_id)
    if before:
        base = base.where(Product.id < before)
    ids = list((await session.scalars(base.order_by(Product.id.desc()).limit(limit + 1))).all())
    return ids[:limit], (ids[limit - 1] if len(ids) > limit else None)


async def list_products_json(*, session: AsyncSession, q: str | None, category: str | None, merchant_id: str | None,
                             viewer_merchant_id: str | None, before: str | None, limit: int,
                             refine: Refinements = NO_REFINEMENTS, live: LiveIndex | None = None
                             ) -> tuple[bytes, str | None, dict[str, Any] | None]:
    """The listing as JSON bytes of its items array (built by PostgreSQL there, no decode/encode round trip),
    the next page's position and, when asked for, the facets. `live`: the process's copy of the search index and
    of the products' JSON, which answers what it can without the database (app/catalog/search/live.py)."""
    pg = dialect_of(session) == "postgresql"
    facets: dict[str, Any] | None = None
    copy = await live.current() if live is not None else None
    if q or refine.any():
        wanted = _search_of(q=q, category=category, merchant_id=merchant_id, viewer_merchant_id=viewer_merchant_id,
                            before=before, limit=limit, refine=refine)
        found = await search_service.search_copy(session, copy, wanted) if copy is not None else None
        if found is None:
            if pg:
                await custom_plans(session)
            found = await search_service.search(session, wanted)
        ids, facets = found.ids, found.facets
        last = f"{_OFFSET}{wanted.offset + limit}" if found.more else None
    else:
        if pg:
            await custom_plans(session)
        ids, last = await _newest_ids(session, category=category, merchant_id=merchant_id,
                                      viewer_merchant_id=viewer_merchant_id, before=before, limit=limit)
    if copy is not None and live is not None:
        return await live.page(session, ids, _products_json), last, facets
    if pg:
        return (await listing.page_json(session, ids)).encode(), last, facets
    return orjson.dumps(await _listed_items(session, ids)), last, facets


async def _listed_items(session: AsyncSession, ids: Sequence[str]) -> list[dict[str, Any]]:
    rows = {r.id: r for r in (await session.execute(select(*_PRODUCT_COLS).where(Product.id.in_(list(ids))))).all()}
    items = await _with_variants(session, [rows[i] for i in ids if i in rows])
    return [{**item, "is_ad": False} for item in items]  # no paid placements (C12)


async def _products_json(session: AsyncSession, ids: Sequence[str]) -> dict[str, bytes]:
    """Each product's listing JSON by id (for the process's cache of them)."""
    if dialect_of(session) == "postgresql":
        return await listing.products_json(session, ids)
    return {item["id"]: orjson.dumps(item) for item in await _listed_items(session, ids)}


async def tax_rates(*, session: AsyncSession, product_ids: Sequence[str]) -> dict[str, int]:
    """Each product's VAT rate in percent (its own, else its category's), by product id."""
    if not product_ids:
        return {}
    rows = (await session.execute(select(Product.id, Product.category, Product.tax_rate)
                                  .where(Product.id.in_(sorted(set(product_ids)))))).all()
    return {r.id: tax.tax_rate_of(r.category, r.tax_rate) for r in rows}


async def list_categories(*, session: AsyncSession) -> Sequence[Category]:
    return (await session.scalars(select(Category).order_by(Category.position))).all()


@dataclass(frozen=True, slots=True)
class SellableVariant:
    """What an order line snapshots about a variant at checkout."""

    variant_id: str
    product_id: str
    merchant_id: str
    sku: str
    title: str
    category: str
    returnable: bool
    price: int
    currency: str
    attributes: dict[str, str]
    sellable: bool  # active product of an active merchant; a returned SKU also needs its condition label (C35)
    listing_revision_id: str | None = None  # the listing as the buyer sees it now (recorded on the order line)
    return_class: str = "standard"  # app/catalog/returns.py; the order line keeps it (snapshot)
    return_reason: str | None = None
    shipping_template_id: str | None = None  # what prices its delivery (app/logistics); None: the flat fee
    weight: int | None = None  # grams, for templates priced by weight
    volume: int | None = None  # cm³, for templates priced by volume


# Built once (the checkout's catalogue read): the variant ids are one expanding parameter. A checkout joins
# the stock it may take to it (`app.retail.service`), so both come in one round trip; `sellable_of` reads a row.
SELLABLE = (select(Variant.id, Variant.product_id, Variant.merchant_id, Variant.sku, Product.title, Product.category,
                    Category.returnable, Variant.price, Variant.currency, Variant.attributes, Product.status,
                    Merchant.status.label("merchant_status"), Product.current_revision_id, Product.return_class,
                    Product.return_reason, Product.shipping_template_id, Variant.weight, Variant.volume,
                    Variant.returned_at, Variant.condition_label)
             .join(Product, Product.id == Variant.product_id)
             .join(Category, Category.slug == Product.category)
             .join(Merchant, Merchant.id == Variant.merchant_id)
             .where(Variant.id.in_(bindparam("ids", expanding=True))))


async def mark_returned(session: AsyncSession, *, variant_ids: Sequence[str]) -> None:
    """Returned units of these SKUs went back on hand: until the seller labels their condition (二次销售 or 瑕疵)
    they are off sale (C35). Never commits."""
    if not variant_ids:
        return
    await session.execute(update(Variant).where(Variant.id.in_(sorted(set(variant_ids))),
                                                Variant.returned_at.is_(None)).values(returned_at=utcnow()))
    cache.mark_changed(session)


async def sellable_variants(*, session: AsyncSession, variant_ids: Sequence[str]) -> dict[str, SellableVariant]:
    """The variants (by id) with what a checkout needs, in one query. Missing ids are simply absent."""
    if not variant_ids:
        return {}
    rows = (await fetch(session, SELLABLE, {"ids": sorted(set(variant_ids))})).all()
    return {r.id: sellable_of(r) for r in rows}


def sellable_of(r: Any) -> SellableVariant:
    """A row of `SELLABLE` (or of a statement built on it)."""
    return SellableVariant(r.id, r.product_id, r.merchant_id, r.sku, r.title, r.category, r.returnable, r.price,
                           r.currency, r.attributes or {},
                           r.status == "active" and r.merchant_status == "active"
                           and returns.on_sale_again(returned=r.returned_at is not None,
                                                     condition_label=r.condition_label),
                           r.current_revision_id, r.return_class, r.return_reason, r.shipping_template_id, r.weight,
                           r.volume)
