"""VAT rates of goods (增值税税率), in whole percent: what an invoice line charges (no database).

A product may name its rate; otherwise its category's usual rate applies: agricultural produce, fresh food and
books 9 %, services 6 %, other goods 13 %. Small-scale taxpayers invoice at 3 %, exempt goods at 0 %.
"""

from __future__ import annotations

from typing import Literal

TaxRate = Literal[13, 9, 6, 3, 0]
TAX_RATES: tuple[int, ...] = (13, 9, 6, 3, 0)
STANDARD_RATE = 13
CATEGORY_TAX_RATES: dict[str, int] = {"agri": 9, "fresh": 9, "books-media": 9, "services": 6}


def default_tax_rate(category: str) -> int:
    """The usual VAT rate of a category's goods."""
    return CATEGORY_TAX_RATES.get(category, STANDARD_RATE)


def tax_rate_of(category: str, product_rate: int | None) -> int:
    """The rate that applies: the product's own, else its category's."""
    return default_tax_rate(category) if product_rate is None else product_rate
