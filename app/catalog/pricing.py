"""Price changes by percentage: pure rules, no database."""

from __future__ import annotations

from decimal import Decimal

from app.core.money import MAX_AMOUNT


def basis_points(percent: Decimal) -> int:
    """A percentage with at most two decimals (the schema's limit) as whole basis points: 5.5 % -> 550."""
    return int(percent * 100)


def scaled(price: int, bp: int) -> int:
    """`price` (fen) changed by `bp` basis points, rounded half up to the fen, in integers (no float drift).

    A price never goes below one fen by a cut (a free item stays free): 1 fen at -50 % is still 1 fen.
    """
    numerator = price * (10_000 + bp)
    result = (numerator + 5_000) // 10_000
    return max(result, 1) if price > 0 else 0


def too_large(price: int) -> bool:
    return price > MAX_AMOUNT
