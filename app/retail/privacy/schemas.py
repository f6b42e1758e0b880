from __future__ import annotations

from typing import Any

from pydantic import Field

from app.core.schemas import Address, Email, OutSchema, Phone, Schema, UtcDatetime
from app.orders.schemas import OrderOut
from app.trust.schemas import ComplaintOut, ReviewOut


class ConsentsIn(Schema):
    consents: dict[str, bool] = Field(description="purpose → given; optional purposes start off, withdrawing is "
                                      "`false`. Purposes: account, order_fulfilment (required), marketing, "
                                      "share_merchant, share_carrier", max_length=20)


class ConsentOut(OutSchema):
    purpose: str
    required: bool
    granted: bool
    text_version: str = Field(description="The notice text agreed to (or, never agreed, the current one)")
    current_text_version: str
    granted_at: UtcDatetime | None
    withdrawn_at: UtcDatetime | None
    description_zh: str
    description_en: str


class ConsentEventOut(OutSchema):
    purpose: str
    text_version: str
    granted_at: UtcDatetime
    withdrawn_at: UtcDatetime | None


class ConsentsOut(OutSchema):
    items: list[ConsentOut]
    history: list[ConsentEventOut]


class ProfileOut(OutSchema):
    id: str
    email: str
    name: str
    phone: str | None
    created_at: UtcDatetime


class MePatch(Schema):
    """Only the fields sent change; `phone: null` removes the phone."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: Phone | None = None
    email: Email | None = None


class SavedAddressOut(Address):
    id: str
    created_at: UtcDatetime
    last_used_at: UtcDatetime


class HeldReviewOut(ReviewOut):
    written_text: str = Field(description="What you wrote, even where the platform masked it")


class MyDataOut(OutSchema):
    profile: ProfileOut
    addresses: list[dict[str, Any]]
    orders: list[OrderOut]
    reviews: list[HeldReviewOut]
    complaints: list[ComplaintOut]
    consents: ConsentsOut
    generated_at: UtcDatetime


class AudienceMemberOut(OutSchema):
    customer_id: str
    name: str
    email: str


class MarketingAudienceOut(OutSchema):
    sender: str = Field(description="The merchant's name: every message must name its sender")
    unsubscribe_url: str = Field(description="Every message must carry this free opt-out link")
    items: list[AudienceMemberOut]
