"""The order core: one Order for every channel, its lines, shipments, returns, payments and refunds."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base


def _only_set(name: str, *columns: str, when: str | None = None) -> Index:
    """An index of the rows whose `when` column (the first column by default) is set."""
    where = text(f"{when or columns[0]} IS NOT NULL")
    return Index(name, *columns, postgresql_where=where, sqlite_where=where)


class Order(Base):
    __tablename__ = "sales_order"
    __table_args__ = (
        Index("ix_sales_order_merchant_id_id", "merchant_id", "id"),
        # Partial: a guest's cash-on-delivery order has no customer, buyer, payment or hold, and writes none
        # of these four. Every query on them compares the column, which implies it is not NULL.
        _only_set("ix_sales_order_customer_id_id", "customer_id", "id"),
        _only_set("ix_sales_order_buyer_id", "buyer_id"),
        _only_set("ix_sales_order_payment_id", "payment_id"),
        _only_set("ix_sales_order_hold", "status", "hold_expires_at", when="hold_expires_at"),
        # Shipped parcels nobody signed for yet, oldest first: the automatic confirmation's claim.
        _only_set("ix_sales_order_unsigned", "status", "shipped_at", when="shipped_at"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    channel: Mapped[str] = mapped_column(String(20))  # retail | wholesale | community | pos
    status: Mapped[str] = mapped_column(String(20))
    payment_method: Mapped[str] = mapped_column(String(20))  # stripe | cod | terms | ...
    payment_status: Mapped[str] = mapped_column(String(20), default="unpaid")
    checkout_id: Mapped[str] = mapped_column(String(40))  # not indexed: no query looks orders up by it
    payment_id: Mapped[str | None] = mapped_column(String(40))
    customer_id: Mapped[str | None] = mapped_column(String(40))
    buyer_id: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal: Mapped[int] = mapped_column(BigInteger)
    discount: Mapped[int] = mapped_column(BigInteger, default=0)
    shipping: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger)
    refunded: Mapped[int] = mapped_column(BigInteger, default=0)
    promotion_code: Mapped[str | None] = mapped_column(String(40))
    fulfilment: Mapped[dict[str, Any]]
    pickup_location_id: Mapped[str | None] = mapped_column(String(40))
    pickup_code: Mapped[str | None] = mapped_column(String(12))
    hold_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(String(200))
    coupon_released_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # its coupon use given back
    # The merchant's delivery promise (C28): dispatch by, delivered by (from payment; from placing when not prepaid).
    promised_ship_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    promised_delivery_by: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When the parcel was signed for, and who said so: carrier (a tracking push), buyer, or auto (after
    # SHOP_AUTO_CONFIRM_DAYS). Signing is the delivery: delivered_at is set to the same time.
    signed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    signed_source: Mapped[str | None] = mapped_column(String(10))
    terms_version: Mapped[str | None] = mapped_column(String(20))  # the order terms shown at checkout (C15)
    # A paid order the merchant cancelled alone, refunding at once, under this published code: counts against its
    # credit. A coded proposal the buyer may accept instead is kept in `cancel_proposal_*` until answered.
    seller_cancel_code: Mapped[str | None] = mapped_column(String(40))
    cancel_proposal_code: Mapped[str | None] = mapped_column(String(40))
    cancel_proposed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LegalHold(Base):
    """A closed account's name, phone, e-mail and address, taken out of one of its orders (C20): kept only for the
    records export and the regulator, until the hold ends (`app/orders/legal_hold.py`), then purged."""

    __tablename__ = "legal_hold"
    __table_args__ = (UniqueConstraint("order_id", name="uq_legal_hold_order_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"))
    customer_id: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]]  # {"name", "phone", "email", "address"}
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OrderLine(Base):
    __tablename__ = "order_line"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[str] = mapped_column(String(40))
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    returnable: Mapped[bool] = mapped_column(default=True)
    quantity: Mapped[int] = mapped_column(Int64)
    unit_price: Mapped[int] = mapped_column(BigInteger)  # snapshot at checkout
    discount: Mapped[int] = mapped_column(BigInteger, default=0)  # this line's share of the order discount
    total: Mapped[int] = mapped_column(BigInteger)  # quantity × unit_price − discount
    returned_quantity: Mapped[int] = mapped_column(Int64, default=0)
    listing_revision_id: Mapped[str | None] = mapped_column(String(40))  # the listing as sold (C11, C25)
    # The listing's return class at checkout (app/catalog/returns.py), and when the buyer confirmed that a
    # `confirm_required` item cannot be returned without reason (C30).
    return_class: Mapped[str] = mapped_column(String(30), default="standard", server_default="standard")
    return_reason: Mapped[str | None] = mapped_column(String(40))
    return_exclusion_confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Shipment(Base):
    __tablename__ = "shipment"
    __table_args__ = (Index("ix_shipment_tracking_no", "tracking_no"),)  # a carrier's push names only the number

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    carrier: Mapped[str] = mapped_column(String(60))
    tracking_no: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReturnRequest(Base):
    """A return of some of an order's units (C29–C34).

    Status: refund on request (the default promise) goes straight to `refunded` (`refund_pending` while the
    provider has not confirmed); refund on receipt goes `awaiting_goods` → `received` → `refunded` (approved,
    or automatically at `refund_due_at`) or `rejected` (a coded R7 art. 9 finding with photos).
    """

    __tablename__ = "order_return"
    __table_args__ = (Index("ix_order_return_status_refund_due_at", "status", "refund_due_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500))
    lines: Mapped[dict[str, Any]]  # {"items": [{variant_id, sku, quantity, amount, coupon}]}
    amount: Mapped[int] = mapped_column(BigInteger)  # money back through the payment method
    coupon_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # the coupon's share
    status: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20), default="no_reason", server_default="no_reason")  # | quality
    shipping_payer: Mapped[str] = mapped_column(String(10), default="buyer", server_default="buyer")  # | seller
    refund_on: Mapped[str] = mapped_column(String(10), default="request", server_default="request")  # | receipt
    return_address: Mapped[dict[str, Any] | None]  # {"address": {...}, "email": ...} from the seller, at request
    requested_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refund_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refunded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refund_id: Mapped[str | None] = mapped_column(String(40), index=True)
    restocked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # as_new | not_as_new, told by the seller at receipt: only goods not as new need a condition label to resell
    goods_condition: Mapped[str | None] = mapped_column(String(12))
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_code: Mapped[str | None] = mapped_column(String(40))
    evidence: Mapped[dict[str, Any] | None]  # {"photos": [url, ...], "note": ...}
    # The buyer disputes a rejection: the platform mediates (R7 art. 25) by `mediation_due_at` (working days).
    disputed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    dispute_reason: Mapped[str | None] = mapped_column(String(500))
    mediation_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mediated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mediated_by: Mapped[str | None] = mapped_column(String(60))
    mediation_outcome: Mapped[str | None] = mapped_column(String(20))  # refund | rejection_upheld
    mediation_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReturnEvent(Base):
    """One step in a return's history (requested, received, refunded, rejected, ...); rows are only added."""

    __tablename__ = "order_return_event"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    return_id: Mapped[str] = mapped_column(ForeignKey("order_return.id"), index=True)
    order_id: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(20))  # customer | merchant | admin | system
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Payment(Base):
    """Money asked for once per checkout (one Stripe PaymentIntent may pay several merchants' orders), or once per
    merchant when each merchant is paid into its own account (then several payments may share one combined payment
    at the provider, `group_ref`)."""

    __tablename__ = "payment"
    __table_args__ = (Index("ix_payment_group_ref", "group_ref", postgresql_where=text("group_ref IS NOT NULL"),
                            sqlite_where=text("group_ref IS NOT NULL")),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    checkout_id: Mapped[str] = mapped_column(String(40), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(80), unique=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20))  # pending | succeeded | cancelled
    # The merchant's account the money goes to (WeChat Pay's sub_mchid, Alipay's app_auth_token, kept encrypted),
    # as it was when the payment started: refunds and queries go through the same account.
    account: Mapped[str | None] = mapped_column(String(512))
    group_ref: Mapped[str | None] = mapped_column(String(80))  # the combined payment this one is a share of
    # What the buyer needs to pay (a cashier URL, a QR code's text): the pay page shows it again
    client: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Refund(Base):
    __tablename__ = "refund"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    payment_id: Mapped[str | None] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(20))
    provider_ref: Mapped[str | None] = mapped_column(String(80))
    amount: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(40))  # cancel | return | group_buy_failed | ...
    # pending (not yet sent) | processing (the provider took it; its notification or a query ends it) |
    # succeeded | failed (the provider could not pay it back: the order may be refunded again)
    status: Mapped[str] = mapped_column(String(20))
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProcessedWebhook(Base):
    """Each provider event id once: a redelivered webhook changes nothing."""

    __tablename__ = "processed_webhook"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
