"""The seller credit score (C18): a published, versioned formula over stored facts, recomputable at will.

Version `v1` (published at the URL in `SHOP_CREDIT_RULES_URL`):

    score = 600
          + round(200 × (average rating − 3) / 2 × min(1, ratings / 20))   # −200 … +200, trusted from 20 ratings
          + min(100, completed orders // 10)                            # +1 per 10 completed orders, up to +100
          + round(50 × (2 × shipped on time / due − 1))                 # fulfilment speed, −50 … +50,
                                                                        #   from 10 orders due
          − min(100, round(100 × orders with a return / delivered))     # returns, from 10 delivered orders
          − 40 × upheld complaints                                      # complaints the platform upheld
          − 80 × takedowns                                              # listings the platform took down
          − 30 × seller cancellations                                   # paid orders it cancelled alone (C15)
    clamped to 0 … 1000.

"On time": shipped by the order's promised dispatch time (C28; 48 h after payment unless the merchant promised
otherwise), or within 48 h of placing for orders from before promises. "Due": orders shipped, plus orders still
waiting to ship after their promised time (late shipments count against the seller before they ship).

The last term joined v1 with the rule that a merchant may cancel a paid order alone only by refunding at once
under a published code; no order was cancelled that way before, so every score published earlier is unchanged.

A new formula gets a new version; the old one stays here so published scores can be re-derived.
"""

from __future__ import annotations

from dataclasses import dataclass

FORMULA_VERSION = "v1"
BASE = 600


@dataclass(frozen=True, slots=True)
class CreditFacts:
    rating_count: int = 0
    rating_sum: int = 0
    completed_orders: int = 0
    upheld_complaints: int = 0
    takedowns: int = 0
    shipped_orders: int = 0
    shipped_within_48h: int = 0
    delivered_orders: int = 0
    returned_orders: int = 0
    overdue_unshipped: int = 0  # paid or confirmed, not shipped, past the promised dispatch time
    seller_cancellations: int = 0  # paid orders the merchant cancelled alone under a published code

    @property
    def late_shipments(self) -> int:
        """Shipped after the promise, or not shipped by it (C28's late flag)."""
        return self.shipped_orders - self.shipped_within_48h + self.overdue_unshipped


MIN_SAMPLE = 10  # orders before fulfilment speed and returns count


def average_rating(rating_count: int, rating_sum: int) -> float | None:
    """Mean rating to one decimal, or None before the first review."""
    return round(rating_sum / rating_count, 1) if rating_count else None


def credit_score_v1(facts: CreditFacts) -> int:
    """The v1 credit score of a seller (0 … 1000)."""
    score = BASE
    if facts.rating_count:
        # Integer arithmetic: 200 × (sum/count − 3)/2 × min(count, 20)/20 = 5 × (sum − 3·count) × min(count, 20)/count
        weight = min(facts.rating_count, 20)
        num = 5 * (facts.rating_sum - 3 * facts.rating_count) * weight
        score += round(num / facts.rating_count)
    score += min(100, facts.completed_orders // 10)
    due = facts.shipped_orders + facts.overdue_unshipped
    if due >= MIN_SAMPLE:
        score += round(50 * (2 * facts.shipped_within_48h - due) / due)
    if facts.delivered_orders >= MIN_SAMPLE:
        score -= min(100, round(100 * facts.returned_orders / facts.delivered_orders))
    score -= 40 * facts.upheld_complaints + 80 * facts.takedowns + 30 * facts.seller_cancellations
    return max(0, min(1000, score))


FORMULAS = {"v1": credit_score_v1}
