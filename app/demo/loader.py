"""`shop demo`: load the demo data set through the services, idempotently, with a progress bar."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import service as catalog_service
from app.catalog.models import Variant
from app.catalog.schemas import ProductCreate
from app.config import Settings
from app.core import auth
from app.core.logging import get_logger
from app.db import make_engine, make_sessionmaker
from app.demo import data
from app.inventory import service as inventory_service
from app.merchants import service as merchant_service
from app.merchants.models import Merchant
from app.merchants.schemas import LocationCreate, MerchantCreate
from app.trust import service as trust_service
from app.trust.schemas import SellerProfileIn

log = get_logger("app.demo")
CREDENTIALS = Path("var/demo-credentials.json")


async def _merchant(session: AsyncSession, spec: data.MerchantSpec, creds: dict[str, Any]) -> Merchant:
    merchant = await session.scalar(select(Merchant).where(Merchant.contact_email == spec.contact_email))
    if merchant is None:
        merchant, key = await merchant_service.sign_up(session=session, merchant_in=MerchantCreate(
            name=spec.name, kind=spec.kind, licence_no=spec.licence_no, icp_no=spec.icp_no,
            contact_email=spec.contact_email))
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
    current = await trust_service.get_seller_profile(session=session, merchant_id=merchant.id)
    if current is None or current.trading_model != spec.trading_model:
        await trust_service.set_seller_profile(session=session, settings=settings, merchant_id=merchant.id,
                                               profile_in=SellerProfileIn(trading_model=spec.trading_model))
    await session.commit()


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
    specs = data.merchants()
    total = sum(len(s.products) for s in specs)
    created = 0
    try:
        with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn()) as progress:
            task = progress.add_task("demo products", total=total)
            for spec in specs:
                async with factory() as session:
                    merchant = await _merchant(session, spec, creds)
                    await _trading_model(session, settings, merchant, spec)
                    locations = await _locations(session, merchant, spec)
                    existing = set((await session.scalars(
                        select(Variant.sku).where(Variant.merchant_id == merchant.id))).all())
                    for p in spec.products:
                        progress.update(task, description=f"{spec.name}")
                        if p.variants[0].sku not in existing:
                            await catalog_service.create_product(session=session, merchant_id=merchant.id,
                                                                 product_in=_product_in(p))
                            created += 1
                        progress.advance(task)
                    variants = dict((await session.execute(
                        select(Variant.sku, Variant.id).where(Variant.merchant_id == merchant.id))).all())
                    counts = [(loc_id, variants[v.sku], data.stock_for(spec.key, loc.code, v.sku))
                              for loc in spec.locations if loc.kind in ("warehouse", "store")
                              for loc_id in [locations[loc.code]]
                              for p in spec.products if p.category != "services" for v in p.variants]
                    await inventory_service.load_counts(session, merchant_id=merchant.id, counts=counts,
                                                        source="demo")
                    await session.commit()
    finally:
        await engine.dispose()
    summary = {"merchants": len(specs), "products": total, "created_products": created,
               "credentials": str(CREDENTIALS)}
    log.info("demo_loaded", **summary)
    return summary
