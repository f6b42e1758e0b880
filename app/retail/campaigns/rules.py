"""Campaign rules that need no database."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from app.core.clock import as_utc

MAX_LENGTH = timedelta(days=92)
Status = Literal["scheduled", "live", "ended"]


def status(*, starts_at: datetime, ends_at: datetime, now: datetime) -> Status:
    """Scheduled before it starts, live in [starts_at, ends_at), ended after."""
    if as_utc(now) < as_utc(starts_at):
        return "scheduled"
    return "live" if as_utc(now) < as_utc(ends_at) else "ended"


def period_errors(*, starts_at: datetime, ends_at: datetime, now: datetime) -> list[dict[str, str]]:
    """What is wrong with a campaign's period: it must end after it starts, in the future, within 92 days."""
    errors = []
    if as_utc(ends_at) <= as_utc(starts_at):
        errors.append({"field": "ends_at", "message": "must be after starts_at"})
    elif as_utc(ends_at) - as_utc(starts_at) > MAX_LENGTH:
        errors.append({"field": "ends_at", "message": "a campaign lasts at most 92 days"})
    if as_utc(ends_at) <= as_utc(now):
        errors.append({"field": "ends_at", "message": "must be in the future"})
    return errors


def countdown_target(*, starts_at: datetime, ends_at: datetime, now: datetime) -> datetime | None:
    """What the landing page counts down to: the start, then the end; nothing once it is over."""
    match status(starts_at=starts_at, ends_at=ends_at, now=now):
        case "scheduled":
            return as_utc(starts_at)
        case "live":
            return as_utc(ends_at)
    return None
