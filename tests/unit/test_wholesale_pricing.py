"""Wholesale rules without a database: tier prices, line checks, credit, due dates, CSV reading."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.wholesale import pricing
from app.wholesale.csvfile import MalformedCsv, decode, parse_order_csv
from app.wholesale.pricing import Credit, Terms, Tier, line_error, unit_price

TIERS = [Tier(1, 1_000), Tier(50, 900), Tier(100, 800)]


def test_the_best_tier_reached_by_the_quantity() -> None:
    assert [unit_price(list_price=1_200, tiers=TIERS, quantity=q) for q in (1, 49, 50, 99, 100, 10_000)] == [
        1_000, 1_000, 900, 900, 800, 800]


def test_below_every_tier_the_list_price_applies() -> None:
    assert unit_price(list_price=1_200, tiers=[Tier(10, 1_000)], quantity=9) == 1_200
    assert unit_price(list_price=1_200, tiers=[], quantity=500) == 1_200


def test_the_buyer_price_list_comes_first_once_reached() -> None:
    own = [Tier(200, 700)]
    assert unit_price(list_price=1_200, tiers=TIERS, quantity=150, buyer_tiers=own) == 800  # own list not reached
    assert unit_price(list_price=1_200, tiers=TIERS, quantity=200, buyer_tiers=own) == 700
    assert unit_price(list_price=1_200, tiers=TIERS, quantity=200, buyer_tiers=[Tier(1, 950)]) == 950  # even if dearer


@given(st.lists(st.tuples(st.integers(1, 1_000), st.integers(0, 10**6)), max_size=8, unique_by=lambda t: t[0]),
       st.integers(1, 2_000), st.integers(0, 10**6))
def test_unit_price_is_the_highest_reached_tier(tiers: list[tuple[int, int]], qty: int, list_price: int) -> None:
    reached = [p for q, p in sorted(tiers) if q <= qty]
    expected = reached[-1] if reached else list_price
    assert unit_price(list_price=list_price, tiers=[Tier(q, p) for q, p in tiers], quantity=qty) == expected


def test_line_errors_in_order_of_checking() -> None:
    terms = Terms(wholesale=True, moq=10, pack_size=5)
    assert line_error(terms, 10) is None and line_error(terms, 155) is None
    assert line_error(terms, 5) == (pricing.BELOW_MOQ, "below the minimum order quantity of 10")
    assert line_error(terms, 12)[0] == pricing.NOT_PACK_MULTIPLE  # type: ignore[index]
    assert line_error(terms, 0)[0] == pricing.INVALID_QUANTITY  # type: ignore[index]
    assert line_error(Terms(wholesale=False, moq=1, pack_size=1), 5)[0] == pricing.NOT_FOR_WHOLESALE  # type: ignore[index]


@pytest.mark.parametrize(("raw", "qty"), [("120", 120), (" 1,200 ", 1_200), ("007", 7), ("1_000", 1_000),
                                          ("", None), ("1.5", None), ("-3", None), ("abc", None), ("１２", None),
                                          ("9999999999", None)])
def test_csv_quantities(raw: str, qty: int | None) -> None:
    assert pricing.parse_quantity(raw) == qty


def test_open_credit_and_due_dates() -> None:
    credit = Credit(limit=100_000, used=90_000)
    assert credit.open == 10_000 and credit.allows(10_000) and not credit.allows(10_001)
    assert Credit(limit=100, used=150).open == 0
    placed = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert pricing.due_at(placed, 30) == datetime(2026, 12, 27, 10, 0, tzinfo=UTC)


def test_csv_with_bom_crlf_blank_lines_and_quotes() -> None:
    text = decode(b'\xef\xbb\xbfsku,quantity\r\n\r\n"A-1","1,000"\r\n  \r\n"B ""x""",3\r\n"C-3",\r\n')
    rows = parse_order_csv(text, max_rows=10)
    assert [(r.line, r.sku, r.quantity) for r in rows] == [(3, "A-1", "1,000"), (5, 'B "x"', "3"), (6, "C-3", "")]


def test_columns_in_any_order_and_multi_line_fields_keep_line_numbers() -> None:
    rows = parse_order_csv('note,quantity,sku\n"two\nlines",5,A\nx,6,B\n', max_rows=10)
    assert [(r.line, r.sku, r.quantity) for r in rows] == [(2, "A", "5"), (4, "B", "6")]


@pytest.mark.parametrize(("text", "line"), [("sku,quantity\nA,1\n\"B,2\n", 3), ("sku,quantity\nA\n", 2),
                                            ("sku;quantity\nA;1\n", 1), ("", 1), ("\n\n", 2)])
def test_malformed_csv_names_the_line(text: str, line: int) -> None:
    with pytest.raises(MalformedCsv) as err:
        parse_order_csv(text, max_rows=10)
    assert err.value.line == line and f"line {line}" in str(err.value)


def test_too_many_rows_and_bad_bytes() -> None:
    with pytest.raises(MalformedCsv) as err:
        parse_order_csv("sku,quantity\n" + "A,1\n" * 4, max_rows=3)
    assert err.value.line == 5
    with pytest.raises(MalformedCsv) as err:
        decode(b"sku,quantity\nA,1\n\xff\n")
    assert err.value.line == 3
