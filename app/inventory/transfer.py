"""The stock CSV, both ways: one row per SKU and location, its counted `on_hand` (and `safety_stock`, kept
back from online sale). Pure rules, no database.

| column | meaning |
|---|---|
| sku | the variant's SKU |
| location | the location's code (WH1, PD ...) |
| on_hand | the counted quantity there (a stock-take: the ledger records the difference) |
| safety_stock | optional; units never sold online |
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.core.csvfile import Row, RowError

COLUMNS = ("sku", "location", "on_hand", "safety_stock")
REQUIRED = ("sku", "location", "on_hand")
MAX_QUANTITY = 10**9


@dataclass(frozen=True, slots=True)
class CountRow:
    line: int
    sku: str
    location: str
    on_hand: int
    safety_stock: int | None


def _quantity(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) <= MAX_QUANTITY else None


def parse(rows: Sequence[Row]) -> tuple[list[CountRow], list[RowError]]:
    """The counts of the rows, and every row error (a SKU and location counted twice included)."""
    counts: list[CountRow] = []
    errors: list[RowError] = []
    seen: dict[tuple[str, str], int] = {}
    for row in rows:
        c, before = row.cells, len(errors)
        if not c["sku"]:
            errors.append(RowError(row.line, "sku", "required"))
        if not c["location"]:
            errors.append(RowError(row.line, "location", "required: the location's code"))
        on_hand = _quantity(c["on_hand"])
        if on_hand is None:
            errors.append(RowError(row.line, "on_hand", "a whole number of units from 0"))
        safety = _quantity(c["safety_stock"]) if c["safety_stock"] else None
        if c["safety_stock"] and safety is None:
            errors.append(RowError(row.line, "safety_stock", "a whole number of units from 0"))
        key = (c["sku"], c["location"])
        if key in seen and len(errors) == before:
            errors.append(RowError(row.line, "sku", f"{c['sku']} at {c['location']} is also on line {seen[key]}"))
        if len(errors) > before or on_hand is None:
            continue
        seen[key] = row.line
        counts.append(CountRow(row.line, c["sku"], c["location"], on_hand, safety))
    return counts, errors
