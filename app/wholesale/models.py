"""Wholesale buyers (companies buying from one merchant), their price lists, terms orders and quotes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base


class Buyer(Base):
    """A business buyer of one merchant. Open credit is derived: limit − unpaid terms orders."""

    __tablename__ = "wholesale_buyer"
    __table_args__ = (Index("ix_wholesale_buyer_merchant_id_id", "merchant_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    name: Mapped[str] = mapped_column(String(200))
    credit_limit: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)  # net N days
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class BuyerPrice(Base):
    """A buyer's own price for a variant from `min_qty` units; overrides the variant's tiers."""

    __tablename__ = "wholesale_buyer_price"
    __table_args__ = (UniqueConstraint("buyer_id", "variant_id", "min_qty"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("wholesale_buyer.id"))
    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"))
    min_qty: Mapped[int] = mapped_column(Int64, default=1)
    unit_price: Mapped[int] = mapped_column(Int64)


class WholesaleOrder(Base):
    """What the order core does not know about a wholesale order: where it came from, its due date."""

    __tablename__ = "wholesale_order"
    __table_args__ = (Index("ix_wholesale_order_buyer_id_order_id", "buyer_id", "order_id"),)

    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    buyer_id: Mapped[str] = mapped_column(ForeignKey("wholesale_buyer.id"))
    source: Mapped[str] = mapped_column(String(20))  # json | csv | quote | reorder
    mode: Mapped[str] = mapped_column(String(20))  # all_or_nothing | partial
    rejected_lines: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # terms orders only
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Quote(Base):
    """A request for quotation: requested by the buyer, answered by the merchant, accepted into an order."""

    __tablename__ = "wholesale_quote"
    __table_args__ = (Index("ix_wholesale_quote_merchant_id_id", "merchant_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    buyer_id: Mapped[str] = mapped_column(ForeignKey("wholesale_buyer.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # requested | answered | accepted
    valid_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    order_id: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class QuoteLine(Base):
    __tablename__ = "wholesale_quote_line"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    quote_id: Mapped[str] = mapped_column(ForeignKey("wholesale_quote.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Int64)
    unit_price: Mapped[int | None] = mapped_column(Int64)  # set by the merchant's answer
