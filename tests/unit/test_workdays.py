from datetime import UTC, date, datetime

import pytest

from app.core.clock import SHANGHAI
from app.core.workdays import add_working_days, is_working_day, working_days_deadline

FRI = date(2026, 11, 27)


def test_weekends_are_skipped_and_the_start_day_never_counts():
    assert add_working_days(FRI, 0) == FRI
    assert add_working_days(FRI, 1) == date(2026, 11, 30)  # Monday
    assert add_working_days(FRI, 5) == date(2026, 12, 4)  # the next Friday
    assert add_working_days(FRI, 7) == date(2026, 12, 8)  # Tuesday of the week after
    assert add_working_days(date(2026, 11, 28), 1) == date(2026, 11, 30)  # Saturday -> Monday
    assert add_working_days(date(2026, 11, 30), 4) == date(2026, 12, 4)  # Monday -> Friday, same week
    with pytest.raises(ValueError):
        add_working_days(FRI, -1)


def test_holidays_and_make_up_working_days():
    holidays = {date(2026, 10, d) for d in range(1, 8)}  # a week off ...
    makeup = {date(2026, 10, 10)}  # ... and a Saturday worked in exchange
    assert is_working_day(date(2026, 10, 1)) and not is_working_day(date(2026, 10, 1), holidays=holidays)
    assert not is_working_day(date(2026, 10, 10)) and is_working_day(date(2026, 10, 10), makeup_days=makeup)
    # From Wednesday 30 Sep: Thu 1 – Wed 7 are off, Thu 8, Fri 9, Sat 10 (make-up), Mon 12 ...
    assert add_working_days(date(2026, 9, 30), 3, holidays=holidays, makeup_days=makeup) == date(2026, 10, 10)
    assert add_working_days(date(2026, 9, 30), 4, holidays=holidays, makeup_days=makeup) == date(2026, 10, 12)


def test_the_deadline_is_shanghai_midnight_after_the_last_working_day():
    due = datetime(2026, 12, 9, 0, 0, tzinfo=SHANGHAI)  # the end of Tuesday 8 December in Shanghai
    assert working_days_deadline(datetime(2026, 11, 27, 1, 0, tzinfo=UTC), 7) == due  # Friday 09:00 Shanghai
    # Friday 23:30 in Shanghai is still Friday there (15:30 UTC) ...
    assert working_days_deadline(datetime(2026, 11, 27, 15, 30, tzinfo=UTC), 7) == due
    # ... but 16:10 UTC on Friday is already Saturday in Shanghai: the count starts from Saturday, same result.
    assert working_days_deadline(datetime(2026, 11, 27, 16, 10, tzinfo=UTC), 7) == due
    # Monday 00:30 in Shanghai (Sunday 16:30 UTC) counts from Monday: due at the end of Wednesday week after.
    assert working_days_deadline(datetime(2026, 11, 29, 16, 30, tzinfo=UTC), 7) == \
        datetime(2026, 12, 10, 0, 0, tzinfo=SHANGHAI)
    naive = working_days_deadline(datetime(2026, 11, 27, 1, 0), 7)  # SQLite hands back naive UTC
    assert naive == due and naive.tzinfo == UTC
