"""The group-buy outcome, join refusals, leader commission and overdue pickups, without a database."""

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from app.community.rules import (
    CloseDecision,
    JoinState,
    commission,
    decide_close,
    is_overdue,
    join_refusal,
    shanghai_day_bounds,
    slot_refusal,
)

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def _joins(*specs: tuple[int, str]) -> list[JoinState]:
    return [JoinState(f"o{i}", q, status) for i, (q, status) in enumerate(specs)]


def test_reaching_the_minimum_succeeds_and_keeps_committed_orders():
    joins = _joins(*[(1, "confirmed")] * 30, *[(1, "paid")] * 20)
    assert decide_close(50, joins) == CloseDecision("succeeded", 50, ())


def test_one_short_fails_and_cancels_every_live_order():
    joins = _joins(*[(1, "confirmed")] * 40, *[(1, "paid")] * 9, (2, "cancelled"))
    decision = decide_close(50, joins)
    assert decision.outcome == "failed" and decision.committed_quantity == 49
    assert decision.cancel_order_ids == tuple(f"o{i}" for i in range(49))


def test_unpaid_orders_do_not_count_and_are_cancelled_on_success():
    joins = _joins((5, "confirmed"), (3, "pending_payment"), (1, "cancelled"))
    assert decide_close(5, joins) == CloseDecision("succeeded", 5, ("o1",))
    assert decide_close(6, joins) == CloseDecision("failed", 5, ("o0", "o1"))


def test_goods_already_handed_over_count_and_are_never_cancelled():
    joins = _joins((2, "completed"), (1, "confirmed"))
    assert decide_close(3, joins) == CloseDecision("succeeded", 3, ())
    assert decide_close(4, joins) == CloseDecision("failed", 3, ("o1",))


def test_an_empty_group_buy_fails_with_nothing_to_cancel():
    assert decide_close(1, []) == CloseDecision("failed", 0, ())


@given(st.lists(st.tuples(st.integers(1, 20), st.sampled_from(["paid", "confirmed", "pending_payment",
                                                                "cancelled", "completed"])), max_size=40),
       st.integers(1, 200))
def test_outcome_follows_committed_units_and_never_cancels_twice(specs, minimum):
    joins = _joins(*specs)
    decision = decide_close(minimum, joins)
    committed = sum(q for q, s in specs if s in ("paid", "confirmed", "completed"))
    assert decision.committed_quantity == committed
    assert decision.outcome == ("succeeded" if committed >= minimum else "failed")
    settled = {j.order_id for j in joins if j.order_status in ("cancelled", "completed")}
    assert not settled & set(decision.cancel_order_ids)
    kept = {j.order_id for j in joins} - settled - set(decision.cancel_order_ids)
    if decision.outcome == "failed":
        assert kept == set()


def test_join_refusals_name_the_field():
    later = NOW + timedelta(hours=1)
    ok = {"status": "open", "closes_at": later, "now": NOW, "joined": 0, "max_quantity": 10, "quantity": 3,
          "serves_point": True}
    assert join_refusal(**ok) is None
    assert join_refusal(**{**ok, "closes_at": NOW}) == ("group_buy", "this group-buy is closed")
    assert join_refusal(**{**ok, "status": "failed"}) == ("group_buy", "this group-buy is closed")
    assert join_refusal(**{**ok, "serves_point": False})[0] == "pickup_point_id"
    assert join_refusal(**{**ok, "joined": 8}) == ("quantity", "only 2 left in this group-buy")
    assert join_refusal(**{**ok, "joined": 10}) == ("quantity", "this group-buy is full")


def test_commission_rounds_once_on_the_sum_half_up():
    assert commission([333, 666, 2_331], 375) == 125  # 124.875
    assert commission([100] * 3, 150) == 5  # 4.5 -> 5, where rounding each order would give 3 × 2 = 6
    assert commission([], 500) == 0
    assert commission([12_345], 0) == 0


def test_overdue_counts_shanghai_days_after_the_pickup_date():
    pickup = date(2026, 11, 28)
    # 2026-11-30 23:59 Shanghai is 15:59 UTC: two days after, not yet overdue with 3 days allowed
    assert not is_overdue(pickup, datetime(2026, 11, 30, 15, 59, tzinfo=UTC), days=3)
    assert is_overdue(pickup, datetime(2026, 11, 30, 16, 0, tzinfo=UTC), days=3)


def test_shanghai_day_bounds_cover_whole_days():
    start, end = shanghai_day_bounds(date(2026, 11, 1), date(2026, 11, 30))
    assert start.astimezone(UTC) == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)


def test_slot_refusals():
    assert slot_refusal(starts_at=NOW + timedelta(hours=1), now=NOW, booked=2, capacity=3) is None
    assert slot_refusal(starts_at=NOW + timedelta(hours=1), now=NOW, booked=3, capacity=3) == \
        "this slot is fully booked"
    assert slot_refusal(starts_at=NOW, now=NOW, booked=0, capacity=3) == "this slot has already started"
