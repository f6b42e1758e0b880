from datetime import UTC, datetime, timedelta

from app.retail.campaigns import rules

T0 = datetime(2027, 1, 20, 16, 0, tzinfo=UTC)  # 2027-01-21 00:00 in Shanghai
T1 = T0 + timedelta(days=14)


def test_status_follows_the_clock() -> None:
    assert rules.status(starts_at=T0, ends_at=T1, now=T0 - timedelta(seconds=1)) == "scheduled"
    assert rules.status(starts_at=T0, ends_at=T1, now=T0) == "live"
    assert rules.status(starts_at=T0, ends_at=T1, now=T1) == "ended"


def test_countdown_goes_to_the_start_then_the_end() -> None:
    assert rules.countdown_target(starts_at=T0, ends_at=T1, now=T0 - timedelta(days=1)) == T0
    assert rules.countdown_target(starts_at=T0, ends_at=T1, now=T0 + timedelta(days=1)) == T1
    assert rules.countdown_target(starts_at=T0, ends_at=T1, now=T1 + timedelta(days=1)) is None


def test_period_must_end_after_start_in_the_future_and_within_92_days() -> None:
    now = T0 - timedelta(days=1)
    assert rules.period_errors(starts_at=T0, ends_at=T1, now=now) == []
    assert [e["field"] for e in rules.period_errors(starts_at=T1, ends_at=T0, now=now)] == ["ends_at"]
    assert rules.period_errors(starts_at=T0, ends_at=T0 + timedelta(days=93), now=now)[0]["message"].endswith(
        "92 days")
    assert rules.period_errors(starts_at=T0, ends_at=T1, now=T1 + timedelta(days=1))[0]["message"] == (
        "must be in the future")
