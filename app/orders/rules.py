"""Order rules that need no database: totals, shipping, return eligibility, order numbers."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.clock import SHANGHAI, as_utc
from app.core.money import allocate, percent_of

FREE_SHIPPING_FROM = 9_900  # fen: delivery is free from ¥99 (after discount)
DELIVERY_FEE = 1_000  # fen: ¥10 below that
RETURN_DAYS = 7
NON_RETURNABLE_ATTRIBUTES = ("custom_made", "digital")


@dataclass(frozen=True, slots=True)
class PricedLine:
    quantity: int
    unit_price: int
    discount: int

    @property
    def total(self) -> int:
        return self.quantity * self.unit_price - self.discount


@dataclass(frozen=True, slots=True)
class Totals:
    lines: tuple[PricedLine, ...]
    subtotal: int
    discount: int
    shipping: int
    total: int


def order_discount(subtotal: int, kind: str | None, value: int) -> int:
    """A promotion's discount on a subtotal: `percent` (value 1–100) or `amount` (fen), never above it."""
    if kind == "percent":
        return min(subtotal, percent_of(subtotal, value * 100))
    if kind == "amount":
        return min(subtotal, value)
    return 0


def shipping_fee(fulfilment_type: str, goods_total: int) -> int:
    """Delivery costs ¥10 below ¥99 of goods and nothing from ¥99; pick-up is free."""
    if fulfilment_type != "delivery":
        return 0
    return 0 if goods_total >= FREE_SHIPPING_FROM else DELIVERY_FEE


def price_order(lines: Sequence[tuple[int, int]], *, promotion_kind: str | None = None, promotion_value: int = 0,
                fulfilment_type: str = "delivery", charge_shipping: bool = True) -> Totals:
    """Totals of (quantity, unit_price) lines; the discount is spread over lines to the fen."""
    amounts = [q * p for q, p in lines]
    subtotal = sum(amounts)
    discount = order_discount(subtotal, promotion_kind, promotion_value)
    shares = allocate(discount, amounts)
    priced = tuple(PricedLine(q, p, d) for (q, p), d in zip(lines, shares, strict=True))
    shipping = shipping_fee(fulfilment_type, subtotal - discount) if charge_shipping else 0
    return Totals(priced, subtotal, discount, shipping, subtotal - discount + shipping)


def return_deadline(delivered_at: datetime) -> datetime:
    """End of the 7th Shanghai calendar day after delivery (the day after delivery is day 1)."""
    local = as_utc(delivered_at).astimezone(SHANGHAI)
    last_day = local.date() + timedelta(days=RETURN_DAYS)
    return datetime.combine(last_day + timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI)


def return_refusal(*, delivered_at: datetime | None, now: datetime, category_returnable: bool,
                   attributes: dict[str, str] | None = None) -> str | None:
    """Why a no-reason return is refused, or None when it is allowed."""
    if delivered_at is None:
        return "the order has not been delivered"
    if not category_returnable:
        return "this category is excluded from 7-day no-reason returns (fresh goods, services)"
    for flag in NON_RETURNABLE_ATTRIBUTES:
        if (attributes or {}).get(flag) in ("true", "1", "yes"):
            return f"{flag.replace('_', '-')} goods are excluded from 7-day no-reason returns"
    if as_utc(now) >= return_deadline(delivered_at):
        return "the 7-day return window has ended"
    return None


def refund_for(line_total: int, line_quantity: int, returned_before: int, quantity: int) -> int:
    """Refund for returning `quantity` more units of a line, exact to the fen over successive returns."""
    before = line_total * returned_before // line_quantity
    after = line_total * (returned_before + quantity) // line_quantity
    return after - before


_NUM = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def order_number(now: datetime) -> str:
    """Readable and unambiguous: the Shanghai date and six characters, e.g. 261127-7K3F9Q."""
    local = as_utc(now).astimezone(SHANGHAI)
    return f"{local:%y%m%d}-{''.join(secrets.choice(_NUM) for _ in range(6))}"
