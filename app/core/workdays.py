"""Working-day deadlines (工作日), counted on the Asia/Shanghai calendar.

A working day is Monday to Friday. The official holiday calendar (public holidays and the weekend days
made working days in exchange) changes every year and is not built in: callers that have it pass
`holidays` and `makeup_days`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta

from app.core.clock import SHANGHAI, as_utc


def is_working_day(day: date, *, holidays: Collection[date] = (), makeup_days: Collection[date] = ()) -> bool:
    """Monday to Friday, except `holidays`; a weekend day listed in `makeup_days` is worked."""
    if day in makeup_days:
        return True
    return day.weekday() < 5 and day not in holidays


def add_working_days(day: date, n: int, *, holidays: Collection[date] = (),
                     makeup_days: Collection[date] = ()) -> date:
    """The `n`th working day after `day` (`day` itself never counts, as with statutory periods)."""
    if n < 0:
        raise ValueError("n must not be negative")
    current = day
    left = n
    while left:
        current += timedelta(days=1)
        if is_working_day(current, holidays=holidays, makeup_days=makeup_days):
            left -= 1
    return current


def working_days_deadline(start: datetime, n: int, *, holidays: Collection[date] = (),
                          makeup_days: Collection[date] = ()) -> datetime:
    """The instant (UTC) a period of `n` working days from `start` runs out: midnight in Shanghai at the end
    of the `n`th working day after the (Shanghai) day of `start`."""
    last = add_working_days(as_utc(start).astimezone(SHANGHAI).date(), n, holidays=holidays,
                            makeup_days=makeup_days)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=SHANGHAI).astimezone(UTC)
