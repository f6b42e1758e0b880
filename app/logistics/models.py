"""Delivery tables: shipping templates, a merchant's delivery promise, and tracking events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base


class ShippingTemplate(Base):
    """A merchant's 运费模板: how its products' delivery is priced, by province (`app.logistics.rules.Template`)."""

    __tablename__ = "shipping_template"
    __table_args__ = (Index("ix_shipping_template_merchant_id_id", "merchant_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(100))
    basis: Mapped[str] = mapped_column(String(10))  # piece | weight | volume
    # {"rate": {first, first_fee, each, each_fee}, "regions": [{provinces, rate, free_applies}], "excluded": [...]}
    rules: Mapped[dict[str, Any]]
    free_over_amount: Mapped[int | None] = mapped_column(Int64)
    free_over_count: Mapped[int | None] = mapped_column(Int64)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class DeliveryPromise(Base):
    """What a merchant promises its buyers: dispatch within so many hours of payment, delivery days after."""

    __tablename__ = "delivery_promise"

    merchant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    ship_within_hours: Mapped[int] = mapped_column(Integer)
    delivery_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class TrackingEvent(Base):
    """One step of a parcel's journey as its carrier reported it; the same step pushed twice is stored once."""

    __tablename__ = "tracking_event"
    __table_args__ = (UniqueConstraint("order_id", "fingerprint"),
                      Index("ix_tracking_event_order_id_occurred_at", "order_id", "occurred_at"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[str] = mapped_column(String(40))
    provider: Mapped[str] = mapped_column(String(20))
    carrier: Mapped[str] = mapped_column(String(20))
    tracking_no: Mapped[str] = mapped_column(String(80))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(20))  # collected | in_transit | delivering | signed | problem | returned
    description: Mapped[str] = mapped_column(String(500))
    location: Mapped[str | None] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256 of (time, description): what makes a step one
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
