"""Request and response bodies of POS sync, the changes feed and oversell conflicts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from app.catalog.schemas import ANY_SKU_PATTERN
from app.core.clock import aware
from app.core.schemas import Amount, OutSchema, Schema, UtcDatetime

MAX_EVENTS = 10_000
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,99}$"


class PosEventIn(Schema):
    event_id: str = Field(pattern=EVENT_ID_PATTERN, description="Unique per merchant; a repeat is `duplicate`")
    type: Literal["sale", "return", "receive", "adjust", "count"]
    sku: str = Field(pattern=ANY_SKU_PATTERN)
    quantity: int = Field(ge=-100_000, le=100_000,
                         description="Units; signed for `adjust`, the counted on_hand for `count`")
    occurred_at: Annotated[datetime, AfterValidator(aware)] = Field(
        description="When it happened at the till (RFC 3339; no offset means UTC)")
    unit_price: Amount | None = Field(default=None, description="Sale price in fen; default: the variant's price")


class PosUpload(Schema):
    events: list[PosEventIn] = Field(min_length=1, max_length=MAX_EVENTS)


class PosEventResult(OutSchema):
    event_id: str
    status: Literal["applied", "duplicate", "rejected"]
    error: str | None = None


class PosUploadOut(OutSchema):
    results: list[PosEventResult]
    cursor: str = Field(description="A changes-feed cursor from which the levels this upload produced are listed")


class StockChange(OutSchema):
    sku: str
    variant_id: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int = Field(description="What the till may still sell: on_hand - reserved, never below 0")


class ChangesOut(OutSchema):
    changes: list[StockChange]
    cursor: str
    has_more: bool


class ConflictOut(OutSchema):
    id: str
    location_id: str
    variant_id: str
    sku: str
    shortfall: int = Field(description="Units promised online that the store no longer holds")
    status: Literal["open", "resolved"]
    resolution: str | None = None
    order_ids: list[str] = Field(description="Open orders holding stock of this SKU at this location")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    resolved_at: UtcDatetime | None = None


class ConflictResolve(Schema):
    resolution: str = Field(min_length=1, max_length=500, description="What was done, e.g. order cancelled")
