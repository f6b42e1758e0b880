"""Return rules without a database: classes, refusals, refund legs, escalation, shipping payer."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from app.catalog import returns
from app.orders.rules import (
    Leg,
    quality_return_deadline,
    return_flags,
    return_legs,
    return_refusal,
    return_shipping_payer,
    split_refund,
)


def test_return_class_and_reason_must_come_from_the_closed_lists():
    assert returns.class_error("standard", None) is None
    assert returns.class_error("statutory_excluded", "custom_made") is None
    assert returns.class_error("confirm_required", "near_expiry_or_defective_disclosed") is None
    assert returns.class_error("standard", "fresh")
    assert returns.class_error("statutory_excluded", None)
    assert returns.class_error("statutory_excluded", "unsafe_once_unsealed")  # a confirm-only reason
    assert returns.class_error("confirm_required", "digital")  # a statutory reason
    assert returns.class_error("final_sale", None)


def test_every_class_and_reason_has_a_label_in_both_languages():
    for cls, reasons in returns.REASONS_BY_CLASS.items():
        for reason in reasons or (None,):
            label = returns.label("apparel", cls, reason)
            assert label["zh"] and label["en"] and (cls, reason) in returns.LABELS
    assert returns.label("fresh", "standard", None) == {"zh": returns.CATEGORY_LABELS["fresh"][0],
                                                       "en": returns.CATEGORY_LABELS["fresh"][1]}


NOW = datetime(2026, 3, 3, 4, tzinfo=UTC)
DELIVERED = datetime(2026, 3, 1, 4, tzinfo=UTC)


def test_statutory_exclusions_refuse_no_reason_returns_only():
    kw = {"delivered_at": DELIVERED, "now": NOW, "category_returnable": True}
    assert "custom-made goods are excluded" in (return_refusal(**kw, return_class="statutory_excluded",
                                                               return_reason="custom_made") or "")
    assert return_refusal(**kw, return_class="statutory_excluded", return_reason="custom_made", kind="quality") is None
    assert return_refusal(**{**kw, "category_returnable": False}, kind="quality") is None


def test_confirm_required_is_refused_only_with_the_buyers_confirmation():
    kw = {"delivered_at": DELIVERED, "now": NOW, "category_returnable": True, "return_class": "confirm_required",
          "return_reason": "value_lost_once_activated"}
    assert return_refusal(**kw, exclusion_confirmed=False) is None
    assert "you confirmed at purchase" in (return_refusal(**kw, exclusion_confirmed=True) or "")


def test_quality_returns_run_to_the_end_of_the_15th_shanghai_day():
    deadline = quality_return_deadline(DELIVERED)  # delivered 12:00 on 1 March, Shanghai
    assert deadline == datetime(2026, 3, 17, tzinfo=UTC) - timedelta(hours=8)
    kw = {"delivered_at": DELIVERED, "category_returnable": True, "kind": "quality"}
    assert return_refusal(**kw, now=deadline - timedelta(seconds=1)) is None
    assert "15-day" in (return_refusal(**kw, now=deadline) or "")


def test_shipping_payer():
    assert return_shipping_payer("no_reason", free_return_shipping=False) == "buyer"
    assert return_shipping_payer("no_reason", free_return_shipping=True) == "seller"
    assert return_shipping_payer("quality", free_return_shipping=False) == "seller"


def test_split_is_proportional_exact_and_never_above_a_leg():
    assert split_refund(15_000, [Leg("payment", 10_000), Leg("coupon", 5_000)]) == [10_000, 5_000]
    assert split_refund(3_000, [Leg("payment", 10_000), Leg("coupon", 5_000)]) == [2_000, 1_000]
    assert split_refund(1, [Leg("payment", 1), Leg("coupon", 1)]) == [1, 0]  # ties go to the earlier leg
    # A leg that has little left takes only that; the rest moves to the others.
    assert split_refund(6_000, [Leg("payment", 10_000, refunded=9_000), Leg("coupon", 5_000)]) == [1_000, 5_000]
    with pytest.raises(ValueError):
        split_refund(15_001, [Leg("payment", 10_000), Leg("coupon", 5_000)])
    rng = random.Random(7)
    for _ in range(500):
        legs = [Leg(f"l{i}", rng.randint(0, 50_000), 0) for i in range(rng.randint(1, 4))]
        legs = [Leg(leg.kind, leg.paid, rng.randint(0, leg.paid)) for leg in legs]
        amount = rng.randint(0, sum(leg.paid - leg.refunded for leg in legs))
        parts = split_refund(amount, legs)
        assert sum(parts) == amount
        assert all(0 <= p <= leg.paid - leg.refunded for p, leg in zip(parts, legs, strict=True))


def test_partial_returns_add_up_to_each_leg_exactly():
    rng = random.Random(11)
    for _ in range(300):
        quantity = rng.randint(1, 12)
        unit_price = rng.randint(1, 99_999)
        discount = rng.randint(0, quantity * unit_price)
        legs = [Leg("payment", quantity * unit_price - discount), Leg("coupon", discount)]
        returned, totals = 0, [0, 0]
        while returned < quantity:
            step = rng.randint(1, quantity - returned)
            parts = return_legs(legs, unit_price=unit_price, returned_before=returned, quantity=step)
            assert sum(parts) == unit_price * step and min(parts) >= 0
            totals = [t + p for t, p in zip(totals, parts, strict=True)]
            returned += step
        assert totals == [legs[0].paid, legs[1].paid]


def test_escalation_runs_from_receipt_and_stops_when_settled():
    received = NOW
    assert return_flags(status="received", requested_at=DELIVERED, received_at=received,
                        now=received + timedelta(days=6, hours=23)) == (False, False)
    assert return_flags(status="received", requested_at=DELIVERED, received_at=received,
                        now=received + timedelta(days=7)) == (True, False)
    assert return_flags(status="received", requested_at=DELIVERED, received_at=received,
                        now=received + timedelta(days=15)) == (True, True)
    assert return_flags(status="awaiting_goods", requested_at=DELIVERED, received_at=None,
                        now=NOW + timedelta(days=30)) == (False, False)
    assert return_flags(status="refunded", requested_at=DELIVERED, received_at=received,
                        now=NOW + timedelta(days=30)) == (False, False)
    assert return_flags(status="refund_pending", requested_at=DELIVERED, received_at=None,
                        now=DELIVERED + timedelta(days=8)) == (True, False)
