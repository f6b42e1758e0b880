"""A flash sale, the stock it holds, and the orders it sold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base


class FlashSale(Base):
    """`remaining` units are still for sale and held from stock (`FlashHold`) until the sale ends."""

    __tablename__ = "flash_sale"
    __table_args__ = (Index("ix_flash_sale_status_ends_at", "status", "ends_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"))
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"), index=True)
    campaign_id: Mapped[str | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    price: Mapped[int] = mapped_column(Int64)
    currency: Mapped[str] = mapped_column(String(3))
    quantity: Mapped[int] = mapped_column(Int64)
    remaining: Mapped[int] = mapped_column(Int64)
    per_buyer_limit: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="active")  # active | ended (its hold given back)
    returned: Mapped[int] = mapped_column(Int64, default=0)  # units given back to stock when it ended
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FlashHold(Base):
    """Units of a sale held (reserved) at one location."""

    __tablename__ = "flash_hold"

    sale_id: Mapped[str] = mapped_column(ForeignKey("flash_sale.id"), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(Int64)


class FlashOrder(Base):
    """An order a sale sold; `held` until it is cancelled (its units go back on sale while the sale runs)."""

    __tablename__ = "flash_order"
    __table_args__ = (Index("ix_flash_order_sale_customer", "sale_id", "customer_id"),)

    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), primary_key=True)
    sale_id: Mapped[str] = mapped_column(ForeignKey("flash_sale.id"))
    customer_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Int64)
    status: Mapped[str] = mapped_column(String(20), default="held")  # held | released
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
