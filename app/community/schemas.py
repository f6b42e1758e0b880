from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, model_validator

from app.core.schemas import Address, Amount, OutSchema, Schema, UtcDatetime
from app.orders.schemas import OrderOut
from app.payments import registry


class PickupPointIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    address: Address
    leader_name: str = Field(min_length=1, max_length=100)
    leader_phone: str = Field(min_length=3, max_length=30, pattern=r"^\+?[0-9 ()-]{3,30}$")
    commission_rate: int = Field(ge=0, le=10_000, description="Leader commission in basis points (100 = 1 %)")
    location_id: str | None = Field(default=None, max_length=40,
                                    description="An existing pickup_point location; one is created when absent")


class PickupPointOut(OutSchema):
    id: str
    merchant_id: str
    location_id: str
    name: str
    address: Address
    leader_name: str
    leader_phone: str
    commission_rate: int
    created_at: UtcDatetime


class PickupPointCreated(PickupPointOut):
    leader_token: str = Field(description="The leader's bearer token; shown once")


class LeaderTokenOut(OutSchema):
    pickup_point_id: str
    leader_token: str = Field(description="Shown once; earlier leader tokens of this point are revoked")


class GroupBuyIn(Schema):
    variant_id: str = Field(min_length=1, max_length=40)
    price: Amount = Field(description="Group price per unit (fen)")
    min_quantity: int = Field(ge=1, le=1_000_000, description="Units that must be committed for success")
    max_quantity: int = Field(ge=1, le=1_000_000, description="Units held for the group-buy at most")
    closes_at: AwareDatetime
    pickup_date: date
    pickup_point_ids: list[str] | None = Field(default=None, min_length=1, max_length=500,
                                               description="Points it delivers to; all the merchant's when absent")

    @model_validator(mode="after")
    def _bounds(self) -> GroupBuyIn:
        if self.max_quantity < self.min_quantity:
            raise ValueError("max_quantity must be at least min_quantity")
        return self


class GroupBuyOut(OutSchema):
    id: str
    merchant_id: str
    variant_id: str
    sku: str
    title: str
    price: int
    currency: str
    min_quantity: int
    max_quantity: int
    joined_quantity: int
    status: str
    closes_at: UtcDatetime
    pickup_date: date
    pickup_point_ids: list[str]
    closed_at: UtcDatetime | None = None
    committed_quantity: int | None = None
    created_at: UtcDatetime


class JoinIn(Schema):
    quantity: int = Field(ge=1, le=10_000)
    pickup_point_id: str = Field(min_length=1, max_length=40)
    payment_method: Annotated[str, *registry.accepts("community")] = Field(default="cod",
                                                                         description="`cod`: pay at pickup")
    contact_name: str | None = Field(default=None, max_length=100, description="Shown to the leader")
    contact_phone: str | None = Field(default=None, max_length=30, pattern=r"^\+?[0-9 ()-]{3,30}$")


class JoinOut(OrderOut):
    """The community order a join made (the contract's "order"), with its group-buy and payment."""

    group_buy_id: str
    payment: dict[str, Any] | None = Field(default=None, description="Stripe: the client_secret to confirm with")


class CollectIn(Schema):
    pickup_code: str = Field(min_length=4, max_length=12, pattern=r"^[0-9A-Za-z]+$")
    order_id: str | None = Field(default=None, max_length=40, description="Needed only if two orders share a code")


class ManifestItem(OutSchema):
    sku: str
    title: str
    quantity: int


class ManifestOrder(OutSchema):
    order_id: str
    number: str
    group_buy_id: str
    pickup_code: str | None
    status: str
    payment_status: str
    total: int
    items: list[ManifestItem]
    collected_at: UtcDatetime | None = None
    overdue: bool = Field(description="Not collected within the allowed days after the pickup date")


class ManifestCustomer(OutSchema):
    customer_id: str
    contact_name: str | None = None
    contact_phone: str | None = None
    orders: list[ManifestOrder]


class ManifestOut(OutSchema):
    pickup_point_id: str
    date: date
    customers: list[ManifestCustomer]
    totals: list[ManifestItem] = Field(description="Units to expect at the point, per SKU")


class CommissionOut(OutSchema):
    pickup_point_id: str
    period_from: date
    period_to: date
    commission_rate: int
    orders_collected: int
    collected_total: int
    commission: int
    currency: str


class ServiceSlotIn(Schema):
    variant_id: str = Field(min_length=1, max_length=40)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    capacity: int = Field(ge=1, le=10_000)

    @model_validator(mode="after")
    def _order(self) -> ServiceSlotIn:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class ServiceSlotOut(OutSchema):
    id: str
    merchant_id: str
    variant_id: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    capacity: int
    booked: int
    remaining: int


class BookingIn(Schema):
    payment_method: Annotated[str, *registry.accepts("community")] = "cod"
    address: Address | None = Field(default=None, description="Where the service is done (home services)")
    note: str | None = Field(default=None, max_length=500)


class BookingOut(OrderOut):
    """The community order a booking made, with its slot and payment."""

    slot_id: str
    payment: dict[str, Any] | None = None
