from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from app.catalog.schemas import CategorySlug
from app.core.schemas import Amount, OutSchema, Schema, UtcDatetime

ProductId = Annotated[str, Field(min_length=1, max_length=40)]
MAX_MANUAL = 500


class CollectionRule(Schema):
    """Products of the merchant that fit every condition given."""

    category: CategorySlug | None = None
    price_min: Amount | None = Field(default=None, description="Fen: some variant costs at least this")
    price_max: Amount | None = Field(default=None, description="Fen: some variant costs at most this")
    keyword: str | None = Field(default=None, min_length=1, max_length=40, description="Words in the title or "
                                "description")

    @model_validator(mode="after")
    def _sound(self) -> CollectionRule:
        if not self.model_dump(exclude_none=True):
            raise ValueError("give at least one of category, price_min, price_max, keyword")
        if self.price_min is not None and self.price_max is not None and self.price_min > self.price_max:
            raise ValueError("price_min is above price_max")
        return self


class CollectionIn(Schema):
    title: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=2000)
    kind: Literal["manual", "rule"] = "manual"
    rule: CollectionRule | None = Field(default=None, description="Required for kind rule")
    product_ids: list[ProductId] = Field(default_factory=list, max_length=MAX_MANUAL,
                                         description="Kind manual: the products, in the order shown")

    @model_validator(mode="after")
    def _kind(self) -> CollectionIn:
        if self.kind == "rule" and self.rule is None:
            raise ValueError("a rule collection needs its rule")
        if self.kind == "manual" and self.rule is not None:
            raise ValueError("a manual collection has no rule")
        if self.kind == "rule" and self.product_ids:
            raise ValueError("a rule collection picks its products itself")
        return self


class CollectionPatch(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=100)
    description: str | None = Field(default=None, max_length=2000)
    rule: CollectionRule | None = Field(default=None, description="Rule collections only")


class CollectionProductsIn(Schema):
    product_ids: list[ProductId] = Field(min_length=1, max_length=MAX_MANUAL)


class CollectionOut(OutSchema):
    id: str
    merchant_id: str
    title: str
    description: str
    kind: str
    rule: dict[str, Any] | None = None
    product_count: int = Field(description="Products in it as the caller sees them (on sale, for the public)")
    created_at: UtcDatetime
    updated_at: UtcDatetime
