"""Wholesale rules that need no database: tier prices, line checks, credit and due dates.

A line's unit price is the best tier its quantity reaches: the buyer's own price list first (when one
of its tiers is reached), then the variant's volume tiers, then the variant's list price. "Best" is
the tier with the highest `min_qty` not above the quantity; tiers normally fall as quantities grow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from app.core.money import MAX_AMOUNT


# Tuples, not dataclasses: an order holds tens of thousands of these, and tuples of plain values are
# left alone by the cyclic garbage collector.
class Tier(NamedTuple):
    min_qty: int
    unit_price: int


class Terms(NamedTuple):
    """What the catalogue says about selling a variant in bulk."""

    wholesale: bool
    moq: int
    pack_size: int


# Line error codes, in the order they are checked. Messages say what to fix.
UNKNOWN_SKU = "unknown_sku"
DUPLICATE_SKU = "duplicate_sku"
INVALID_QUANTITY = "invalid_quantity"
NOT_FOR_WHOLESALE = "not_for_wholesale"
BELOW_MOQ = "below_moq"
NOT_PACK_MULTIPLE = "not_pack_multiple"
OUT_OF_STOCK = "out_of_stock"
LINE_TOO_LARGE = "line_too_large"
MAX_QUANTITY = 10_000_000


def best_tier(tiers: Sequence[Tier], quantity: int) -> Tier | None:
    """The tier with the highest `min_qty` that `quantity` reaches, or None when none is reached."""
    reached = [t for t in tiers if t.min_qty <= quantity]
    return max(reached, key=lambda t: t.min_qty) if reached else None


def unit_price(*, list_price: int, tiers: Sequence[Tier], quantity: int,
               buyer_tiers: Sequence[Tier] = ()) -> int:
    """The unit price (fen) of a line: buyer price list first, then volume tiers, then the list price."""
    for candidates in (buyer_tiers, tiers):
        tier = best_tier(candidates, quantity)
        if tier is not None:
            return tier.unit_price
    return list_price


def line_error(terms: Terms, quantity: int) -> tuple[str, str] | None:
    """Why `quantity` of a variant cannot be ordered wholesale, as (code, message); None when it can."""
    if quantity < 1 or quantity > MAX_QUANTITY:
        return INVALID_QUANTITY, f"quantity must be between 1 and {MAX_QUANTITY}"
    if not terms.wholesale:
        return NOT_FOR_WHOLESALE, "this SKU is not sold wholesale"
    if quantity < terms.moq:
        return BELOW_MOQ, f"below the minimum order quantity of {terms.moq}"
    if quantity % terms.pack_size:
        return NOT_PACK_MULTIPLE, f"quantity must be a multiple of the pack size {terms.pack_size}"
    return None


def total_error(unit_price: int, quantity: int) -> tuple[str, str] | None:
    """Why a line priced at `unit_price` cannot be ordered in `quantity` (its total is beyond any amount); None
    when it can."""
    if unit_price * quantity > MAX_AMOUNT:
        return LINE_TOO_LARGE, f"the line's total (quantity x unit price) may not exceed {MAX_AMOUNT} fen"
    return None


def parse_quantity(raw: str) -> int | None:
    """A quantity typed in a CSV cell ("120", " 120 ", "1,200"); None when it is not a whole number."""
    text = raw.strip().replace(",", "").replace("_", "")
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    return int(text)


@dataclass(frozen=True, slots=True)
class Credit:
    limit: int
    used: int

    @property
    def open(self) -> int:
        """What may still be bought on terms (never shown below zero)."""
        return max(self.limit - self.used, 0)

    def allows(self, amount: int) -> bool:
        return self.used + amount <= self.limit


def due_at(placed_at: datetime, payment_terms_days: int) -> datetime:
    """Net N days: payment is due N days after the order is placed."""
    return placed_at + timedelta(days=payment_terms_days)
