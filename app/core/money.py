"""Money rules on integer minor units (fen). No floats anywhere."""

from __future__ import annotations

import re
from collections.abc import Sequence

# The largest amount any request may name, and the largest total of one line of goods (¥10,000,000,000): a line
# of the most units any channel takes at such a price still fits the 64-bit columns, and so do its sums.
MAX_AMOUNT = 10**12


def percent_of(amount: int, basis_points: int) -> int:
    """`amount` × `basis_points` / 10,000, rounded half up (10,000 bp = 100 %)."""
    if amount < 0 or basis_points < 0:
        raise ValueError("amount and basis_points must be non-negative")
    return (amount * basis_points + 5_000) // 10_000


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` across `weights` proportionally; the parts add up to `total` exactly.

    Largest-remainder method; ties go to the earlier weight. Used to spread an order discount over
    its lines so that refunds of single lines give back exactly what was paid for them.
    """
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("total and weights must be non-negative")
    whole = sum(weights)
    if whole == 0:
        return [0] * len(weights)
    parts = [total * w // whole for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % whole), i))
    for i in remainders[: total - sum(parts)]:
        parts[i] += 1
    return parts


def format_amount(amount: int, currency: str = "CNY") -> str:
    """Human form, e.g. 12345 CNY -> '¥123.45'."""
    symbol = {"CNY": "¥", "USD": "$", "EUR": "€"}.get(currency, currency + " ")
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount) // 100}.{abs(amount) % 100:02d}"


_YUAN_RE = re.compile(r"(-?)(0|[1-9][0-9]{0,15})(?:\.([0-9]{1,2}))?")  # ASCII digits only


def yuan_to_fen(text: str, *, allow_negative: bool = False) -> int:
    """Parse a provider's yuan amount ("0.10", "1234.56", "12") into fen, exactly (no floats).

    Raises ValueError for anything else: three decimals, exponents, spaces, a sign unless allowed.
    """
    match = _YUAN_RE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a yuan amount: {text!r}")
    sign, whole, cents = match.groups()
    if sign and not allow_negative:
        raise ValueError(f"negative amount: {text!r}")
    fen = int(whole) * 100 + int((cents or "0").ljust(2, "0"))
    return -fen if sign else fen


def fen_to_yuan(amount: int) -> str:
    """Fen as the yuan text payment providers take: 10 -> "0.10", 123456 -> "1234.56"."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise ValueError(f"amount must be an integer number of fen, got {amount!r}")
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100}.{abs(amount) % 100:02d}"
