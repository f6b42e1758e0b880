from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.catalog.schemas import SKU_PATTERN
from app.core.schemas import OutSchema, Schema, UtcDatetime

Reason = Literal["damaged", "found", "returned_to_supplier", "shrinkage", "correction", "other"]


class AdjustIn(Schema):
    quantity: int = Field(ge=-10**9, le=10**9, description="Units in (+) or out (-) of on_hand")
    reason: Reason
    note: str = Field(default="", max_length=60, pattern=r"^[^\x00-\x1f]*$")

    @model_validator(mode="after")
    def _moves(self) -> AdjustIn:
        if self.quantity == 0:
            raise ValueError("quantity cannot be 0")
        return self


class TransferLineIn(Schema):
    sku: str = Field(pattern=SKU_PATTERN)
    quantity: int = Field(ge=1, le=10**9)


class TransferIn(Schema):
    from_location_id: str = Field(max_length=40)
    to_location_id: str = Field(max_length=40)
    lines: list[TransferLineIn] = Field(min_length=1, max_length=500)
    note: str = Field(default="", max_length=500, pattern=r"^[^\x00]*$")

    @model_validator(mode="after")
    def _distinct(self) -> TransferIn:
        skus = [line.sku for line in self.lines]
        if len(set(skus)) != len(skus):
            raise ValueError("each SKU once")
        return self


class TransferLineOut(OutSchema):
    sku: str
    quantity: int


class TransferOut(OutSchema):
    id: str
    from_location_id: str
    to_location_id: str
    status: str = Field(description="in_transit | received | cancelled")
    note: str
    lines: list[TransferLineOut]
    created_at: UtcDatetime
    closed_at: UtcDatetime | None = None


class ThresholdIn(Schema):
    low_stock: int | None = Field(ge=0, le=10**9, description="At or below this many available units the SKU is "
                                  "low here (a stock.low event); null: no threshold")


class ThresholdOut(OutSchema):
    location_id: str
    sku: str
    low_stock: int | None


class LowStockOut(OutSchema):
    sku: str
    variant_id: str
    location_id: str
    available: int
    low_stock: int
