"""Collection use cases: a merchant's groupings (manual or by rule), their products, the public read.

A collection is public when its merchant is active; the public sees only products on sale in it, the owner
every one of its products whatever the status. Each write commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, delete, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import moderation
from app.catalog import service as catalog_service
from app.catalog.collections.models import Collection, CollectionProduct
from app.catalog.collections.schemas import MAX_MANUAL, CollectionIn, CollectionPatch
from app.catalog.models import Product, Variant
from app.catalog.search import text as search_text
from app.core import cache, events
from app.core.clock import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.db import dialect_of, insert_ignore
from app.merchants.models import Merchant


def _out(c: Collection, count: int) -> dict[str, Any]:
    return {"id": c.id, "merchant_id": c.merchant_id, "title": c.title, "description": c.description,
            "kind": c.kind, "rule": c.rule, "product_count": count, "created_at": c.created_at,
            "updated_at": c.updated_at}


def _check_texts(texts: dict[str, str], policy: moderation.ListingPolicy) -> None:
    errors = moderation.clause_errors({k: v for k, v in texts.items() if v}, policy)
    if errors:
        raise InvalidInput("shop texts may not take away consumer rights", errors=errors)


async def _owned(session: AsyncSession, merchant_id: str, collection_id: str, *, lock: bool = False) -> Collection:
    stmt = select(Collection).where(Collection.id == collection_id, Collection.merchant_id == merchant_id)
    found = await session.scalar(stmt.with_for_update() if lock else stmt)
    if found is None:
        raise NotFound("collection", collection_id)
    return found


async def _visible(session: AsyncSession, collection_id: str, viewer_merchant_id: str | None) -> Collection:
    """The collection if its merchant is active or the viewer owns it; 404 otherwise."""
    row = (await session.execute(select(Collection, Merchant.status)
                                 .join(Merchant, Merchant.id == Collection.merchant_id)
                                 .where(Collection.id == collection_id))).first()
    if row is None or (row[1] != "active" and row[0].merchant_id != viewer_merchant_id):
        raise NotFound("collection", collection_id)
    found: Collection = row[0]
    return found


async def _check_products(session: AsyncSession, merchant_id: str, product_ids: Sequence[str]) -> None:
    owned = set((await session.scalars(select(Product.id).where(Product.merchant_id == merchant_id,
                                                                 Product.id.in_(list(product_ids))))).all())
    errors = [{"field": f"product_ids.{i}", "message": "not one of your products"}
              for i, p in enumerate(product_ids) if p not in owned]
    if errors:
        raise InvalidInput("some products cannot go into the collection", errors=errors)


async def _append(session: AsyncSession, collection: Collection, product_ids: Sequence[str]) -> None:
    """Add products at the end, in the order given; ones already in it stay where they are."""
    ids = list(dict.fromkeys(product_ids))
    if not ids:
        return
    await _check_products(session, collection.merchant_id, ids)
    count, last = (await session.execute(select(func.count(), func.coalesce(func.max(CollectionProduct.position), 0))
                                         .where(CollectionProduct.collection_id == collection.id))).one()
    present = set((await session.scalars(select(CollectionProduct.product_id).where(
        CollectionProduct.collection_id == collection.id, CollectionProduct.product_id.in_(ids)))).all())
    new = [p for p in ids if p not in present]
    if count + len(new) > MAX_MANUAL:
        raise field_error("product_ids", f"a collection holds at most {MAX_MANUAL} products")
    now = utcnow()
    if new:
        await session.execute(insert_ignore(dialect_of(session), CollectionProduct, ["collection_id", "product_id"]), [
            {"id": new_id("clp"), "collection_id": collection.id, "merchant_id": collection.merchant_id,
             "product_id": p, "position": last + i, "created_at": now} for i, p in enumerate(new, start=1)])


def _members(collection: Collection, viewer_merchant_id: str | None) -> Select[str, Any]:
    """Product ids of the collection as the viewer sees them, with the key they are ordered by."""
    stmt: Select[str, Any]
    if collection.kind == "manual":
        stmt = (select(Product.id, CollectionProduct.position.label("key"))
                .join(CollectionProduct, CollectionProduct.product_id == Product.id)
                .where(CollectionProduct.collection_id == collection.id))
    else:
        stmt = select(Product.id, Product.id.label("key")).where(Product.merchant_id == collection.merchant_id)
        rule = collection.rule or {}
        if rule.get("category"):
            stmt = stmt.where(Product.category == rule["category"])
        low, high = rule.get("price_min"), rule.get("price_max")
        if low is not None or high is not None:
            priced = [Variant.product_id == Product.id]
            if low is not None:
                priced.append(Variant.price >= low)
            if high is not None:
                priced.append(Variant.price <= high)
            stmt = stmt.where(exists(select(Variant.id).where(and_(*priced))))
        if rule.get("keyword"):
            for term in search_text.normalise(rule["keyword"]).split():  # a part of the title or description
                stmt = stmt.where(or_(func.lower(Product.title).contains(term, autoescape=True),
                                      func.lower(Product.description).contains(term, autoescape=True)))
    if viewer_merchant_id != collection.merchant_id:
        stmt = stmt.join(Merchant, Merchant.id == Product.merchant_id).where(Product.status == "active",
                                                                              Merchant.status == "active")
    else:
        stmt = stmt.where(Product.status != "taken_down")
    return stmt


async def _count(session: AsyncSession, collection: Collection, viewer_merchant_id: str | None) -> int:
    return int(await session.scalar(select(func.count()).select_from(
        _members(collection, viewer_merchant_id).subquery())) or 0)


async def create_collection(*, session: AsyncSession, merchant_id: str, body: CollectionIn,
                            policy: moderation.ListingPolicy = catalog_service.DEFAULT_POLICY) -> dict[str, Any]:
    """A manual collection with its products in order, or a rule collection."""
    _check_texts({"title": body.title, "description": body.description}, policy)
    now = utcnow()
    collection = Collection(id=new_id("col"), merchant_id=merchant_id, title=body.title,
                            description=body.description, kind=body.kind,
                            rule=body.rule.model_dump(exclude_none=True) if body.rule else None,
                            created_at=now, updated_at=now)
    session.add(collection)
    await session.flush()
    await _append(session, collection, body.product_ids)
    await events.emit(session, kind="collection.created", merchant_id=merchant_id, payload={"id": collection.id})
    cache.mark_changed(session)
    out = _out(collection, await _count(session, collection, merchant_id))
    await session.commit()
    return out


async def get_collection(*, session: AsyncSession, collection_id: str, viewer_merchant_id: str | None
                         ) -> dict[str, Any]:
    collection = await _visible(session, collection_id, viewer_merchant_id)
    return _out(collection, await _count(session, collection, viewer_merchant_id))


async def list_collections(*, session: AsyncSession, merchant_id: str, viewer_merchant_id: str | None,
                           before: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """A merchant's collections, newest first (public when the merchant is active)."""
    if viewer_merchant_id != merchant_id:
        status = await session.scalar(select(Merchant.status).where(Merchant.id == merchant_id))
        if status != "active":
            return [], None
    stmt = select(Collection).where(Collection.merchant_id == merchant_id)
    if before:
        stmt = stmt.where(Collection.id < before)
    found = list((await session.scalars(stmt.order_by(Collection.id.desc()).limit(limit + 1))).all())
    more = len(found) > limit
    found = found[:limit]
    items = [_out(c, await _count(session, c, viewer_merchant_id)) for c in found]
    return items, (found[-1].id if more else None)


async def update_collection(*, session: AsyncSession, merchant_id: str, collection_id: str, patch: CollectionPatch,
                            policy: moderation.ListingPolicy = catalog_service.DEFAULT_POLICY) -> dict[str, Any]:
    collection = await _owned(session, merchant_id, collection_id, lock=True)
    changes = patch.model_dump(exclude_unset=True)
    for name in ("title", "description", "rule"):
        if name in changes and changes[name] is None:
            raise field_error(name, "cannot be null")
    if "rule" in changes and collection.kind != "rule":
        raise field_error("rule", "a manual collection has no rule: add or remove its products instead")
    _check_texts({k: v for k, v in changes.items() if k in ("title", "description")}, policy)
    if patch.title is not None:
        collection.title = patch.title
    if patch.description is not None:
        collection.description = patch.description
    if patch.rule is not None:
        collection.rule = patch.rule.model_dump(exclude_none=True)
    collection.updated_at = utcnow()
    cache.mark_changed(session)
    await session.flush()
    out = _out(collection, await _count(session, collection, merchant_id))
    await session.commit()
    return out


async def delete_collection(*, session: AsyncSession, merchant_id: str, collection_id: str) -> None:
    """The grouping goes; its products stay (campaigns that took them keep them)."""
    collection = await _owned(session, merchant_id, collection_id, lock=True)
    await session.execute(delete(CollectionProduct).where(CollectionProduct.collection_id == collection.id))
    await session.delete(collection)
    await events.emit(session, kind="collection.deleted", merchant_id=merchant_id, payload={"id": collection_id})
    cache.mark_changed(session)
    await session.commit()


async def add_products(*, session: AsyncSession, merchant_id: str, collection_id: str,
                       product_ids: Sequence[str]) -> dict[str, Any]:
    collection = await _owned(session, merchant_id, collection_id, lock=True)
    if collection.kind != "manual":
        raise Conflict("a rule collection picks its products itself: change its rule instead")
    await _append(session, collection, product_ids)
    collection.updated_at = utcnow()
    cache.mark_changed(session)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict("the collection changed at the same time: send it again") from None
    out = _out(collection, await _count(session, collection, merchant_id))
    await session.commit()
    return out


async def remove_product(*, session: AsyncSession, merchant_id: str, collection_id: str, product_id: str) -> None:
    collection = await _owned(session, merchant_id, collection_id, lock=True)
    gone = await session.execute(delete(CollectionProduct).where(CollectionProduct.collection_id == collection.id,
                                                                 CollectionProduct.product_id == product_id))
    if not getattr(gone, "rowcount", 0):
        raise NotFound("product in this collection", product_id)
    collection.updated_at = utcnow()
    cache.mark_changed(session)
    await session.commit()


async def products_page(*, session: AsyncSession, collection_id: str, viewer_merchant_id: str | None,
                        after: str | None, limit: int) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the collection's products: by position (manual) or newest first (rule)."""
    collection = await _visible(session, collection_id, viewer_merchant_id)
    stmt = _members(collection, viewer_merchant_id)
    if collection.kind == "manual":
        if after is not None:
            try:
                stmt = stmt.where(CollectionProduct.position > int(after))
            except ValueError:
                raise field_error("cursor", "not a valid cursor") from None
        stmt = stmt.order_by(CollectionProduct.position)
    else:
        if after is not None:
            stmt = stmt.where(Product.id < after)
        stmt = stmt.order_by(Product.id.desc())
    rows = (await session.execute(stmt.limit(limit + 1))).all()
    more = len(rows) > limit
    rows = rows[:limit]
    items = await catalog_service.products_by_ids(session, [r.id for r in rows])
    return items, (str(rows[-1].key) if more else None)


async def product_ids_of(session: AsyncSession, *, merchant_id: str, collection_ids: Sequence[str],
                         limit: int) -> tuple[list[str], list[dict[str, str]]]:
    """The products (any status) of the merchant's collections, for a campaign to take; never commits.
    Returns the ids (first `limit`) and an error for each id that is not one of the merchant's collections."""
    found = {c.id: c for c in (await session.scalars(select(Collection).where(
        Collection.merchant_id == merchant_id, Collection.id.in_(list(collection_ids))))).all()}
    errors = [{"field": f"collection_ids.{i}", "message": "not one of your collections"}
              for i, cid in enumerate(collection_ids) if cid not in found]
    ids: list[str] = []
    for cid in dict.fromkeys(collection_ids):
        if cid in found:
            stmt = _members(found[cid], merchant_id)
            ids += [r.id for r in (await session.execute(stmt.order_by(stmt.selected_columns.key)
                                                         .limit(limit + 1))).all()]
    return list(dict.fromkeys(ids))[:limit + 1], errors
