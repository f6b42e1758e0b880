from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from app.catalog.schemas import SKU_PATTERN
from app.core.deps import IdempotencyKey, MerchantDep, SessionDep
from app.inventory.moves import service
from app.inventory.moves.schemas import (
    AdjustIn,
    LowStockOut,
    ThresholdIn,
    ThresholdOut,
    TransferIn,
    TransferOut,
)
from app.inventory.schemas import StockLevelOut
from app.merchants.api import OwnedLocation

router = APIRouter(prefix="/v1", tags=["inventory"])
SkuPath = Annotated[str, Path(pattern=SKU_PATTERN)]


@router.post("/locations/{location_id}/stock/{sku}/adjust", response_model=StockLevelOut)
async def adjust(sku: SkuPath, body: AdjustIn, location: OwnedLocation, merchant: MerchantDep, session: SessionDep,
                 idempotency_key: IdempotencyKey = None) -> StockLevelOut:
    """Move on_hand by a quantity with a reason (damaged, found, returned to supplier ...), kept in the ledger.
    Units promised to orders cannot be taken away (409)."""
    level = await service.adjust(session, merchant_id=merchant.tenant, location_id=location.id, sku=sku,
                                 quantity=body.quantity, reason=body.reason, note=body.note, key=idempotency_key)
    return StockLevelOut.model_validate(level)


@router.put("/locations/{location_id}/stock/{sku}/threshold", response_model=ThresholdOut)
async def set_threshold(sku: SkuPath, body: ThresholdIn, location: OwnedLocation, merchant: MerchantDep,
                        session: SessionDep) -> ThresholdOut:
    """The low-stock threshold of this SKU here: a `stock.low` event when available units reach it."""
    return ThresholdOut.model_validate(await service.set_threshold(
        session, merchant_id=merchant.tenant, location_id=location.id, sku=sku, low_stock=body.low_stock))


@router.get("/stock/low", response_model=list[LowStockOut])
async def low_stock(merchant: MerchantDep, session: SessionDep) -> list[LowStockOut]:
    """SKUs at or below their threshold, by location, lowest first."""
    return [LowStockOut.model_validate(r) for r in await service.list_low(session, merchant_id=merchant.tenant)]


@router.post("/transfers", status_code=201, response_model=TransferOut)
async def create_transfer(body: TransferIn, merchant: MerchantDep, session: SessionDep) -> TransferOut:
    """Send goods to another location: out of the origin now, in transit until received."""
    return TransferOut.model_validate(await service.create_transfer(
        session, merchant_id=merchant.tenant, from_location_id=body.from_location_id,
        to_location_id=body.to_location_id, lines=[(line.sku, line.quantity) for line in body.lines],
        note=body.note))


@router.get("/transfers/{transfer_id}", response_model=TransferOut)
async def get_transfer(transfer_id: str, merchant: MerchantDep, session: SessionDep) -> TransferOut:
    return TransferOut.model_validate(await service.get_transfer(session, merchant_id=merchant.tenant,
                                                                 transfer_id=transfer_id))


@router.post("/transfers/{transfer_id}/receive", response_model=TransferOut)
async def receive_transfer(transfer_id: str, merchant: MerchantDep, session: SessionDep) -> TransferOut:
    """The goods arrived: on hand at the destination."""
    return TransferOut.model_validate(await service.close_transfer(session, merchant_id=merchant.tenant,
                                                                   transfer_id=transfer_id, receive=True))


@router.post("/transfers/{transfer_id}/cancel", response_model=TransferOut)
async def cancel_transfer(transfer_id: str, merchant: MerchantDep, session: SessionDep) -> TransferOut:
    """Called back on the way: on hand at the origin again."""
    return TransferOut.model_validate(await service.close_transfer(session, merchant_id=merchant.tenant,
                                                                   transfer_id=transfer_id, receive=False))
