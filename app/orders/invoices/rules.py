"""Invoice rules that need no database: the request's checks, tax in tax-inclusive amounts, the lines of blue
and red invoices and invoice numbers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.core.uscc import uscc_is_valid

KINDS = ("personal", "company")
SHIPPING_SKU = "SHIPPING"  # the delivery charge's line on an invoice
SHIPPING_TITLE = "运费"


def request_errors(kind: str, title: str, taxpayer_id: str | None) -> list[dict[str, str]]:
    """What is wrong with an invoice request (field, message): a company needs a valid unified social credit
    code; a title is always needed."""
    errors = []
    if kind not in KINDS:
        errors.append({"field": "kind", "message": "personal or company"})
    if not title.strip():
        errors.append({"field": "title", "message": "the buyer's name, or the company's name"})
    if kind == "company":
        if not taxpayer_id:
            errors.append({"field": "taxpayer_id", "message": "a company invoice needs the taxpayer number "
                                                             "(unified social credit code)"})
        elif not uscc_is_valid(taxpayer_id):
            errors.append({"field": "taxpayer_id", "message": "not a valid unified social credit code "
                                                             "(18 characters with a correct check character)"})
    elif taxpayer_id and not uscc_is_valid(taxpayer_id):
        errors.append({"field": "taxpayer_id", "message": "not a valid unified social credit code"})
    return errors


def tax_in(amount: int, rate: int) -> int:
    """The VAT inside a tax-inclusive amount (fen) at `rate` percent: amount × rate / (100 + rate), rounded half
    away from zero to the fen (a red line's tax is the negative of the same blue line's)."""
    whole, twice = abs(amount) * rate, 100 + rate
    tax = (2 * whole + twice) // (2 * twice)
    return -tax if amount < 0 else tax


@dataclass(frozen=True, slots=True)
class Goods:
    """What is invoiced of one order line: its units and what the buyer paid for them (tax included)."""

    sku: str
    title: str
    quantity: int
    amount: int
    tax_rate: int


def invoice_line(goods: Goods) -> dict[str, Any]:
    return {"sku": goods.sku, "title": goods.title, "quantity": goods.quantity, "amount": goods.amount,
            "tax_rate": goods.tax_rate, "tax": tax_in(goods.amount, goods.tax_rate)}


def blue_lines(goods: Sequence[Goods], *, shipping: int) -> list[dict[str, Any]]:
    """A blue invoice's lines: the goods, then delivery as its own line when it was charged.

    Delivery charged by the seller with the goods is part of their sale (价外费用) and takes the goods' rate; with
    goods at several rates, the highest."""
    lines = [invoice_line(g) for g in goods if g.quantity > 0]
    if shipping > 0:
        rate = max((g.tax_rate for g in goods), default=13)
        lines.append(invoice_line(Goods(SHIPPING_SKU, SHIPPING_TITLE, 1, shipping, rate)))
    return lines


def red_lines(returned: Sequence[Goods]) -> list[dict[str, Any]]:
    """A red invoice's lines: the refunded goods with negative quantities and amounts."""
    return [invoice_line(Goods(g.sku, g.title, -g.quantity, -g.amount, g.tax_rate)) for g in returned
            if g.quantity > 0 or g.amount > 0]


def totals(lines: Sequence[dict[str, Any]]) -> tuple[int, int]:
    """(total, tax_total): sums of the lines, so the invoice's tax always equals its lines' tax."""
    return sum(int(ln["amount"]) for ln in lines), sum(int(ln["tax"]) for ln in lines)


def invoice_number(year: int, seq: int) -> str:
    """The merchant's `seq`-th invoice: year and an 8-digit running number (2026 00000001)."""
    return f"{year:04d}{seq:08d}"
