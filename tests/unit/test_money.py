import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.money import allocate, format_amount, percent_of


def test_percent_rounds_half_up():
    assert percent_of(999, 1_000) == 100  # 99.9 -> 100
    assert percent_of(1_005, 5_000) == 503  # 502.5 -> 503
    assert percent_of(0, 1_000) == 0


def test_percent_rejects_negatives():
    with pytest.raises(ValueError):
        percent_of(-1, 100)


def test_allocate_splits_exactly_by_weight():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(10, [0, 5, 5]) == [0, 5, 5]
    assert allocate(7, []) == []


@given(st.integers(0, 10**9), st.lists(st.integers(0, 10**6), min_size=1, max_size=30))
def test_allocate_never_loses_or_makes_money(total: int, weights: list[int]) -> None:
    parts = allocate(total, weights)
    assert sum(parts) == (total if sum(weights) else 0)
    assert all(p >= 0 for p in parts)


def test_format_amount():
    assert format_amount(12345) == "¥123.45"
    assert format_amount(-5, "USD") == "-$0.05"
