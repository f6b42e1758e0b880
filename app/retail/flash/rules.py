"""What a flash sale is at a given moment, and why a buyer is refused: pure functions, no I/O."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

Status = Literal["scheduled", "live", "sold_out", "ended"]
Refusal = Literal["not_started", "ended", "sold_out", "limit_reached"]

REFUSALS: dict[Refusal, str] = {
    "not_started": "this flash sale has not started yet",
    "ended": "this flash sale has ended",
    "sold_out": "this flash sale is sold out",
    "limit_reached": "you have bought as many as this flash sale allows each buyer",
}


def status(*, now: datetime, starts_at: datetime, ends_at: datetime, remaining: int, ended: bool) -> Status:
    if ended or now >= ends_at:
        return "ended"
    if now < starts_at:
        return "scheduled"
    return "live" if remaining > 0 else "sold_out"


def time_refusal(*, now: datetime, starts_at: datetime, ends_at: datetime) -> Refusal | None:
    """Refused by the clock alone (answered before anything is counted)."""
    if now < starts_at:
        return "not_started"
    if now >= ends_at:
        return "ended"
    return None


def remaining_words(remaining: int, sale_status: Status) -> str:
    """What the shopper reads beside the button."""
    if sale_status == "ended":
        return "已结束"
    if remaining <= 0:
        return "已抢光"
    return f"还剩 {remaining:,} 件"


def count_refusal(*, remaining: int, bought: int, quantity: int, limit: int) -> Refusal | None:
    """Refused by the counts: the buyer's limit first (a buyer at the limit is told so even when sold out)."""
    if bought + quantity > limit:
        return "limit_reached"
    if remaining < quantity:
        return "sold_out"
    return None
