from __future__ import annotations

from decimal import Decimal

from app.catalog.pricing import basis_points, scaled


def test_percent_to_basis_points() -> None:
    assert basis_points(Decimal("5.5")) == 550
    assert basis_points(Decimal("-10")) == -1000
    assert basis_points(Decimal("0.01")) == 1


def test_rounds_half_up_to_the_fen() -> None:
    assert scaled(7890, -1000) == 7101  # ¥78.90 - 10 % = ¥71.01
    assert scaled(999, 1000) == 1099  # 1098.9 -> 1099
    assert scaled(5, -1000) == 5  # 4.5 -> 5 (half up)
    assert scaled(15, -1000) == 14  # 13.5 -> 14
    assert scaled(12345, 0) == 12345


def test_a_cut_never_makes_a_priced_item_free() -> None:
    assert scaled(1, -9999) == 1
    assert scaled(0, 5000) == 0
