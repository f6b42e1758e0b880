"""Report bodies."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from app.core.schemas import OutSchema


class ChannelShareDay(OutSchema):
    date: date
    online_sales: int
    offline_sales: int
    online_share: float | None


class ChannelShare(OutSchema):
    merchant_id: str | None = Field(description="None for the whole platform (admin)")
    from_: date = Field(serialization_alias="from")
    to: date
    currency: str = "CNY"
    online_sales: int = Field(description="Fen: retail, wholesale and community orders not cancelled")
    offline_sales: int = Field(description="Fen: POS sale events (quantity x unit_price)")
    online_share: float | None = Field(description="online / (online + offline), 4 decimals; null without sales")
    days: list[ChannelShareDay]
