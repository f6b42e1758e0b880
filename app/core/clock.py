"""The one place that reads the wall clock, so tests can move time without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

_offset = timedelta(0)


def utcnow() -> datetime:
    """Aware UTC now (plus the test offset, if one is set)."""
    return datetime.now(UTC) + _offset


def travel(delta: timedelta) -> None:
    """Move the service's clock by `delta` (tests and demos only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


def aware(value: datetime) -> datetime:
    """`value` with a time zone: UTC if it has none. Cheaper than `as_utc` where any offset will do."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def as_utc(value: datetime) -> datetime:
    """SQLite returns naive datetimes; everything we store is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def rfc3339(value: datetime) -> str:
    """A time as the API writes it: RFC 3339 in UTC, `Z` for the offset."""
    return as_utc(value).isoformat().replace("+00:00", "Z")


def rfc3339_or_none(value: datetime | None) -> str | None:
    return rfc3339(value) if value is not None else None
