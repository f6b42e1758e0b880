from hypothesis import given
from hypothesis import strategies as st

from app.trust.credit import CreditFacts, average_rating, credit_score_v1


def test_a_new_seller_starts_at_600() -> None:
    assert credit_score_v1(CreditFacts()) == 600
    assert average_rating(0, 0) is None


def test_ratings_count_fully_from_twenty() -> None:
    assert credit_score_v1(CreditFacts(rating_count=20, rating_sum=100)) == 800
    assert credit_score_v1(CreditFacts(rating_count=40, rating_sum=200)) == 800
    assert credit_score_v1(CreditFacts(rating_count=20, rating_sum=20)) == 400
    assert credit_score_v1(CreditFacts(rating_count=1, rating_sum=5)) == 610
    assert credit_score_v1(CreditFacts(rating_count=2, rating_sum=9)) == 615


def test_orders_complaints_and_takedowns() -> None:
    assert credit_score_v1(CreditFacts(completed_orders=55)) == 605
    assert credit_score_v1(CreditFacts(completed_orders=10_000)) == 700
    assert credit_score_v1(CreditFacts(upheld_complaints=2, takedowns=1)) == 600 - 80 - 80
    assert credit_score_v1(CreditFacts(takedowns=100)) == 0


def test_average_rating_to_one_decimal() -> None:
    assert average_rating(3, 14) == 4.7


facts = st.builds(CreditFacts, st.integers(0, 10_000), st.integers(0, 50_000), st.integers(0, 10**6),
                  st.integers(0, 100), st.integers(0, 100)).filter(
    lambda f: f.rating_count <= f.rating_sum <= 5 * f.rating_count)


@given(facts)
def test_score_is_bounded_and_an_upheld_complaint_never_helps(f: CreditFacts) -> None:
    score = credit_score_v1(f)
    assert 0 <= score <= 1000
    worse = CreditFacts(f.rating_count, f.rating_sum, f.completed_orders, f.upheld_complaints + 1, f.takedowns)
    assert credit_score_v1(worse) <= score


def test_fulfilment_speed_and_returns_count_from_ten_orders() -> None:
    assert credit_score_v1(CreditFacts(shipped_orders=9, shipped_within_48h=0)) == 600
    assert credit_score_v1(CreditFacts(shipped_orders=10, shipped_within_48h=10)) == 650
    assert credit_score_v1(CreditFacts(shipped_orders=10, shipped_within_48h=0)) == 550
    assert credit_score_v1(CreditFacts(shipped_orders=20, shipped_within_48h=15)) == 625
    assert credit_score_v1(CreditFacts(delivered_orders=9, returned_orders=9)) == 600
    assert credit_score_v1(CreditFacts(delivered_orders=10, returned_orders=2)) == 580
    assert credit_score_v1(CreditFacts(delivered_orders=10, returned_orders=10)) == 500
