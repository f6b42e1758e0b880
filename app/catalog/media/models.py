"""Pictures: stored files (`media_asset`, one per distinct upload) and their uses on products and variants."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.db import Base


class MediaAsset(Base):
    """A processed upload, named by the SHA-256 of the file as it was sent: a second upload of the same file
    finds it here and is neither processed nor stored again. Not a tenant's row: the same file uploaded by two
    merchants is one asset (its renditions are public anyway)."""

    __tablename__ = "media_asset"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    format: Mapped[str] = mapped_column(String(10))  # of the upload: JPEG | PNG | WEBP | GIF
    source_width: Mapped[int] = mapped_column(Integer)  # upright
    source_height: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)  # of the large rendition (the item's `url`)
    height: Mapped[int] = mapped_column(Integer)
    storage: Mapped[str] = mapped_column(String(20))
    thumb_url: Mapped[str] = mapped_column(String(500))
    medium_url: Mapped[str] = mapped_column(String(500))
    large_url: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ProductMedia(Base):
    """A picture on a product's page, at `position` (0, 1, ... in the order shown)."""

    __tablename__ = "product_media"
    __table_args__ = (Index("ix_product_media_product_id_position", "product_id", "position"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"))
    asset_id: Mapped[str] = mapped_column(ForeignKey("media_asset.id"), index=True)
    alt: Mapped[str] = mapped_column(String(500), default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class VariantMedia(Base):
    """A product picture that shows a variant (the red one shows every size of red)."""

    __tablename__ = "variant_media"
    __table_args__ = (Index("ix_variant_media_media_id", "media_id"),)

    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"), primary_key=True)
    media_id: Mapped[str] = mapped_column(ForeignKey("product_media.id", ondelete="CASCADE"), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
