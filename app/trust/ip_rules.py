"""The rules of an IP notice-and-takedown case (C37, ECL arts. 42-45), as plain functions."""

from __future__ import annotations

from datetime import datetime, timedelta

# ECL art. 45: the measures end if no complaint or suit is reported within 15 days of the counter-notice
# reaching the rights holder.
WAIT_AFTER_COUNTER_NOTICE = timedelta(days=15)
OPEN_STATUSES = ("taken_down", "countered")


def restore_due(forwarded_at: datetime) -> datetime:
    """When the listing comes back unless the rights holder has reported a complaint or suit."""
    return forwarded_at + WAIT_AFTER_COUNTER_NOTICE


def counter_refusal(status: str) -> str | None:
    """Why the seller may not file a counter-notice now (None: it may)."""
    if status == "taken_down":
        return None
    if status == "countered":
        return "a counter-notice was already filed"
    return f"the case is closed ({status})"


def report_refusal(status: str, *, now: datetime, restore_due_at: datetime | None) -> str | None:
    """Why a complaint or suit can no longer be reported on the case (None: it can)."""
    if status == "taken_down":
        return None  # before any counter-notice the listing stays down anyway; the report is kept
    if status != "countered":
        return f"the case is closed ({status})"
    if restore_due_at is not None and now >= restore_due_at:
        return "the 15 days after the counter-notice have passed"
    return None


def restore_is_due(status: str, *, now: datetime, restore_due_at: datetime | None) -> bool:
    """Whether the listing comes back now (ECL art. 45)."""
    return status == "countered" and restore_due_at is not None and now >= restore_due_at
