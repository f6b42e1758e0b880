import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.money import allocate, fen_to_yuan, format_amount, percent_of, yuan_to_fen


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


@pytest.mark.parametrize(
    ("text", "fen"),
    [("0.10", 10), ("0.1", 10), ("1234.56", 123456), ("12", 1200), ("0.01", 1), ("0", 0), ("100000000.00", 10**10)],
)
def test_yuan_text_parses_to_exact_fen(text: str, fen: int) -> None:
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize(
    "text",
    ["", "1.234", "1e3", " 1.00", "1.00 ", "01.00", "+1.00", "1,000.00", ".5", "1.", "NaN", "１.00", "1１.00", "0.１"],
)
def test_yuan_text_that_is_not_an_amount_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        yuan_to_fen(text)


def test_negative_yuan_only_when_asked() -> None:
    with pytest.raises(ValueError):
        yuan_to_fen("-5.00")
    assert yuan_to_fen("-5.01", allow_negative=True) == -501


@given(st.integers(-(10**12), 10**12))
def test_fen_to_yuan_round_trips(fen: int) -> None:
    assert yuan_to_fen(fen_to_yuan(fen), allow_negative=True) == fen


def test_fen_to_yuan_formats_two_decimals() -> None:
    assert fen_to_yuan(10) == "0.10"
    assert fen_to_yuan(123456) == "1234.56"
    with pytest.raises(ValueError):
        fen_to_yuan(True)
