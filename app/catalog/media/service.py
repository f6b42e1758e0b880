"""Product pictures: upload, edit, remove, and the reads that put them on products and variants.

An upload never holds a transaction while the picture is processed or stored (on SQLite every transaction
holds the write lock): the product is checked in a short read, the file is processed and stored in worker
threads, and one short transaction then records it. A file uploaded before (same SHA-256) is found in
`media_asset` and neither processed nor stored again.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app.catalog.media import images
from app.catalog.media.models import MediaAsset, ProductMedia, VariantMedia
from app.catalog.media.schemas import MediaPatch
from app.catalog.media.storage.base import MediaStorage
from app.catalog.models import Product, Variant
from app.core import cache, events
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound, field_error
from app.core.ids import new_id
from app.db import dialect_of, insert_ignore

MAX_PER_PRODUCT = 50


@dataclass(frozen=True, slots=True)
class Limits:
    max_bytes: int
    max_pixels: int


def place(order: Sequence[str], item: str, position: int | None) -> list[str]:
    """`order` with `item` moved (or added) to `position`, clamped to the ends; None: at the end."""
    rest = [i for i in order if i != item]
    at = len(rest) if position is None else max(0, min(position, len(rest)))
    return [*rest[:at], item, *rest[at:]]


def _clean_alt(alt: str) -> str:
    alt = alt.strip()
    if "\x00" in alt:
        raise field_error("alt", "may not contain NUL characters")
    return alt


async def _owned_product(session: AsyncSession, merchant_id: str, product_id: str, *, lock: bool = False) -> None:
    stmt = select(Product.id).where(Product.id == product_id, Product.merchant_id == merchant_id)
    if lock and dialect_of(session) == "postgresql":
        stmt = stmt.with_for_update()  # media edits of one product queue here (positions are renumbered)
    if await session.scalar(stmt) is None:
        raise NotFound("product", product_id)


async def _check_variants(session: AsyncSession, product_id: str, variant_ids: Sequence[str], field: str) -> None:
    if not variant_ids:
        return
    found = set((await session.scalars(select(Variant.id).where(
        Variant.product_id == product_id, Variant.id.in_(list(variant_ids))))).all())
    for i, vid in enumerate(variant_ids):
        if vid not in found:
            raise field_error(field if field == "variant_id" else f"{field}.{i}", f"{vid} is not a variant of "
                              "this product")


async def _media_order(session: AsyncSession, product_id: str) -> list[str]:
    return list((await session.scalars(select(ProductMedia.id).where(ProductMedia.product_id == product_id)
                                       .order_by(ProductMedia.position, ProductMedia.id))).all())


async def _renumber(session: AsyncSession, before: Sequence[str], after: Sequence[str]) -> None:
    """Positions 0..n-1 in the order `after`; only the rows whose position changed are written."""
    was = {mid: i for i, mid in enumerate(before)}
    moved = [{"id": mid, "position": i} for i, mid in enumerate(after) if was.get(mid) != i]
    if moved:
        await session.execute(update(ProductMedia), moved)


def _store(storage: MediaStorage, picture: images.Picture) -> dict[str, Any]:
    """Put the renditions (in a worker thread); the asset row that records them."""
    urls: dict[str, str] = {}
    for rendition in picture.renditions:
        storage.put(rendition.key, rendition.data)
        urls[rendition.label] = storage.url(rendition.key)
    large = picture.renditions[-1]
    return {"id": picture.sha256, "format": picture.format, "source_width": picture.width,
            "source_height": picture.height, "width": large.width, "height": large.height, "storage": storage.name,
            "thumb_url": urls["thumb"], "medium_url": urls["medium"], "large_url": urls["large"],
            "created_at": utcnow()}


def _process_and_store(storage: MediaStorage, limits: Limits, data: bytes) -> dict[str, Any]:
    picture = images.process(data, max_bytes=limits.max_bytes, max_pixels=limits.max_pixels)
    return _store(storage, picture)


async def store_pictures(*, session: AsyncSession, storage: MediaStorage, limits: Limits,
                         files: Sequence[bytes], threads: int = 2) -> list[str]:
    """The asset ids of uploaded files: found if uploaded before, else processed, stored and recorded, up to
    `threads` at a time. Commits (the assets alone: stored files are recorded whatever becomes of the uploads
    that brought them). The first refused file raises its error."""
    for data in files:
        if len(data) > limits.max_bytes:
            raise images.too_large(limits.max_bytes)
    digests = [images.source_hash(data) for data in files]
    known = set((await session.scalars(select(MediaAsset.id).where(MediaAsset.id.in_(set(digests))))).all())
    await session.commit()  # hold no transaction while pictures are processed
    todo = list({d: data for d, data in zip(digests, files, strict=True) if d not in known}.values())
    if not todo:
        return digests
    gate = asyncio.Semaphore(threads)

    async def one(data: bytes) -> dict[str, Any]:
        async with gate:
            return await run_in_threadpool(_process_and_store, storage, limits, data)

    rows = await asyncio.gather(*(one(data) for data in todo))
    await session.execute(insert_ignore(dialect_of(session), MediaAsset, ["id"]), rows)
    await session.commit()
    return digests


@dataclass(frozen=True, slots=True)
class Attachment:
    """A stored picture to add at the end of a product's pictures, showing these variants."""

    product_id: str
    asset_id: str
    alt: str = ""
    variant_ids: tuple[str, ...] = ()


async def attach(*, session: AsyncSession, merchant_id: str, attachments: Sequence[Attachment]) -> list[str]:
    """Add stored pictures to the merchant's products, after the ones they have; never commits. Set-based:
    one read of the products' picture counts, one insert each for pictures and variant links. The caller
    has checked that products and variants are the merchant's. Returns the new media ids."""
    if not attachments:
        return []
    product_ids = sorted({a.product_id for a in attachments})
    counts = await picture_counts(session=session, product_ids=product_ids)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for a in attachments:
        position = counts.get(a.product_id, 0)
        counts[a.product_id] = position + 1
        rows.append({"id": new_id("med"), "merchant_id": merchant_id, "product_id": a.product_id,
                     "asset_id": a.asset_id, "alt": _clean_alt(a.alt), "position": position, "created_at": now})
        links += [{"variant_id": vid, "media_id": rows[-1]["id"], "merchant_id": merchant_id}
                  for vid in dict.fromkeys(a.variant_ids)]
    await session.execute(insert(ProductMedia), rows)
    if links:
        await session.execute(insert(VariantMedia), links)
    await session.execute(update(Product).where(Product.id.in_(product_ids)).values(updated_at=now))
    await events.emit_many(session, [("product.updated", merchant_id, {"id": pid, "fields": ["media"]})
                                     for pid in product_ids])
    cache.mark_changed(session)
    return [r["id"] for r in rows]


async def assets_of(*, session: AsyncSession, product_ids: Sequence[str]) -> dict[str, dict[str, str]]:
    """product id -> {asset id: media id} of the pictures these products show."""
    out: dict[str, dict[str, str]] = defaultdict(dict)
    if product_ids:
        for pid, asset_id, media_id in (await session.execute(
                select(ProductMedia.product_id, ProductMedia.asset_id, ProductMedia.id)
                .where(ProductMedia.product_id.in_(list(product_ids))).order_by(ProductMedia.position))).all():
            out[pid].setdefault(asset_id, media_id)
    return out


async def assets_by_url(*, session: AsyncSession, urls: Sequence[str]) -> dict[str, str]:
    """url -> asset id, for URLs of pictures stored here (a re-imported export points at its own pictures)."""
    found: dict[str, str] = {}
    wanted = list(set(urls))
    if wanted:
        for column in (MediaAsset.large_url, MediaAsset.medium_url, MediaAsset.thumb_url):
            for url, asset_id in (await session.execute(select(column, MediaAsset.id).where(column.in_(wanted)))).all():
                found[url] = asset_id
    return found


async def picture_counts(*, session: AsyncSession, product_ids: Sequence[str]) -> dict[str, int]:
    """How many pictures each of these products has (absent: none)."""
    if not product_ids:
        return {}
    return dict((await session.execute(
        select(ProductMedia.product_id, func.count()).where(ProductMedia.product_id.in_(list(product_ids)))
        .group_by(ProductMedia.product_id))).all())


async def add_media(*, session: AsyncSession, storage: MediaStorage, limits: Limits, merchant_id: str,
                    product_id: str, data: bytes, alt: str = "", variant_id: str | None = None,
                    position: int | None = None) -> dict[str, Any]:
    """A picture on one of the merchant's products (and, with `variant_id`, on that variant)."""
    alt = _clean_alt(alt)
    await _owned_product(session, merchant_id, product_id)  # 404 before any work on the file
    await _check_variants(session, product_id, [variant_id] if variant_id else [], "variant_id")
    (asset_id,) = await store_pictures(session=session, storage=storage, limits=limits, files=[data])
    await _owned_product(session, merchant_id, product_id, lock=True)
    order = await _media_order(session, product_id)
    if len(order) >= MAX_PER_PRODUCT:
        raise Conflict(f"a product has at most {MAX_PER_PRODUCT} pictures")
    media_id = new_id("med")
    await session.execute(insert(ProductMedia).values(
        id=media_id, merchant_id=merchant_id, product_id=product_id, asset_id=asset_id, alt=alt,
        position=len(order), created_at=utcnow()))
    await _renumber(session, [*order, media_id], place(order, media_id, position))
    if variant_id:
        await session.execute(insert(VariantMedia).values(variant_id=variant_id, media_id=media_id,
                                                          merchant_id=merchant_id))
    await _changed(session, merchant_id, product_id)
    await session.commit()
    return await _require(session, product_id, media_id)


async def update_media(*, session: AsyncSession, merchant_id: str, product_id: str, media_id: str,
                       patch: MediaPatch) -> dict[str, Any]:
    """Change a picture's alt text, position or variants."""
    await _owned_product(session, merchant_id, product_id, lock=True)
    order = await _media_order(session, product_id)
    if media_id not in order:
        raise NotFound("media", media_id)
    sent = patch.model_dump(exclude_unset=True)
    for field in sent.keys() & {"alt", "position", "variant_ids"}:
        if sent[field] is None:
            raise field_error(field, "cannot be null")
    if "alt" in sent:
        await session.execute(update(ProductMedia).where(ProductMedia.id == media_id)
                              .values(alt=_clean_alt(sent["alt"])))
    if "position" in sent:
        await _renumber(session, order, place(order, media_id, sent["position"]))
    if "variant_ids" in sent:
        variant_ids = list(dict.fromkeys(sent["variant_ids"]))
        await _check_variants(session, product_id, variant_ids, "variant_ids")
        await session.execute(delete(VariantMedia).where(VariantMedia.media_id == media_id))
        if variant_ids:
            await session.execute(insert(VariantMedia), [
                {"variant_id": vid, "media_id": media_id, "merchant_id": merchant_id} for vid in variant_ids])
    await _changed(session, merchant_id, product_id)
    await session.commit()
    return await _require(session, product_id, media_id)


async def set_variant_image(*, session: AsyncSession, merchant_id: str, product_id: str, variant_id: str,
                            media_id: str | None, field: str) -> None:
    """The one product picture that shows a variant (None: none); never commits. `field` names the input."""
    if media_id is not None and await session.scalar(select(ProductMedia.id).where(
            ProductMedia.id == media_id, ProductMedia.product_id == product_id)) is None:
        raise field_error(field, f"{media_id} is not a picture of this product")
    await session.execute(delete(VariantMedia).where(VariantMedia.variant_id == variant_id))
    if media_id is not None:
        await session.execute(insert(VariantMedia).values(variant_id=variant_id, media_id=media_id,
                                                          merchant_id=merchant_id))
    cache.mark_changed(session)


async def delete_media(*, session: AsyncSession, merchant_id: str, product_id: str, media_id: str) -> None:
    """Take a picture off the product (its stored files stay: other uploads may show the same ones)."""
    await _owned_product(session, merchant_id, product_id, lock=True)
    order = await _media_order(session, product_id)
    if media_id not in order:
        raise NotFound("media", media_id)
    await session.execute(delete(VariantMedia).where(VariantMedia.media_id == media_id))
    await session.execute(delete(ProductMedia).where(ProductMedia.id == media_id))
    await _renumber(session, order, [mid for mid in order if mid != media_id])
    await _changed(session, merchant_id, product_id)
    await session.commit()


async def _changed(session: AsyncSession, merchant_id: str, product_id: str) -> None:
    await session.execute(update(Product).where(Product.id == product_id).values(updated_at=utcnow()))
    await events.emit(session, kind="product.updated", merchant_id=merchant_id,
                      payload={"id": product_id, "fields": ["media"]})
    cache.mark_changed(session)


# ---- reads -------------------------------------------------------------------------------------------

_COLUMNS = (ProductMedia.id, ProductMedia.product_id, ProductMedia.alt, ProductMedia.position, MediaAsset.width,
            MediaAsset.height, MediaAsset.thumb_url, MediaAsset.medium_url, MediaAsset.large_url)


def _item(row: Any, variant_ids: list[str]) -> dict[str, Any]:
    """A media item in its public shape (`MediaOut`); app/catalog/listing.py builds the same in SQL."""
    return {"id": row.id, "url": row.large_url, "width": row.width, "height": row.height, "alt": row.alt,
            "position": row.position, "variant_ids": variant_ids,
            "renditions": {"thumb": row.thumb_url, "medium": row.medium_url, "large": row.large_url}}


async def media_of(session: AsyncSession, product_ids: Sequence[str]
                   ) -> tuple[dict[str, list[dict[str, Any]]], dict[str, list[dict[str, Any]]]]:
    """The pictures of these products, in page order: by product id, and by variant id. Two queries."""
    by_product: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_variant: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if not product_ids:
        return by_product, by_variant
    rows = (await session.execute(
        select(*_COLUMNS).join(MediaAsset, MediaAsset.id == ProductMedia.asset_id)
        .where(ProductMedia.product_id.in_(list(product_ids)))
        .order_by(ProductMedia.product_id, ProductMedia.position, ProductMedia.id))).all()
    if not rows:
        return by_product, by_variant
    links: dict[str, list[str]] = defaultdict(list)
    for media_id, variant_id in (await session.execute(
            select(VariantMedia.media_id, VariantMedia.variant_id)
            .where(VariantMedia.media_id.in_([r.id for r in rows])).order_by(VariantMedia.variant_id))).all():
        links[media_id].append(variant_id)
    for row in rows:
        item = _item(row, links[row.id])
        by_product[row.product_id].append(item)
        for variant_id in item["variant_ids"]:
            by_variant[variant_id].append(item)
    return by_product, by_variant


async def _require(session: AsyncSession, product_id: str, media_id: str) -> dict[str, Any]:
    by_product, _ = await media_of(session, [product_id])
    return next(item for item in by_product[product_id] if item["id"] == media_id)
