"""Community stores: pickup points run by leaders, group-buys and who joined them, bookable service slots."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base


class PickupPoint(Base):
    """A neighbourhood pickup point (自提点) run by a leader (团长); also a `location` of kind pickup_point."""

    __tablename__ = "pickup_point"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[dict[str, Any]]
    leader_name: Mapped[str] = mapped_column(String(100))
    leader_phone: Mapped[str] = mapped_column(String(30))
    commission_rate: Mapped[int] = mapped_column(Integer)  # basis points of collected order totals
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GroupBuy(Base):
    """A group-buy (团购) on one variant; `joined_quantity` counts the units held for it (≤ max_quantity)."""

    __tablename__ = "group_buy"
    __table_args__ = (
        Index("ix_group_buy_status_closes_at", "status", "closes_at"),
        Index("ix_group_buy_merchant_id_id", "merchant_id", "id"),
        CheckConstraint("joined_quantity >= 0 AND joined_quantity <= max_quantity", name="joined_within_max"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"))
    price: Mapped[int] = mapped_column(Int64)
    currency: Mapped[str] = mapped_column(String(3))
    min_quantity: Mapped[int] = mapped_column(Int64)
    max_quantity: Mapped[int] = mapped_column(Int64)
    joined_quantity: Mapped[int] = mapped_column(Int64, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | succeeded | failed
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    pickup_date: Mapped[date] = mapped_column(Date)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(20))  # schedule | merchant
    committed_quantity: Mapped[int | None] = mapped_column(Int64)  # what counted at the close
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class GroupBuyPoint(Base):
    """A pickup point a group-buy delivers to."""

    __tablename__ = "group_buy_point"

    group_buy_id: Mapped[str] = mapped_column(ForeignKey("group_buy.id"), primary_key=True)
    pickup_point_id: Mapped[str] = mapped_column(ForeignKey("pickup_point.id"), primary_key=True)


class GroupBuyJoin(Base):
    """One customer's join: the community order it made, its quantity and pickup point.

    `status` is `held` while the units count against the group-buy's maximum and `released` once the
    order was cancelled and its units were given back to the group-buy.
    """

    __tablename__ = "group_buy_join"
    __table_args__ = (Index("ix_group_buy_join_group_buy_id_status", "group_buy_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    group_buy_id: Mapped[str] = mapped_column(ForeignKey("group_buy.id"))
    merchant_id: Mapped[str] = mapped_column(String(40))
    pickup_point_id: Mapped[str] = mapped_column(ForeignKey("pickup_point.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    quantity: Mapped[int] = mapped_column(Int64)
    status: Mapped[str] = mapped_column(String(20), default="held")  # held | released
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ServiceSlot(Base):
    """A bookable time slot of a local service (a product in category `services`)."""

    __tablename__ = "service_slot"
    __table_args__ = (
        Index("ix_service_slot_variant_id_starts_at", "variant_id", "starts_at"),
        CheckConstraint("booked >= 0 AND booked <= capacity", name="booked_within_capacity"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ServiceBooking(Base):
    """A booking of one place in a slot, made through the order core (`held` until its order is cancelled)."""

    __tablename__ = "service_booking"
    __table_args__ = (Index("ix_service_booking_slot_id_status", "slot_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("service_slot.id"))
    merchant_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), unique=True)
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), default="held")  # held | released
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
