"""Community rules that need no database: the group-buy outcome, leader commission, overdue pickups.

Group-buy outcome at the cut-off:
  * a join counts when its order is committed: paid (Stripe), confirmed (pay at pickup) or already
    completed (handed over early at the point's till). An order still waiting for its Stripe payment at
    the cut-off does not count, and a cancelled one never does;
  * committed units ≥ `min_quantity` → `succeeded`: committed orders stay as they are (ready for pickup),
    orders still unpaid are cancelled (the money did not arrive before the cut-off);
  * otherwise → `failed`: every order that can still be cancelled is cancelled (stock released, paid
    ones refunded); goods already handed over stay with the resident.

Leader commission: `rate` basis points of the sum of the totals of the orders collected at the leader's
point in the period, rounded half up once, on the sum (so it is exact to the fen and does not drift with
the number of orders).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from app.core.clock import SHANGHAI, as_utc
from app.core.money import percent_of

COMMITTED = ("paid", "confirmed", "completed")
CANCELLABLE = ("pending_payment", "paid", "confirmed")
UNCOLLECTED_AFTER_DAYS = 3  # a pickup not collected this many Shanghai days after the pickup date is flagged

Outcome = Literal["succeeded", "failed"]


@dataclass(frozen=True, slots=True)
class JoinState:
    order_id: str
    quantity: int
    order_status: str


@dataclass(frozen=True, slots=True)
class CloseDecision:
    outcome: Outcome
    committed_quantity: int
    cancel_order_ids: tuple[str, ...]


def decide_close(min_quantity: int, joins: Sequence[JoinState]) -> CloseDecision:
    """The outcome of a group-buy at its cut-off and the orders to cancel (see the module docstring)."""
    committed = sum(j.quantity for j in joins if j.order_status in COMMITTED)
    cancellable = [j for j in joins if j.order_status in CANCELLABLE]
    if committed >= min_quantity:
        cancel = tuple(j.order_id for j in cancellable if j.order_status not in COMMITTED)
        return CloseDecision("succeeded", committed, cancel)
    return CloseDecision("failed", committed, tuple(j.order_id for j in cancellable))


def join_refusal(*, status: str, closes_at: datetime, now: datetime, joined: int, max_quantity: int,
                 quantity: int, serves_point: bool) -> tuple[str, str] | None:
    """Why a join is refused as (field, message), or None. Advisory: the conditional UPDATE decides races."""
    if status != "open" or as_utc(now) >= as_utc(closes_at):
        return "group_buy", "this group-buy is closed"
    if not serves_point:
        return "pickup_point_id", "this group-buy does not deliver to that pickup point"
    if joined + quantity > max_quantity:
        left = max(max_quantity - joined, 0)
        return "quantity", f"only {left} left in this group-buy" if left else "this group-buy is full"
    return None


def commission(collected_totals: Sequence[int], rate_bp: int) -> int:
    """Leader commission in fen: `rate_bp` basis points of the collected totals' sum, rounded half up once."""
    return percent_of(sum(collected_totals), rate_bp)


def is_overdue(pickup_date: date, now: datetime, days: int = UNCOLLECTED_AFTER_DAYS) -> bool:
    """True once `days` whole Shanghai calendar days have passed since the pickup date."""
    today = as_utc(now).astimezone(SHANGHAI).date()
    return today >= pickup_date + timedelta(days=days)


def shanghai_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start of `first`, start of the day after `last`) in Shanghai time, as aware datetimes."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=SHANGHAI)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)
    return start, end


def slot_refusal(*, starts_at: datetime, now: datetime, booked: int, capacity: int) -> str | None:
    """Why a service slot cannot be booked, or None. Advisory: the conditional UPDATE decides races."""
    if as_utc(now) >= as_utc(starts_at):
        return "this slot has already started"
    if booked >= capacity:
        return "this slot is fully booked"
    return None
