"""A merchant's own groupings of products (集合): picked by hand, or by a rule over the catalogue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.db import Base, JSONType


class Collection(Base):
    __tablename__ = "collection"
    __table_args__ = (Index("ix_collection_merchant_id_id", "merchant_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10))  # manual | rule
    # kind rule: {category?, price_min?, price_max?, keyword?} (app/catalog/collections/rules.py)
    rule: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class CollectionProduct(Base):
    """A product a merchant put into a manual collection, at `position` (1, 2, ... in the order shown)."""

    __tablename__ = "collection_product"
    __table_args__ = (UniqueConstraint("collection_id", "product_id"),
                      Index("ix_collection_product_collection_id_position", "collection_id", "position"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    collection_id: Mapped[str] = mapped_column(ForeignKey("collection.id"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
