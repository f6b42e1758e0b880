"""Request and response bodies of coupons redeemed at store tills."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from app.core.schemas import OutSchema, Schema, UtcDatetime
from app.inventory.pos.schemas import EVENT_ID_PATTERN


class TillRedeemIn(Schema):
    code: str = Field(min_length=1, max_length=40, description="The promotion code (case-insensitive)")
    redemption_id: str = Field(pattern=EVENT_ID_PATTERN,
                               description="The till's own id of this redemption, unique per merchant; "
                                           "a repeat is `duplicate` and counts once")
    amount: int = Field(gt=0, le=10**12, description="The till's basket total before the discount, in fen")
    occurred_at: datetime = Field(description="When the coupon was taken at the till (RFC 3339; no offset means "
                                              "UTC). The promotion must have been running then")


class TillRedemptionOut(OutSchema):
    redemption_id: str
    code: str
    status: Literal["applied", "duplicate"]
    amount: int = Field(description="The basket total the discount was computed on (the first request's)")
    discount: int = Field(description="Fen off the basket; never more than `amount`")
    total_after: int = Field(description="amount - discount")
    occurred_at: UtcDatetime


class TillVoidIn(Schema):
    occurred_at: datetime | None = Field(default=None, description="When the void happened at the till; "
                                                                   "default: now")


class TillVoidOut(OutSchema):
    redemption_id: str
    code: str
    status: Literal["voided"]
    voided_at: UtcDatetime
