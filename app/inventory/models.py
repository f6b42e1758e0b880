"""Stock levels per (location, variant) and the append-only ledger they can be rebuilt from."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.db import Base, BigIntPK


class StockLevel(Base):
    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("location_id", "variant_id"),
        Index("ix_stock_level_variant_id", "variant_id"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"))
    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)  # may go negative after store oversells
    reserved: Mapped[int] = mapped_column(Integer, default=0)  # promised to open orders
    safety_stock: Mapped[int] = mapped_column(Integer, default=0)  # kept back from online sale
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StockMovement(Base):
    """One change of on_hand and/or reserved. Levels = the sums of these deltas, always."""

    __tablename__ = "stock_movement"
    __table_args__ = (Index("ix_stock_movement_level", "location_id", "variant_id"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(String(40), index=True)
    location_id: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # count|receive|reserve|release|fulfil|restock|sale|...
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(80))  # e.g. "order:ord_...", "api", "pos:dev_..."
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Allocation(Base):
    """Stock promised to an order line at one location (an order line may be split over several)."""

    __tablename__ = "allocation"
    __table_args__ = (Index("ix_allocation_order_id", "order_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[str] = mapped_column(String(40))
    location_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="reserved")  # reserved | released | fulfilled
