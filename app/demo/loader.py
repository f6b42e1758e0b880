"""`shop demo`: load the demo data set through the services, idempotently, with a progress bar."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.concurrency import run_in_threadpool

from app.catalog import service as catalog_service
from app.catalog.media import service as media_service
from app.catalog.media import storage as media_storage
from app.catalog.media.storage.base import MediaStorage
from app.catalog.models import Product, Variant
from app.catalog.schemas import ProductCreate
from app.config import Settings
from app.core import auth
from app.core.clock import SHANGHAI, as_utc, utcnow
from app.core.logging import get_logger
from app.db import make_engine, make_sessionmaker
from app.demo import data, history, pictures
from app.inventory import service as inventory_service
from app.merchants import service as merchant_service
from app.merchants.models import Merchant
from app.merchants.schemas import LocationCreate, MerchantCreate
from app.retail import service as retail_service
from app.retail.campaigns import service as campaigns_service
from app.retail.campaigns.models import Campaign
from app.retail.campaigns.schemas import CampaignIn, CampaignJoin
from app.retail.models import Promotion
from app.retail.schemas import PromotionIn
from app.trust import sellers as trust_sellers
from app.trust.schemas import SellerProfileIn

log = get_logger("app.demo")
CREDENTIALS = Path("var/demo-credentials.json")
FESTIVAL_SLUG = "nianhuo"
FESTIVAL_MERCHANTS = ("apparel", "fresh", "homeapp", "farm")  # the B2C shops and the farmer put goods in the fair


async def _merchant(session: AsyncSession, spec: data.MerchantSpec, creds: dict[str, Any]) -> Merchant:
    merchant = await session.scalar(select(Merchant).where(Merchant.contact_email == spec.contact_email))
    if merchant is None:
        merchant, key = await merchant_service.sign_up(session=session, merchant_in=MerchantCreate(
            name=spec.name, kind=spec.kind, licence_no=spec.licence_no, icp_no=spec.icp_no,
            contact_email=spec.contact_email,
            id_number_consent=True))  # the demo's individual sellers ticked the separate ID-number consent
        creds[spec.key] = {"merchant_id": merchant.id, "api_key": key, "name": spec.name}
    elif spec.key not in creds:
        key = await auth.create_token(session, kind="merchant", merchant_id=merchant.id, subject_id=merchant.id,
                                      label="demo key")
        await session.commit()
        creds[spec.key] = {"merchant_id": merchant.id, "api_key": key, "name": spec.name}
    if merchant.status != "active":
        merchant = await merchant_service.set_status(session=session, merchant_id=merchant.id, status="active",
                                                     reason="demo data")
    return merchant


async def _locations(session: AsyncSession, merchant: Merchant, spec: data.MerchantSpec) -> dict[str, str]:
    have = {loc.code: loc.id for loc in await merchant_service.list_locations(session=session,
                                                                             merchant_id=merchant.id)}
    for loc in spec.locations:
        if loc.code not in have:
            created = await merchant_service.create_location(session=session, merchant_id=merchant.id,
                                                             location_in=LocationCreate.model_validate({
                                                                 "code": loc.code, "name": loc.name,
                                                                 "kind": loc.kind,
                                                                 "address": asdict(loc.address)}))
            have[loc.code] = created.id
    return have


async def _trading_model(session: AsyncSession, settings: Settings, merchant: Merchant,
                         spec: data.MerchantSpec) -> None:
    """Each demo merchant trades under one of the SB/T 10518 models, so the demo shows all five."""
    current = await trust_sellers.get_seller_profile(session=session, merchant_id=merchant.id)
    if (current is None or current.trading_model != spec.trading_model
            or (spec.self_declaration and current.self_declaration != spec.self_declaration)):
        await trust_sellers.set_seller_profile(session=session, settings=settings, merchant_id=merchant.id,
                                               profile_in=SellerProfileIn.model_validate({
                                                   "trading_model": spec.trading_model,
                                                   "self_declaration": spec.self_declaration}))
    await session.commit()


async def _festival(session: AsyncSession, merchant_ids: dict[str, str]) -> bool:
    """A platform festival campaign in progress, with the B2C merchants' products and a coupon each. A new one
    only when none of the demo's is live any more (each lasts 30 days from the day it was loaded); joining adds
    only what is missing, so a second run changes nothing. True when a campaign was created."""
    now = utcnow()
    live = await session.scalar(select(Campaign).where(Campaign.slug.like(f"{FESTIVAL_SLUG}-%"),
                                                       Campaign.merchant_id.is_(None), Campaign.ends_at > now)
                                .order_by(Campaign.starts_at.desc()).limit(1))
    if live is not None:
        campaign_id, start, end, created = live.id, as_utc(live.starts_at), as_utc(live.ends_at), False
    else:
        start = datetime.combine(now.astimezone(SHANGHAI).date(), time(0), SHANGHAI)
        end = start + timedelta(days=30)
        made = await campaigns_service.create_campaign(session=session, merchant_id=None, body=CampaignIn(
            slug=f"{FESTIVAL_SLUG}-{start:%Y%m%d}", title="网上年货节 Online New-Year Goods Fair",
            headline="年货上网，线上线下同价；社区自提，门店同享。", starts_at=start, ends_at=end))
        campaign_id, created = made["id"], True
    for key in FESTIVAL_MERCHANTS:
        merchant_id = merchant_ids[key]
        code = f"NIANHUO{start.astimezone(SHANGHAI):%m%d}"
        if await session.scalar(select(Promotion.id).where(Promotion.merchant_id == merchant_id,
                                                           Promotion.code == code)) is None:
            await retail_service.create_promotion(session=session, merchant_id=merchant_id, body=PromotionIn(
                code=code, kind="percent", value=10, channels=["online", "store"], starts_at=start, ends_at=end))
        products = (await session.scalars(select(Product.id).where(Product.merchant_id == merchant_id,
                                                                   Product.status == "active")
                                          .order_by(Product.created_at, Product.id).limit(12))).all()
        await campaigns_service.join_campaign(session=session, merchant_id=merchant_id, campaign_ref=campaign_id,
                                              body=CampaignJoin(product_ids=list(products), promotion_codes=[code]))
    return created


async def _pictures(session: AsyncSession, storage: MediaStorage, limits: media_service.Limits, merchant_id: str,
                    spec: data.MerchantSpec) -> int:
    """Drawn pictures for the merchant's products that have none: one per colour (showing that colour's
    variants), or one for the product. Products of one kind and colour share a picture. Returns how many
    products got pictures."""
    variants = {r.sku: (r.id, r.product_id) for r in (await session.execute(
        select(Variant.sku, Variant.id, Variant.product_id).where(Variant.merchant_id == merchant_id))).all()}
    product_of = {i: variants[p.variants[0].sku][1] for i, p in enumerate(spec.products)
                  if p.variants[0].sku in variants}
    counts = await media_service.picture_counts(session=session, product_ids=list(product_of.values()))
    wanted: list[tuple[str, pictures.Sketch, str, tuple[str, ...]]] = []
    for i, product_id in product_of.items():
        if counts.get(product_id):
            continue
        p = spec.products[i]
        code = p.variants[0].sku.split("-")[1]
        by_colour: dict[str | None, list[str]] = {}
        for v in p.variants:
            by_colour.setdefault(v.attributes.get("colour"), []).append(variants[v.sku][0])
        for colour, ids in by_colour.items():
            wanted.append((product_id, pictures.sketch_for(p.category, code, colour),
                           f"{p.title} {colour}" if colour else p.title, tuple(ids) if colour else ()))
    if not wanted:
        return 0
    sketches = list(dict.fromkeys(w[1] for w in wanted))
    files = await run_in_threadpool(lambda: [pictures.draw(s) for s in sketches])
    asset_of = dict(zip(sketches, await media_service.store_pictures(session=session, storage=storage,
                                                                     limits=limits, files=files), strict=True))
    await media_service.attach(session=session, merchant_id=merchant_id, attachments=[
        media_service.Attachment(product_id, asset_of[sketch], alt[:500], ids)
        for product_id, sketch, alt, ids in wanted])
    await session.commit()
    return len({w[0] for w in wanted})


def _product_in(p: data.ProductSpec) -> ProductCreate:
    return ProductCreate.model_validate({
        "title": p.title, "category": p.category, "description": p.description, "status": p.status,
        "variants": [{"sku": v.sku, "price": v.price, "attributes": v.attributes,
                      "wholesale": asdict(v.wholesale) if v.wholesale else None} for v in p.variants]})


def read_credentials() -> dict[str, Any]:
    return dict(json.loads(CREDENTIALS.read_text())) if CREDENTIALS.exists() else {}


def write_credentials(creds: dict[str, Any]) -> None:
    CREDENTIALS.parent.mkdir(parents=True, exist_ok=True)
    CREDENTIALS.write_text(json.dumps(creds, ensure_ascii=False, indent=2))


async def load_demo(settings: Settings, creds: dict[str, Any]) -> dict[str, Any]:
    """Create what is missing of the demo set; a second run changes nothing. `creds` gains new API keys."""
    engine = make_engine(settings.database_url, pool_size=2)
    factory = make_sessionmaker(engine)
    storage = media_storage.from_settings(settings)
    limits = media_service.Limits(settings.shop_media_max_bytes, settings.shop_media_max_pixels)
    specs = data.merchants()
    total = sum(len(s.products) for s in specs)
    created = past_orders = 0
    merchant_ids: dict[str, str] = {}
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn()) as progress:
            task = progress.add_task("demo products", total=total)
            for spec in specs:
                async with factory() as session:
                    merchant = await _merchant(session, spec, creds)
                    merchant_ids[spec.key] = merchant.id
                    await _trading_model(session, settings, merchant, spec)
                    locations = await _locations(session, merchant, spec)
                    existing = set((await session.scalars(
                        select(Variant.sku).where(Variant.merchant_id == merchant.id))).all())
                    progress.update(task, description=f"{spec.name}")
                    missing = [_product_in(p) for p in spec.products if p.variants[0].sku not in existing]
                    await catalog_service.insert_products(session=session, merchant_id=merchant.id,
                                                          products_in=missing)
                    await session.commit()
                    created += len(missing)
                    progress.advance(task, len(spec.products))
                    variants = dict((await session.execute(
                        select(Variant.sku, Variant.id).where(Variant.merchant_id == merchant.id))).all())
                    counts = [(loc_id, variants[v.sku], data.stock_for(spec.key, loc.code, v.sku))
                              for loc in spec.locations if loc.kind in ("warehouse", "store")
                              for loc_id in [locations[loc.code]]
                              for p in spec.products if p.category != "services" for v in p.variants]
                    await inventory_service.load_counts(session, merchant_id=merchant.id, counts=counts,
                                                        source="demo")
                    await session.commit()
                    progress.update(task, description=f"{spec.name}: 60 天销售 past sales")
                    past_orders += await history.load_history(session, merchant_id=merchant.id, spec=spec,
                                                              locations=locations)
                    await session.commit()
                    progress.update(task, description=f"{spec.name}: 图片 pictures")
                    await _pictures(session, storage, limits, merchant.id, spec)
        async with factory() as session:
            festival = await _festival(session, merchant_ids)
    finally:
        await engine.dispose()
    summary = {"merchants": len(specs), "products": total, "created_products": created,
               "festival_created": festival, "past_orders": past_orders, "credentials": str(CREDENTIALS)}
    log.info("demo_loaded", **summary)
    return summary
