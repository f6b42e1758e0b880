from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from app.core.schemas import OutSchema, Schema


class OrderLineOut(OutSchema):
    id: str
    variant_id: str
    product_id: str
    sku: str
    title: str
    quantity: int
    unit_price: int
    discount: int
    total: int
    returned_quantity: int


class ShipmentOut(OutSchema):
    id: str
    carrier: str
    tracking_no: str
    created_at: str


class OrderOut(OutSchema):
    id: str
    number: str
    merchant_id: str
    channel: Literal["retail", "wholesale", "community", "pos"]
    status: str
    payment_method: str
    payment_status: str
    lines: list[OrderLineOut]
    subtotal: int
    discount: int
    shipping: int
    total: int
    refunded: int
    currency: str
    fulfilment: dict[str, Any]
    pickup_code: str | None = None
    promotion_code: str | None = None
    email: str | None = None
    customer_id: str | None = None
    buyer_id: str | None = None
    hold_expires_at: str | None = None
    created_at: str
    paid_at: str | None = None
    shipped_at: str | None = None
    delivered_at: str | None = None
    completed_at: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    shipments: list[ShipmentOut] = Field(default_factory=list)


class OrderPage(OutSchema):
    items: list[OrderOut]
    next_cursor: str | None = None


class CancelIn(Schema):
    reason: str = Field(default="requested", max_length=200)


class ShipmentIn(Schema):
    carrier: str = Field(min_length=1, max_length=60)
    tracking_no: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9-]+$")


class CollectIn(Schema):
    pickup_code: str = Field(min_length=4, max_length=12, pattern=r"^[0-9A-Za-z]+$")


class ReturnLineIn(Schema):
    variant_id: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=100_000)


class ReturnIn(Schema):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    reason: str = Field(default="七天无理由退货 no-reason return", max_length=500)


class ReturnOut(OutSchema):
    id: str
    order_id: str
    status: str
    amount: int
    currency: str
    lines: list[dict[str, Any]]
    reason: str
    created_at: str
