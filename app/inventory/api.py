from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from app.catalog.schemas import SKU_PATTERN
from app.core.deps import MerchantDep, OptionalPrincipal, SessionDep
from app.core.ids import new_id
from app.inventory import service
from app.inventory.schemas import Availability, StockLevelOut, StockSet
from app.merchants.api import OwnedLocation

router = APIRouter(prefix="/v1", tags=["inventory"])
SkuPath = Annotated[str, Path(pattern=SKU_PATTERN)]


@router.put("/locations/{location_id}/stock/{sku}", response_model=StockLevelOut)
async def set_stock(sku: SkuPath, body: StockSet, location: OwnedLocation, merchant: MerchantDep,
                    session: SessionDep) -> StockLevelOut:
    """Set on_hand to a counted quantity (a receipt or stock-take); the ledger records the difference."""
    level, variant_sku = await service.set_stock_by_sku(
        session, merchant_id=merchant.tenant, location_id=location.id, sku=sku, on_hand=body.on_hand,
        safety_stock=body.safety_stock, source="api", key=new_id("count"))
    return StockLevelOut(location_id=level.location_id, variant_id=level.variant_id, sku=variant_sku,
                         on_hand=level.on_hand, reserved=level.reserved, safety_stock=level.safety_stock,
                         available=max(level.on_hand - level.reserved - level.safety_stock, 0))


@router.get("/inventory/{sku}", response_model=Availability, response_model_exclude_none=True)
async def availability(sku: SkuPath, session: SessionDep, principal: OptionalPrincipal,
                       merchant_id: Annotated[str, Query(max_length=40)]) -> Availability:
    """Available units by location; with the merchant's own key, on_hand, reserved and safety stock too."""
    viewer = principal.merchant_id if principal and principal.kind == "merchant" else None
    data = await service.public_availability(session, sku=sku, merchant_id=merchant_id,
                                             viewer_merchant_id=viewer)
    return Availability.model_validate(data)
