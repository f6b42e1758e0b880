from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from app.core.schemas import Amount, Currency, OutSchema, Schema, UtcDatetime

CategorySlug = Literal["apparel", "appliances", "home", "books-media", "agri", "daily-goods",
                       "production-materials", "fresh", "services"]
ProductStatus = Literal["draft", "active"]
Sku = str
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$"


class TierIn(Schema):
    min_qty: int = Field(ge=1, le=10**9)
    unit_price: Amount


class WholesaleIn(Schema):
    moq: int = Field(default=1, ge=1, le=10**9, description="Minimum order quantity")
    pack_size: int = Field(default=1, ge=1, le=10**6, description="Quantities must be multiples of this")
    tiers: list[TierIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _tiers_ascend(self) -> WholesaleIn:
        qtys = [t.min_qty for t in self.tiers]
        if qtys != sorted(set(qtys)):
            raise ValueError("tiers must have distinct min_qty in ascending order")
        return self


Attributes = dict[str, str]


class VariantIn(Schema):
    sku: str = Field(pattern=SKU_PATTERN)
    price: Amount
    currency: Currency = "CNY"
    attributes: Attributes = Field(default_factory=dict, max_length=20)
    wholesale: WholesaleIn | None = None


class ProductCreate(Schema):
    title: str = Field(min_length=1, max_length=200)
    category: CategorySlug
    description: str = Field(default="", max_length=10_000)
    status: ProductStatus = "draft"
    variants: list[VariantIn] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _unique_skus(self) -> ProductCreate:
        skus = [v.sku for v in self.variants]
        if len(set(skus)) != len(skus):
            raise ValueError("each variant needs its own sku")
        return self


class VariantPatch(Schema):
    sku: str = Field(pattern=SKU_PATTERN, description="Identifies the variant; an unknown sku adds one")
    price: Amount | None = None
    currency: Currency | None = None
    attributes: Attributes | None = Field(default=None, max_length=20)
    wholesale: WholesaleIn | None = None


class ProductPatch(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    category: CategorySlug | None = None
    description: str | None = Field(default=None, max_length=10_000)
    status: ProductStatus | None = None
    variants: list[VariantPatch] | None = Field(default=None, min_length=1, max_length=100)


class TierOut(OutSchema):
    min_qty: int
    unit_price: int


class WholesaleOut(OutSchema):
    moq: int
    pack_size: int
    tiers: list[TierOut]


class VariantOut(OutSchema):
    id: str
    sku: str
    price: int
    currency: str
    attributes: Attributes
    wholesale: WholesaleOut | None = None


class ProductOut(OutSchema):
    id: str
    merchant_id: str
    title: str
    description: str
    category: str
    status: str
    variants: list[VariantOut]
    created_at: UtcDatetime
    updated_at: UtcDatetime


class ProductPage(OutSchema):
    items: list[ProductOut]
    next_cursor: str | None = None


class CategoryOut(OutSchema):
    slug: str
    name_zh: str
    name_en: str
