"""Retail: customer accounts, carts, promotions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))  # optional; the customer may correct or delete it
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Consent(Base):
    """What a customer agreed to, for one purpose (C19): the text version and when; withdrawing stamps
    `withdrawn_at` and a new grant is a new row, so the history of agreements stays."""

    __tablename__ = "consent"
    __table_args__ = (Index("ix_consent_customer_id_purpose", "customer_id", "purpose"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(40))
    purpose: Mapped[str] = mapped_column(String(30))
    text_version: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CustomerAddress(Base):
    """A delivery address in a signed-in customer's address book (saved when they check out to it)."""

    __tablename__ = "customer_address"
    __table_args__ = (Index("ix_customer_address_customer_id_used", "customer_id", "last_used_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customer.id"))
    address: Mapped[dict[str, Any]]  # an Address (app/core/schemas.py)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Cart(Base):
    __tablename__ = "cart"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    customer_id: Mapped[str | None] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | checked_out
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CartItem(Base):
    __tablename__ = "cart_item"
    __table_args__ = (UniqueConstraint("cart_id", "variant_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    cart_id: Mapped[str] = mapped_column(ForeignKey("cart.id"), index=True)
    variant_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Int64)


class Promotion(Base):
    __tablename__ = "promotion"
    __table_args__ = (UniqueConstraint("merchant_id", "code"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # percent | amount
    value: Mapped[int] = mapped_column(Int64)  # percent: 1–100; amount: fen
    channels: Mapped[dict[str, Any]]  # {"channels": ["online", "store"]}
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    usage_limit: Mapped[int | None] = mapped_column(Integer)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    # The text shoppers read with the code; checked for forbidden clauses like a listing (C16).
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PromotionRedemption(Base):
    """A coupon redeemed at a store till. The till's own `redemption_id` is unique per merchant, so a
    repeat is a duplicate and counts once; its use is counted in `Promotion.used_count` like an online one."""

    __tablename__ = "promotion_redemption"
    __table_args__ = (UniqueConstraint("merchant_id", "redemption_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    redemption_id: Mapped[str] = mapped_column(String(100))
    promotion_id: Mapped[str] = mapped_column(ForeignKey("promotion.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    location_id: Mapped[str] = mapped_column(String(40))
    device_id: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(BigInteger)  # the till's basket total, fen
    discount: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(10))  # applied | voided
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
