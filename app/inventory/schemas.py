from __future__ import annotations

from pydantic import Field

from app.core.schemas import OutSchema, Schema

MAX_ON_HAND = 10**9  # units of a SKU one location may hold; a till's receipt that would pass it is refused


class StockSet(Schema):
    on_hand: int = Field(ge=0, le=MAX_ON_HAND, description="Counted quantity at this location")
    safety_stock: int | None = Field(default=None, ge=0, le=MAX_ON_HAND, description="Kept back from online sale")


class StockLevelOut(OutSchema):
    location_id: str
    variant_id: str
    sku: str
    on_hand: int
    reserved: int
    safety_stock: int
    available: int


class LocationAvailability(OutSchema):
    location_id: str
    name: str
    kind: str
    available: int
    on_hand: int | None = None
    reserved: int | None = None
    safety_stock: int | None = None
    online_stock_held: bool | None = Field(default=None, description="The store's till is out of touch: its "
                                           "stock is not offered online until it syncs (owner only)")


class Availability(OutSchema):
    sku: str
    variant_id: str
    available: int
    locations: list[LocationAvailability]
