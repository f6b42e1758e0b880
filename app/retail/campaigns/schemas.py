from __future__ import annotations

from pydantic import AwareDatetime, Field

from app.core.schemas import OutSchema, Schema, UtcDatetime

Ids = list[str]


class CampaignIn(Schema):
    slug: str = Field(min_length=2, max_length=60, pattern=r"^[a-z0-9][a-z0-9-]*$",
                      description="The landing page's address: /campaigns/{slug}")
    title: str = Field(min_length=1, max_length=100)
    headline: str = Field(default="", max_length=300)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    product_ids: list[str] = Field(default_factory=list, max_length=200)
    promotion_codes: list[str] = Field(default_factory=list, max_length=20)
    collection_ids: list[str] = Field(default_factory=list, max_length=20,
                                      description="Put the products of these collections of yours in too")


class CampaignJoin(Schema):
    product_ids: list[str] = Field(default_factory=list, max_length=200)
    promotion_codes: list[str] = Field(default_factory=list, max_length=20)
    collection_ids: list[str] = Field(default_factory=list, max_length=20,
                                      description="Put the products of these collections of yours in too")


class CampaignProductOut(OutSchema):
    id: str
    merchant_id: str
    title: str
    price: int
    currency: str


class CampaignPromotionOut(OutSchema):
    merchant_id: str
    code: str
    kind: str
    value: int


class CampaignOut(OutSchema):
    id: str
    merchant_id: str | None
    slug: str
    title: str
    headline: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    status: str
    products: list[CampaignProductOut]
    promotions: list[CampaignPromotionOut]
    created_at: UtcDatetime


class CampaignSummary(OutSchema):
    id: str
    merchant_id: str | None
    slug: str
    title: str
    headline: str
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    status: str
