from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from app.core.schemas import OutSchema, Schema
from app.orders.rules import Channel


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
    listing_revision_id: str | None = Field(
        default=None, description="The listing as it was sold: `GET /v1/listing-revisions/{id}`")
    return_class: str = Field(default="standard", description="The listing's return class when it was bought")
    return_reason: str | None = None
    return_exclusion_confirmed_at: str | None = Field(
        default=None, description="When the buyer confirmed at checkout that this `confirm_required` item is "
                                  "excluded from no-reason returns")


class ShipmentOut(OutSchema):
    id: str
    carrier: str
    tracking_no: str
    created_at: str


class CancelProposalOut(OutSchema):
    code: str
    proposed_at: str


class OrderOut(OutSchema):
    id: str
    number: str
    merchant_id: str
    channel: Channel
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
    promised_ship_by: str | None = Field(default=None, description="The merchant promised to dispatch by then (C28)")
    promised_delivery_by: str | None = Field(default=None, description="... and to deliver by then")
    signed_at: str | None = Field(default=None, description="When the parcel was signed for: the delivery time; the "
                                  "7-day return window starts the next day (Asia/Shanghai)")
    signed_source: Literal["carrier", "buyer", "auto"] | None = Field(
        default=None, description="Who said so: the carrier's tracking, the buyer, or automatically after "
        "SHOP_AUTO_CONFIRM_DAYS")
    late_shipment: bool = Field(default=False, description="Shipped after promised_ship_by, or not shipped by it")
    completed_at: str | None = None
    cancelled_at: str | None = None
    cancel_reason: str | None = None
    shipments: list[ShipmentOut] = Field(default_factory=list)
    terms_version: str | None = Field(default=None, description="The order terms agreed at checkout "
                                      "(GET /v1/orders/{id}/terms)")
    seller_cancel_code: str | None = Field(default=None, description="Cancelled by the merchant alone after "
                                           "payment, under this code (counts against its credit)")
    cancel_proposal: CancelProposalOut | None = Field(default=None, description="The merchant's proposal to "
                                                      "cancel, waiting for the buyer")


class SellerContactOut(OutSchema):
    """Who sold the order, as on the seller's verified record (C35)."""

    order_id: str
    merchant_id: str
    legal_name: str = Field(description="The name on the business licence (or the registered individual's)")
    kind: str = Field(description="enterprise | individual")
    legal_representative: str | None = Field(description="法定代表人, or the operator of an individual business")
    registered_address: str | None
    contact_phone: str | None
    contact_email: str


class OrderPage(OutSchema):
    items: list[OrderOut]
    next_cursor: str | None = None


class CancelIn(Schema):
    reason: str = Field(default="requested", max_length=200)
    code: str | None = Field(default=None, max_length=40, description="Merchant, paid order: a published reason "
                             "(see the order terms: out_of_stock, undeliverable_address, price_error, "
                             "buyer_request, force_majeure); without one the merchant gets 409")
    refund_now: bool = Field(default=False, description="Merchant, paid order: cancel and refund at once (counts "
                             "against the merchant's credit); otherwise the buyer is asked to accept")


class ShipmentIn(Schema):
    carrier: str = Field(min_length=1, max_length=60, description="A code from GET /v1/carriers (SF, ZTO, ...)")
    tracking_no: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9-]+$")


class CollectIn(Schema):
    pickup_code: str = Field(min_length=4, max_length=12, pattern=r"^[0-9A-Za-z]+$")


class ReturnLineIn(Schema):
    variant_id: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=100_000)


ReturnKind = Literal["no_reason", "quality"]
RejectionCode = Literal["hygiene_seal_broken", "electronics_activated_or_modified", "tags_removed_or_soiled"]
PhotoUrl = Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://[^\s]+$")]


class ReturnIn(Schema):
    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    reason: str = Field(default="七天无理由退货 no-reason return", max_length=500)
    kind: ReturnKind = Field(default="no_reason", description=(
        "`no_reason`: the 7-day no-reason return (the buyer pays return shipping unless the seller promised "
        "otherwise); `quality`: a quality problem (the seller pays; 15 days after delivery, no exclusions)"))


class ReturnReceiptIn(Schema):
    goods_condition: Literal["as_new", "not_as_new"] = Field(default="as_new", description=(
        "`as_new`: the goods go back on sale as they were (a 7-day no-reason return comes back intact); "
        "`not_as_new`: they cannot be restored to new, and their SKU sells again only once it carries a "
        "condition label (二次销售 or 瑕疵)"))


class ReturnRejectIn(Schema):
    code: RejectionCode = Field(description="What inspection found (R7 art. 9)")
    evidence: list[PhotoUrl] = Field(min_length=1, max_length=20, description="Photo URLs, at least one")
    note: str | None = Field(default=None, max_length=500)


class ReturnEventOut(OutSchema):
    status: str
    actor: str
    note: str | None = None
    at: str


class ReturnOut(OutSchema):
    id: str
    order_id: str
    status: str
    amount: int = Field(description="Money back through the payment method")
    currency: str
    lines: list[dict[str, Any]]
    reason: str
    created_at: str
    kind: str = "no_reason"
    coupon_amount: int = Field(default=0, description="The coupon's share of the returned goods (not paid out)")
    shipping_payer: str = "buyer"
    refund_on: str = "request"
    return_address: dict[str, Any] | None = None
    requested_at: str | None = None
    received_at: str | None = None
    goods_condition: Literal["as_new", "not_as_new"] | None = Field(
        default=None, description="As the seller received the goods: not_as_new ones sell again only under a "
                                  "condition label (二次销售 or 瑕疵)")
    refund_due_at: str | None = None
    refunded_at: str | None = None
    rejected_at: str | None = None
    rejection_code: str | None = None
    evidence: list[str] = Field(default_factory=list)
    escalated: bool = Field(default=False, description="Unsettled 7 days after the goods came back: the "
                                                       "platform steps in")
    alert: bool = Field(default=False, description="Unsettled past 15 days: a breach of R7 art. 31")
    disputed_at: str | None = Field(default=None, description="The buyer disputed the rejection: the platform "
                                    "mediates")
    dispute_reason: str | None = None
    mediation_due_at: str | None = Field(default=None, description="The platform decides by then (working days)")
    mediation_outcome: Literal["refund", "rejection_upheld"] | None = None
    mediation_note: str | None = None
    history: list[ReturnEventOut] = Field(default_factory=list)


class ReturnDisputeIn(Schema):
    reason: str = Field(min_length=1, max_length=500, description="Why the seller's rejection is wrong")


class MediationIn(Schema):
    outcome: Literal["refund", "rejection_upheld"]
    note: str = Field(min_length=1, max_length=500, description="The platform's reasons, shown to both sides")


class MediationItem(OutSchema):
    return_id: str
    order_id: str
    order_number: str
    merchant_id: str
    amount: int
    currency: str
    reason: str
    rejection_code: str | None
    evidence: list[str]
    dispute_reason: str | None
    disputed_at: str | None
    mediation_due_at: str | None
    overdue: bool


class MediationPage(OutSchema):
    items: list[MediationItem]


class ReturnPage(OutSchema):
    items: list[ReturnOut]
    next_cursor: str | None = None
