"""The seller-record, rules, closure, report and waybill rules that need no database."""

from datetime import UTC, datetime, timedelta

import pytest

from app.core.clock import SHANGHAI
from app.core.errors import InvalidInput
from app.core.uscc import resident_id_is_valid
from app.merchants import verification
from app.trust import closure, rules, samr
from app.web.slips import mask_phone, recipient

NOW = datetime(2026, 12, 3, 6, 0, tzinfo=UTC)


def test_a_resident_id_is_valid_only_with_its_gb11643_check_character() -> None:
    assert resident_id_is_valid("110101199003070011")
    assert resident_id_is_valid("11010519491231002X") and resident_id_is_valid("11010519491231002x")
    for digit in "023456789X":
        assert not resident_id_is_valid("11010119900307001" + digit)
    assert not resident_id_is_valid("110101199013070011")  # month 13: the shape is checked first
    assert not resident_id_is_valid("91350100M000100Y43")


def test_individuals_need_no_legal_representative_and_licence_types_follow_the_number() -> None:
    assert verification.record_missing(kind="individual", values={
        "licence_type": "resident_id_card", "registered_address": "北京", "contact_phone": "13900001111"}) == []
    assert verification.record_missing(kind="enterprise", values={"licence_type": "business_licence"}) == [
        "registered_address", "legal_representative", "contact_phone"]
    assert verification.default_licence_type("individual", "91330100716105852F") == "individual_business_licence"
    assert verification.default_licence_type("individual", "110101199003070011") == "resident_id_card"


def test_only_verified_trading_sellers_may_put_listings_on_sale() -> None:
    assert verification.active_listing_refusal("active") is None
    for status in ("pending", "rejected", "suspended", "closed"):
        assert verification.active_listing_refusal(status)


def test_rules_take_effect_no_sooner_than_7_days_after_publication_with_7_days_for_comments() -> None:
    week = timedelta(days=7)
    assert rules.publication_errors(published_at=NOW, comment_closes_at=NOW + week, effective_at=NOW + week) == []
    late = rules.publication_errors(published_at=NOW, comment_closes_at=NOW + week,
                                    effective_at=NOW + week - timedelta(seconds=1))
    assert [e["field"] for e in late] == ["effective_at", "comment_closes_at"]
    short = rules.publication_errors(published_at=NOW, comment_closes_at=NOW + timedelta(days=6),
                                     effective_at=NOW + timedelta(days=30))
    assert [e["field"] for e in short] == ["comment_closes_at"]


def test_a_closure_needs_30_days_notice() -> None:
    assert closure.closure_refusal(now=NOW, closes_at=NOW + timedelta(days=30)) is None
    assert closure.closure_refusal(now=NOW, closes_at=NOW + timedelta(days=29, hours=23))


def test_report_periods_are_shanghai_half_years_and_the_one_due_is_the_last_ended() -> None:
    h2 = samr.parse_period("2026H2")
    assert h2.start == datetime(2026, 7, 1, tzinfo=SHANGHAI) and h2.end == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert samr.due_period(datetime(2027, 1, 2, tzinfo=SHANGHAI)).label == "2026H2"
    assert samr.due_period(datetime(2026, 12, 31, 16, 30, tzinfo=UTC)).label == "2026H2"  # 1 Jan 00:30 in Shanghai
    assert samr.due_period(datetime(2027, 7, 1, 8, tzinfo=SHANGHAI)).label == "2027H1"
    for bad in ("2026H3", "26H1", "2026h1", ""):
        with pytest.raises(InvalidInput):
            samr.parse_period(bad)


def test_waybills_show_the_recipient_with_a_masked_phone_and_nothing_else() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "138****5678"
    assert mask_phone("021-64381234") == "021****1234"  # area code and the last 4 digits
    assert mask_phone("6438123") == "****8123"
    assert mask_phone("") == "****"
    to = recipient({"name": "李四", "phone": "13812345678", "line1": "淮海中路 999 号", "city": "上海",
                    "postal_code": "200031", "id_number": "110101199003070011", "email": "a@example.com"})
    assert set(to) == {"name", "phone", "place", "postal_code"} and to["phone"] == "138****5678"
    assert "110101199003070011" not in str(to) and "a@example.com" not in str(to)
