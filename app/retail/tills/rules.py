"""Rules of coupons redeemed at store tills that need no database: when a redemption or a void is allowed.

Tills upload late, so every rule is judged at `occurred_at` (when it happened at the till), not at upload
time; only a till clock running far ahead is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from app.core.clock import SHANGHAI, as_utc, rfc3339

MAX_CLOCK_SKEW = timedelta(hours=1)  # as for POS events: a till clock may run ahead this much
STORE_CHANNEL = "store"


def clock_refusal(occurred_at: datetime, now: datetime) -> str | None:
    """Why `occurred_at` cannot be believed (it is too far in the future), or None."""
    if as_utc(occurred_at) > as_utc(now) + MAX_CLOCK_SKEW:
        return "occurred_at is in the future; check the till's clock"
    return None


def redemption_refusal(*, channels: Sequence[str], starts_at: datetime, ends_at: datetime,
                       occurred_at: datetime) -> tuple[tuple[str, ...], str] | None:
    """(fields, message) saying why a till may not redeem the promotion at `occurred_at`, or None.

    The promotion must include the store channel and be running at `occurred_at`: starts_at <= occurred_at
    < ends_at, however late the till uploads it. Outside its window both the code and the time are named:
    either may be the mistake.
    """
    if STORE_CHANNEL not in channels:
        return ("code",), "this promotion is not valid in stores"
    at = as_utc(occurred_at)
    if not as_utc(starts_at) <= at < as_utc(ends_at):
        return ("occurred_at", "code"), (f"the promotion runs from {rfc3339(starts_at)} to {rfc3339(ends_at)}, "
                                         f"not at {rfc3339(occurred_at)}")
    return None


def void_refusal(*, redeemed_at: datetime, voided_at: datetime) -> str | None:
    """Why a redemption cannot be voided at `voided_at`, or None: only on its own (Shanghai) day."""
    if as_utc(voided_at) < as_utc(redeemed_at):
        return "a redemption cannot be voided before it happened"
    if as_utc(voided_at).astimezone(SHANGHAI).date() != as_utc(redeemed_at).astimezone(SHANGHAI).date():
        return "a redemption can only be voided on the day it was made"
    return None


