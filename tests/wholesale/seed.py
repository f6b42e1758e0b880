"""Seed a large wholesale catalogue straight into the database (10,000 variants through the API would take
minutes); stock goes through the inventory service's set-based `load_counts`, so the ledger stays exact."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from app.catalog.models import PriceTier, Product, Variant
from app.core.clock import utcnow
from app.core.ids import new_id
from app.inventory import service as inventory_service

TIERS = ((1, 1_000), (50, 900), (100, 800))  # min_qty -> unit price (fen)
LIST_PRICE = 1_200


def tier_price(quantity: int) -> int:
    return max((t for t in TIERS if t[0] <= quantity), key=lambda t: t[0])[1]


async def catalogue(app: Any, *, merchant_id: str, location_id: str, skus: list[str], not_wholesale: set[str],
                    on_hand: dict[str, int], default_on_hand: int = 1_000) -> dict[str, str]:
    """Variants `skus` (moq 10, pack 5, TIERS) of one active product; returns sku -> variant id."""
    now = utcnow()
    product_id = new_id("prd")
    ids = {sku: new_id("var") for sku in skus}
    async with app.state.sessionmaker() as session:
        await session.execute(insert(Product).values(
            id=product_id, merchant_id=merchant_id, title="散装大米 Bulk rice", description="", category="agri",
            status="active", created_at=now, updated_at=now))
        await session.execute(insert(Variant), [
            {"id": ids[s], "product_id": product_id, "merchant_id": merchant_id, "sku": s, "price": LIST_PRICE,
             "currency": "CNY", "attributes": {}, "wholesale": s not in not_wholesale, "moq": 10, "pack_size": 5,
             "created_at": now} for s in skus])
        await session.execute(insert(PriceTier), [
            {"id": new_id("tier"), "variant_id": ids[s], "min_qty": q, "unit_price": p}
            for s in skus if s not in not_wholesale for q, p in TIERS])
        await inventory_service.load_counts(session, merchant_id=merchant_id, source="test-seed", counts=[
            (location_id, ids[s], on_hand.get(s, default_on_hand)) for s in skus])
        await session.commit()
    return ids
