from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from app.core.schemas import Address, Amount, OutSchema, Schema, UtcDatetime
from app.payments import registry

MAX_LINES = 10_000
Mode = Literal["all_or_nothing", "partial"]
PaymentKind = Annotated[str, *registry.accepts("wholesale")]


class BuyerCreate(Schema):
    name: str = Field(min_length=1, max_length=200)
    credit_limit: Amount = 0
    payment_terms_days: int = Field(default=30, ge=0, le=365, description="Net N days")


class BuyerCreated(OutSchema):
    id: str
    token: str


class BuyerTokenOut(OutSchema):
    buyer_id: str
    token: str


class BuyerOut(OutSchema):
    id: str
    merchant_id: str
    name: str
    credit_limit: int
    credit_used: int
    open_credit: int
    payment_terms_days: int
    currency: str
    created_at: UtcDatetime


class BuyerPriceIn(Schema):
    sku: str = Field(min_length=1, max_length=64)
    min_qty: int = Field(default=1, ge=1, le=10**9)
    unit_price: Amount


class BuyerPricesIn(Schema):
    prices: list[BuyerPriceIn] = Field(max_length=10_000, description="Replaces the buyer's whole price list")


class BuyerPriceOut(OutSchema):
    sku: str
    variant_id: str
    min_qty: int
    unit_price: int


class BuyerPricesOut(OutSchema):
    buyer_id: str
    prices: list[BuyerPriceOut]


class OrderLineIn(Schema):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000_000)


class WholesaleOrderIn(Schema):
    merchant_id: str = Field(min_length=1, max_length=40)
    mode: Mode = "all_or_nothing"
    payment: PaymentKind = "terms"
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)
    ship_to: Address | None = None


class LineResult(OutSchema):
    row: int
    sku: str
    quantity: int | None
    unit_price: int | None = None
    total: int | None = None
    status: Literal["accepted", "rejected"]
    error: str | None = None
    error_code: str | None = None


class WholesaleOrderOut(OutSchema):
    order: dict[str, Any]
    lines: list[LineResult]
    accepted: int
    rejected: int
    due_at: str | None = None
    payment: dict[str, Any] | None = None


class ReorderIn(Schema):
    mode: Mode = "partial"
    payment: PaymentKind | None = None


class QuoteLineIn(Schema):
    sku: str = Field(min_length=1, max_length=64)
    quantity: int = Field(ge=1, le=10_000_000)


class QuoteCreate(Schema):
    merchant_id: str = Field(min_length=1, max_length=40)
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=1_000)


class QuotePriceIn(Schema):
    sku: str = Field(min_length=1, max_length=64)
    unit_price: Amount


class QuoteResponseIn(Schema):
    lines: list[QuotePriceIn] = Field(min_length=1, max_length=1_000)
    valid_until: datetime


class QuoteAcceptIn(Schema):
    payment: PaymentKind = "terms"


class QuoteLineOut(OutSchema):
    sku: str
    quantity: int
    unit_price: int | None


class QuoteOut(OutSchema):
    id: str
    merchant_id: str
    buyer_id: str
    status: str
    valid_until: UtcDatetime | None
    order_id: str | None
    lines: list[QuoteLineOut]
    created_at: UtcDatetime
