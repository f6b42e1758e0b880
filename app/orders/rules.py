"""Order rules that need no database: totals, shipping, return eligibility and refunds, order numbers."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from app.core.clock import SHANGHAI, as_utc
from app.core.money import allocate, percent_of

# The channels an order can come from, listed once. Online: sold through the platform; `pos`: at a store's till.
Channel = Literal["retail", "wholesale", "community", "pos"]
CHANNELS: tuple[str, ...] = get_args(Channel)
ONLINE_CHANNELS = ("retail", "wholesale", "community")

FREE_SHIPPING_FROM = 9_900  # fen: delivery is free from ¥99 (after discount)
DELIVERY_FEE = 1_000  # fen: ¥10 below that
RETURN_DAYS = 7
QUALITY_RETURN_DAYS = 15  # returns over a quality problem: 15 Shanghai days after delivery (our choice, see docs)
REFUND_DAYS_AFTER_RECEIPT = 7  # R7 art. 13: refund within 7 days of receiving the returned goods
ESCALATE_AFTER_DAYS = 7  # C32: an unsettled return goes to the platform ...
ALERT_AFTER_DAYS = 15  # ... and past 15 days it is a punishable breach (R7 art. 31)
NON_RETURNABLE_ATTRIBUTES = ("custom_made", "digital")
REJECTION_CODES = ("hygiene_seal_broken", "electronics_activated_or_modified", "tags_removed_or_soiled")  # R7 art. 9


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
                fulfilment_type: str = "delivery", charge_shipping: bool = True,
                shipping_quote: Callable[[Sequence[tuple[int, int]]], int] | None = None) -> Totals:
    """Totals of (quantity, unit_price) lines; the discount is spread over lines to the fen. Delivery is priced by
    `shipping_quote` from each line's (quantity, amount after discount) when the merchant's templates apply."""
    amounts = [q * p for q, p in lines]
    subtotal = sum(amounts)
    discount = order_discount(subtotal, promotion_kind, promotion_value)
    shares = allocate(discount, amounts)
    priced = tuple(PricedLine(q, p, d) for (q, p), d in zip(lines, shares, strict=True))
    if not charge_shipping or fulfilment_type != "delivery":
        shipping = 0
    elif shipping_quote is not None:
        shipping = shipping_quote([(ln.quantity, ln.total) for ln in priced])
    else:
        shipping = shipping_fee(fulfilment_type, subtotal - discount)
    return Totals(priced, subtotal, discount, shipping, subtotal - discount + shipping)


def _end_of_day_after(delivered_at: datetime, days: int) -> datetime:
    """Midnight (Shanghai) ending the `days`-th calendar day after delivery (the day after delivery is day 1)."""
    local = as_utc(delivered_at).astimezone(SHANGHAI)
    return datetime.combine(local.date() + timedelta(days=days + 1), datetime.min.time(), tzinfo=SHANGHAI)


def return_deadline(delivered_at: datetime) -> datetime:
    """End of the 7th Shanghai calendar day after delivery (the day after delivery is day 1)."""
    return _end_of_day_after(delivered_at, RETURN_DAYS)


def quality_return_deadline(delivered_at: datetime) -> datetime:
    """End of the 15th Shanghai calendar day after delivery: returns over a quality problem."""
    return _end_of_day_after(delivered_at, QUALITY_RETURN_DAYS)


def return_refusal(*, delivered_at: datetime | None, now: datetime, category_returnable: bool,
                   attributes: dict[str, str] | None = None, return_class: str = "standard",
                   return_reason: str | None = None, exclusion_confirmed: bool = False,
                   kind: str = "no_reason") -> str | None:
    """Why a return of a line is refused, or None when it is allowed.

    No-reason returns (C29, C30): excluded categories and listings excluded by law are refused;
    `confirm_required` listings only when the buyer confirmed the exclusion at purchase; then the 7-day
    window. Returns over a quality problem follow the warranty, not these exclusions: 15 days.
    """
    if delivered_at is None:
        return "the order has not been delivered"
    if kind == "quality":
        if as_utc(now) >= quality_return_deadline(delivered_at):
            return f"the {QUALITY_RETURN_DAYS}-day window for returns over a quality problem has ended"
        return None
    if not category_returnable:
        return "this category is excluded from 7-day no-reason returns (fresh goods, services)"
    for flag in NON_RETURNABLE_ATTRIBUTES:
        if (attributes or {}).get(flag) in ("true", "1", "yes"):
            return f"{flag.replace('_', '-')} goods are excluded from 7-day no-reason returns"
    if return_class == "statutory_excluded":
        return f"{(return_reason or 'these').replace('_', '-')} goods are excluded from 7-day no-reason returns by law"
    if return_class == "confirm_required" and exclusion_confirmed:
        return (f"you confirmed at purchase that this item ({(return_reason or '').replace('_', ' ')}) is excluded "
                "from 7-day no-reason returns")
    if as_utc(now) >= return_deadline(delivered_at):
        return "the 7-day return window has ended"
    return None


def return_shipping_payer(kind: str, *, free_return_shipping: bool) -> str:
    """Who pays to send the goods back (C34): the seller for quality problems or when it promised to."""
    return "seller" if kind == "quality" or free_return_shipping else "buyer"


def refund_for(line_total: int, line_quantity: int, returned_before: int, quantity: int) -> int:
    """Refund for returning `quantity` more units of a line, exact to the fen over successive returns."""
    before = line_total * returned_before // line_quantity
    after = line_total * (returned_before + quantity) // line_quantity
    return after - before


@dataclass(frozen=True, slots=True)
class Leg:
    """One way an order was paid: `payment` (the payment method: card, cash, terms) or `coupon`."""

    kind: str
    paid: int
    refunded: int = 0


def split_refund(amount: int, legs: Sequence[Leg]) -> list[int]:
    """Split `amount` over payment legs in proportion to what each paid, exact to the fen (C33).

    The parts add up to `amount`; no leg gets more than it has left (paid − refunded): what a full leg
    cannot take goes to the others, again in proportion. More than is left on all legs is a ValueError.
    """
    left = [leg.paid - leg.refunded for leg in legs]
    if amount < 0 or any(x < 0 for x in left) or amount > sum(left):
        raise ValueError(f"cannot refund {amount} over legs with {sum(left)} left")
    parts = [0] * len(legs)
    remaining = amount
    open_legs = [i for i, x in enumerate(left) if x > 0]
    while remaining:
        shares = allocate(remaining, [max(legs[i].paid, 1) for i in open_legs])
        remaining = 0
        for i, share in zip(open_legs, shares, strict=True):
            take = min(share, left[i] - parts[i])
            parts[i] += take
            remaining += share - take
        open_legs = [i for i in open_legs if parts[i] < left[i]]
    return parts


def return_legs(legs: Sequence[Leg], *, unit_price: int, returned_before: int, quantity: int) -> list[int]:
    """What each leg gives back for `quantity` more units of a line whose units cost `unit_price` at the sale.

    The goods' value at the sale's prices is split over the line's legs (its share of the payment and of the
    coupon) cumulatively: what all returns so far are due, minus what earlier returns took. Partial returns
    therefore add up exactly to what each leg paid once every unit is back.
    """
    whole = [Leg(leg.kind, leg.paid) for leg in legs]
    cap = sum(leg.paid for leg in legs)
    before = split_refund(min(unit_price * returned_before, cap), whole)
    after = split_refund(min(unit_price * (returned_before + quantity), cap), whole)
    return [a - b for a, b in zip(after, before, strict=True)]


def return_flags(*, status: str, requested_at: datetime | None, received_at: datetime | None,
                 now: datetime) -> tuple[bool, bool]:
    """(escalated, alert) for a return the seller still owes money on (C32).

    The clock runs from receipt of the goods (from the request when the refund was due at once): past
    7 days the platform steps in, past 15 days it is a punishable breach. Nothing runs while the goods
    are on their way back, or once the return is refunded or rejected.
    """
    if status == "received":
        since = received_at
    elif status == "refund_pending":
        since = received_at or requested_at
    else:
        return False, False
    if since is None:
        return False, False
    age = as_utc(now) - as_utc(since)
    return age >= timedelta(days=ESCALATE_AFTER_DAYS), age >= timedelta(days=ALERT_AFTER_DAYS)


_NUM = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def order_number(now: datetime) -> str:
    """Readable and unambiguous: the Shanghai date and two groups of five characters, e.g. 261127-7K3F9-QM2XA.

    Random, so numbers say nothing of a shop's sales. Fifty bits a day: at a million orders a day two of them
    draw the same number about once in six years (the second is refused with a 503 and placed when sent again;
    `orders.service.place_orders`). Six characters (30 bits) clashed within a single benchmark's 30,000 orders.
    """
    local = as_utc(now).astimezone(SHANGHAI)
    bits = secrets.randbits(50)  # ten characters of 5 bits each (`_NUM` has 32)
    chars = "".join(_NUM[bits >> shift & 31] for shift in range(0, 50, 5))
    return f"{local:%y%m%d}-{chars[:5]}-{chars[5:]}"
