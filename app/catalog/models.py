"""Categories, products, variants and their wholesale price tiers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base, JSONType


class CatalogVersion(Base):
    """One row: counted up by every transaction that changes what catalogue pages show (app/core/cache.py), so
    that each process's copy of the search index knows when it is behind (app/catalog/search/live.py)."""

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class Category(Base):
    __tablename__ = "category"

    slug: Mapped[str] = mapped_column(String(40), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Statutory exclusions from the 7-day no-reason return (fresh goods, services ...).
    returnable: Mapped[bool] = mapped_column(Boolean, default=True)


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (
        Index("ix_product_merchant_id_id", "merchant_id", "id"),
        Index("ix_product_category_id", "category", "id"),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(ForeignKey("category.slug"))
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft | active
    # 7-day no-reason return class (app/catalog/returns.py): standard | statutory_excluded | confirm_required.
    return_class: Mapped[str] = mapped_column(String(30), default="standard", server_default="standard")
    return_reason: Mapped[str | None] = mapped_column(String(40))
    tax_rate: Mapped[int | None] = mapped_column(Integer)  # VAT %, app/catalog/tax.py; None: the category's rate
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The listing as buyers see it now (`listing_revision`); order lines record the one they were sold under.
    current_revision_id: Mapped[str | None] = mapped_column(String(40))
    # How its delivery is priced (app/logistics); none: the platform's flat fee.
    shipping_template_id: Mapped[str | None] = mapped_column(String(40))
    # [{name, values: [...]}] in order (app/catalog/options.py); a variant's attributes pick one value of each.
    options: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list, server_default="[]")

    variants: Mapped[list[Variant]] = relationship(back_populates="product", order_by="Variant.id",
                                                   lazy="raise")


class Variant(Base):
    __tablename__ = "variant"
    # sku and barcode alone: a search for a code finds its product (app/catalog/search).
    __table_args__ = (UniqueConstraint("merchant_id", "sku"), Index("ix_variant_sku", "sku"),
                      Index("ix_variant_barcode", "barcode"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    sku: Mapped[str] = mapped_column(String(64))
    price: Mapped[int] = mapped_column(Int64)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    attributes: Mapped[dict[str, Any]]
    wholesale: Mapped[bool] = mapped_column(Boolean, default=False)
    moq: Mapped[int] = mapped_column(Int64, default=1)
    pack_size: Mapped[int] = mapped_column(Int64, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    barcode: Mapped[str | None] = mapped_column(String(64))  # EAN-13, UPC ... as printed
    weight: Mapped[int | None] = mapped_column(Integer)  # grams, for shipping
    volume: Mapped[int | None] = mapped_column(Integer)  # cm³, for shipping templates priced by volume
    # Returned units went back on hand under this SKU (C35, CPL art. 44): it is off sale until the seller labels
    # its condition (app/catalog/returns.py: CONDITION_LABELS), and the label shows on the product page.
    returned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    condition_label: Mapped[str | None] = mapped_column(String(10))

    product: Mapped[Product] = relationship(back_populates="variants", lazy="raise")


class ListingRevision(Base):
    """What a listing said at one point in time: title, description, category, variants and prices, the seller's
    name and the return terms (C11, C25). A new revision is written whenever that content changes; rows are
    never changed or deleted (the database refuses updates, see the migration), so an order line's
    `listing_revision_id` always shows what the buyer saw."""

    __tablename__ = "listing_revision"
    __table_args__ = (UniqueConstraint("product_id", "revision"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per product
    content: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the canonical JSON of `content`
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PriceTier(Base):
    """A wholesale volume price: from `min_qty` units the unit price is `unit_price`."""

    __tablename__ = "price_tier"
    __table_args__ = (UniqueConstraint("variant_id", "min_qty"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"), index=True)
    min_qty: Mapped[int] = mapped_column(Int64)
    unit_price: Mapped[int] = mapped_column(Int64)


CATEGORIES: list[tuple[str, str, str, bool]] = [
    ("apparel", "服装鞋帽", "Apparel", True),
    ("appliances", "家用电器", "Appliances", True),
    ("home", "家居家装", "Home", True),
    ("books-media", "图书音像", "Books & media", True),
    ("agri", "农产品", "Agricultural products", True),
    ("daily-goods", "日用百货", "Daily goods", True),
    ("production-materials", "生产资料", "Production materials", True),
    ("fresh", "生鲜", "Fresh food", False),
    ("services", "本地服务", "Local services", False),
]
