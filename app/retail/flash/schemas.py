from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, Field

from app.core.money import MAX_AMOUNT
from app.core.schemas import OutSchema, Schema, UtcDatetime
from app.orders.schemas import OrderOut
from app.payments import registry
from app.retail.schemas import Fulfilment

MAX_UNITS = 100_000


class FlashSaleIn(Schema):
    variant_id: str = Field(min_length=1, max_length=40)
    price: int = Field(ge=1, le=MAX_AMOUNT, description="Flash price per unit, fen")
    quantity: int = Field(ge=1, le=MAX_UNITS, description="Units on sale: held from stock when the sale is created")
    per_buyer_limit: int = Field(ge=1, le=MAX_UNITS, description="Units one buyer may buy in this sale")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    campaign_id: str | None = Field(default=None, min_length=1, max_length=60,
                                    description="The campaign (id or slug) whose page shows the sale")


class FlashSaleCreated(OutSchema):
    id: str
    status: str


class FlashSaleOut(OutSchema):
    id: str
    merchant_id: str
    product_id: str
    variant_id: str
    campaign_id: str | None
    title: str
    sku: str
    price: int
    list_price: int
    currency: str
    quantity: int
    remaining: int
    remaining_text: str = Field(description="还剩 3 件 / 已抢光 / 已结束")
    per_buyer_limit: int
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    status: str = Field(description="scheduled | live | sold_out | ended")
    server_time: UtcDatetime = Field(description="The server's clock, for the countdown")
    starts_in_seconds: int = Field(description="Seconds until it opens (0 once open)")
    ends_in_seconds: int = Field(description="Seconds until it ends (0 once ended)")


class FlashSaleStats(FlashSaleOut):
    """The merchant's live view."""

    taken: int = Field(description="Units in orders that are not cancelled")
    paid: int = Field(description="Units in paid (or cash-on-delivery) orders")
    released: int = Field(description="Units of cancelled orders that went back on sale")
    returned: int = Field(description="Units given back to stock when the sale ended")


class FlashOrderIn(Schema):
    quantity: int = Field(default=1, ge=1, le=MAX_UNITS)
    fulfilment: Fulfilment
    payment_method: Annotated[str, *registry.accepts("retail")] = Field(
        description="A way to pay this platform offers (`cod`, `stripe`, ...)")


class FlashOrderOut(OrderOut):
    """The order a flash sale sold, with its payment to make (prepaid methods)."""

    flash_sale_id: str
    payment: dict[str, Any] | None = None
