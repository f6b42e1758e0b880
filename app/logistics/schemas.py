"""Delivery requests and answers: shipping templates, the delivery promise, carriers, tracking."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from app.core.schemas import OutSchema, Schema, UtcDatetime
from app.logistics import rules

Fen = int
Province = str


def _provinces(values: list[str]) -> list[str]:
    known = {rules.province_key(p) for p in rules.PROVINCES}
    bad = [v for v in values if rules.province_key(v) not in known]
    if bad:
        raise ValueError(f"not provinces of China: {', '.join(bad)} (e.g. 新疆, 西藏自治区)")
    return values


class RateIn(Schema):
    first: int = Field(ge=1, le=10**8, description="Units the first fee covers: pieces, grams or cm³ by `basis`")
    first_fee: int = Field(ge=0, le=10**8, description="fen")
    each: int = Field(default=1, ge=1, le=10**8, description="Each further block of this many units ...")
    each_fee: int = Field(default=0, ge=0, le=10**8, description="... costs this much (fen)")


class RegionIn(RateIn):
    provinces: list[Province] = Field(min_length=1, max_length=34)
    free_applies: bool = Field(default=False, description="The free-shipping thresholds reach these provinces too")

    _check = field_validator("provinces")(_provinces)


class ShippingTemplateIn(Schema):
    name: str = Field(min_length=1, max_length=100)
    basis: Literal["piece", "weight", "volume"] = Field(description="Count by pieces, grams or cm³")
    rate: RateIn = Field(description="Everywhere not priced apart")
    regions: list[RegionIn] = Field(default_factory=list, max_length=34, description="Provinces priced apart "
                                    "(remote areas such as 新疆, 西藏)")
    excluded_provinces: list[Province] = Field(default_factory=list, max_length=34,
                                               description="Provinces this template does not deliver to")
    free_over_amount: int | None = Field(default=None, ge=0, le=10**10,
                                         description="Goods from this amount (fen, after discounts) ship free")
    free_over_count: int | None = Field(default=None, ge=1, le=10**6, description="... or from this many pieces")

    _check = field_validator("excluded_provinces")(_provinces)

    @model_validator(mode="after")
    def _once(self) -> ShippingTemplateIn:
        named = [rules.province_key(p) for r in self.regions for p in r.provinces]
        named += [rules.province_key(p) for p in self.excluded_provinces]
        if len(set(named)) != len(named):
            raise ValueError("a province is named in more than one region or both priced and excluded")
        return self


class RateOut(OutSchema):
    first: int
    first_fee: int
    each: int
    each_fee: int


class RegionOut(RateOut):
    provinces: list[str]
    free_applies: bool


class ShippingTemplateOut(OutSchema):
    id: str
    merchant_id: str
    name: str
    basis: str
    rate: RateOut
    regions: list[RegionOut]
    excluded_provinces: list[str]
    free_over_amount: int | None = None
    free_over_count: int | None = None
    created_at: UtcDatetime
    updated_at: UtcDatetime


class DeliveryPromiseIn(Schema):
    ship_within_hours: int = Field(ge=1, le=24 * 30, description="Dispatch within this many hours of payment")
    delivery_days: int = Field(ge=1, le=60, description="Delivered within this many days of the dispatch promise")


class DeliveryPromiseOut(OutSchema):
    ship_within_hours: int
    delivery_days: int


class CarrierOut(OutSchema):
    code: str
    name: str = Field(description="In Chinese")
    name_en: str
    tracking_pattern: str = Field(description="A regular expression the whole tracking number matches")
    example: str


class TrackingEventOut(OutSchema):
    occurred_at: UtcDatetime
    state: str = Field(description="collected | in_transit | delivering | signed | problem | returned")
    description: str
    location: str | None = None
    carrier: str
    tracking_no: str


class TrackingOut(OutSchema):
    order_id: str
    signed_at: str | None = None
    signed_source: str | None = None
    events: list[TrackingEventOut] = Field(description="Newest first")


class PushAnswer(OutSchema):
    """What Kuaidi100-style aggregators expect back: `result` true stops the retries."""

    result: bool
    returnCode: str  # the aggregator's name for it
    message: str
