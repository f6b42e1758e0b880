from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.clock import SHANGHAI
from app.orders.rules import order_discount, order_number, price_order, refund_for, return_deadline, return_refusal


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_totals_with_percent_promotion_and_shipping() -> None:
    t = price_order([(2, 1_999), (1, 3_000)], promotion_kind="percent", promotion_value=10)
    assert t.subtotal == 6_998 and t.discount == 700
    assert sum(line.discount for line in t.lines) == 700
    assert t.shipping == 1_000  # 62.98 of goods < 99
    assert t.total == 6_998 - 700 + 1_000


def test_free_delivery_from_99_and_free_pickup() -> None:
    assert price_order([(1, 9_900)]).shipping == 0
    assert price_order([(1, 100)], fulfilment_type="pickup").shipping == 0


def test_amount_discount_never_exceeds_subtotal() -> None:
    assert order_discount(500, "amount", 2_000) == 500
    assert order_discount(500, None, 0) == 0


@pytest.mark.parametrize(("now", "allowed"), [
    (sh(2026, 11, 10, 9, 0), True),          # day of delivery
    (sh(2026, 11, 13, 12, 0), True),         # day 3
    (sh(2026, 11, 17, 23, 59, 59), True),    # 23:59:59 on day 7
    (sh(2026, 11, 18, 0, 0), False),         # 00:00 on day 8
])
def test_seven_day_window_counts_shanghai_days_from_the_day_after(now: datetime, allowed: bool) -> None:
    delivered = sh(2026, 11, 10, 22, 30)  # 14:30 UTC
    refusal = return_refusal(delivered_at=delivered.astimezone(UTC), now=now.astimezone(UTC),
                             category_returnable=True)
    assert (refusal is None) == allowed
    assert return_deadline(delivered) == sh(2026, 11, 18, 0, 0)


def test_late_evening_utc_delivery_is_the_next_shanghai_day() -> None:
    delivered = datetime(2026, 11, 10, 17, 0, tzinfo=UTC)  # 01:00 on the 11th in Shanghai
    assert return_deadline(delivered) == sh(2026, 11, 19, 0, 0)


def test_exclusions() -> None:
    now = sh(2026, 11, 11)
    delivered = sh(2026, 11, 10)
    assert "excluded" in (return_refusal(delivered_at=delivered, now=now, category_returnable=False) or "")
    assert "custom-made" in (return_refusal(delivered_at=delivered, now=now, category_returnable=True,
                                            attributes={"custom_made": "true"}) or "")
    assert "digital" in (return_refusal(delivered_at=delivered, now=now, category_returnable=True,
                                        attributes={"digital": "yes"}) or "")
    assert return_refusal(delivered_at=None, now=now, category_returnable=True) == "the order has not been delivered"


@given(st.integers(1, 10**7), st.integers(1, 50), st.data())
def test_successive_partial_refunds_add_up_to_the_line_total(total: int, quantity: int, data: st.DataObject) -> None:
    returned = 0
    refunded = 0
    while returned < quantity:
        q = data.draw(st.integers(1, quantity - returned))
        refunded += refund_for(total, quantity, returned, q)
        returned += q
    assert refunded == total


def test_order_numbers_are_readable() -> None:
    n = order_number(datetime(2026, 11, 27, 20, 0, tzinfo=UTC))  # 04:00 on the 28th in Shanghai
    date, first, second = n.split("-")
    assert date == "261128" and len(first) == len(second) == 5
    assert not set(first + second) & set("01IO")
