"""What a rule collection holds: pure rules, no database."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

RULE_FIELDS = ("category", "price_min", "price_max", "keyword")


def describe(rule: Mapping[str, Any] | None, category_names: Mapping[str, str]) -> str:
    """The rule in the merchant's words (Chinese), for the console: 分类：服装鞋帽 · 价格 ¥50.00–¥200.00."""
    if not rule:
        return "手动挑选"
    parts = []
    if rule.get("category"):
        parts.append(f"分类：{category_names.get(rule['category'], rule['category'])}")
    low, high = rule.get("price_min"), rule.get("price_max")
    if low is not None or high is not None:
        parts.append("价格 " + (f"¥{low / 100:,.2f}" if low is not None else "") + "–"
                     + (f"¥{high / 100:,.2f}" if high is not None else ""))
    if rule.get("keyword"):
        parts.append(f"含“{rule['keyword']}”")
    return " · ".join(parts)


def matches(rule: Mapping[str, Any], *, category: str, prices: list[int], search_text: str) -> bool:
    """Whether a product fits the rule: its category, any variant's price in the range, the keyword in its
    texts (`search_text` and the keyword both normalised). The database query says the same in SQL."""
    if rule.get("category") and category != rule["category"]:
        return False
    low, high = rule.get("price_min"), rule.get("price_max")
    if (low is not None or high is not None) and not any(
            (low is None or p >= low) and (high is None or p <= high) for p in prices):
        return False
    return not (rule.get("keyword") and rule["keyword"] not in search_text)
