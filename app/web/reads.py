"""Read-only queries the console pages need and no API exposes in one piece (set-based, tenant-scoped)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Product, Variant
from app.inventory.models import StockLevel
from app.merchants.models import Location


async def stock_table(session: AsyncSession, *, merchant_id: str, limit: int = 500) -> list[dict[str, Any]]:
    """Every stock level of the merchant (SKU × location) with its counts, in one query."""
    rows = (await session.execute(
        select(Variant.sku, Product.title, Location.name, Location.kind, StockLevel.on_hand, StockLevel.reserved,
               StockLevel.safety_stock)
        .join(Variant, Variant.id == StockLevel.variant_id).join(Product, Product.id == Variant.product_id)
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.merchant_id == merchant_id)
        .order_by(Variant.sku, Location.name).limit(limit))).all()
    return [{"sku": r.sku, "title": r.title, "location": r.name, "kind": r.kind, "on_hand": r.on_hand,
             "reserved": r.reserved, "available": max(r.on_hand - r.reserved - r.safety_stock, 0)} for r in rows]
