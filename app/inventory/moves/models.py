"""Stock moves: transfers between two locations (out, in transit, in) and low-stock thresholds."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base


class StockTransfer(Base):
    """Goods sent from one location to another: out of `from_location_id` when sent, in transit (at no
    location) until received at `to_location_id`, or back at the origin if cancelled on the way."""

    __tablename__ = "stock_transfer"
    __table_args__ = (Index("ix_stock_transfer_merchant_id_id", "merchant_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    from_location_id: Mapped[str] = mapped_column(ForeignKey("location.id"))
    to_location_id: Mapped[str] = mapped_column(ForeignKey("location.id"))
    status: Mapped[str] = mapped_column(String(20), default="in_transit")  # in_transit | received | cancelled
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StockTransferLine(Base):
    __tablename__ = "stock_transfer_line"

    transfer_id: Mapped[str] = mapped_column(ForeignKey("stock_transfer.id"), primary_key=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"), primary_key=True)
    sku: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Int64)


class StockThreshold(Base):
    """Below this many available units at a location a variant is low: a `stock.low` event, once, until it
    is back above."""

    __tablename__ = "stock_threshold"
    __table_args__ = (Index("ix_stock_threshold_merchant_id", "merchant_id"),)

    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), primary_key=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    low_stock: Mapped[int] = mapped_column(Int64)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)  # a stock.low was sent and not yet cleared
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
