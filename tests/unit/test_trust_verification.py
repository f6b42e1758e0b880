from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from app.config import Settings
from app.merchants.verification import (
    add_months,
    listings_blocked,
    registration_type,
    reverification_due,
    sign_up_errors,
)

T = datetime(2026, 8, 31, 10, 0, tzinfo=UTC)


def test_reverification_is_due_six_months_later_at_most() -> None:
    assert reverification_due(T, 6) == datetime(2027, 2, 28, 10, 0, tzinfo=UTC)
    assert reverification_due(T, 3) == datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    assert reverification_due(T, 12) == reverification_due(T, 6)  # capped whatever is passed


def test_the_setting_cannot_exceed_six_months() -> None:
    assert Settings(shop_reverify_months=6).shop_reverify_months == 6
    with pytest.raises(ValidationError):
        Settings(shop_reverify_months=7)


def test_add_months_handles_year_ends_and_negative_months() -> None:
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 1) == datetime(2027, 1, 15, tzinfo=UTC)
    assert add_months(datetime(2026, 3, 31, tzinfo=UTC), -6) == datetime(2025, 9, 30, tzinfo=UTC)
    assert add_months(datetime(2024, 8, 31, tzinfo=UTC), 6) == datetime(2025, 2, 28, tzinfo=UTC)


def test_listings_blocked_after_the_grace_period() -> None:
    due = reverification_due(T, 6)
    assert not listings_blocked(verified_at=T, now=due, months=6, grace_days=15)
    assert not listings_blocked(verified_at=T, now=due + timedelta(days=15) - timedelta(seconds=1), months=6,
                                grace_days=15)
    assert listings_blocked(verified_at=T, now=due + timedelta(days=15), months=6, grace_days=15)
    assert not listings_blocked(verified_at=None, now=due + timedelta(days=999), months=6, grace_days=15)


def test_sign_up_identity_rules() -> None:
    assert sign_up_errors(kind="enterprise", licence_no="91350100M000100Y43", icp_no="沪ICP备12345678号-1") == []
    assert [e["field"] for e in sign_up_errors(kind="enterprise", licence_no="110101199003070011",
                                               icp_no="bad")] == ["licence_no", "icp_no"]
    assert sign_up_errors(kind="individual", licence_no="110101199003070011", icp_no=None) == []
    assert registration_type("individual", "110101199003070011") == "unregistered"
    assert registration_type("individual", "91350100M000100Y43") == "registered"
    assert registration_type("enterprise", "91350100M000100Y43") == "registered"


def test_transaction_records_are_held_at_least_three_years() -> None:
    assert Settings().shop_legal_hold_years == 3
    with pytest.raises(ValidationError):
        Settings(shop_legal_hold_years=2)
