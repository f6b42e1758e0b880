"""Webhook rules that need no database: event kinds, subscriptions, retry backoff, the outbox cursor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

ALL_EVENTS = "*"
# Every event kind a merchant may subscribe to: the kinds the services emit (`events.emit(kind=...)`)
# with a merchant. tests/test_webhooks.py checks this list against the code.
EVENT_KINDS: frozenset[str] = frozenset({
    "campaign.created",
    "collection.created", "collection.deleted",
    "complaint.created", "complaint.rejected", "complaint.upheld",
    "flash_sale.created", "flash_sale.ended", "flash_sale.sold",
    "group_buy.created", "group_buy.failed", "group_buy.joined", "group_buy.succeeded",
    "ip_case.countered", "ip_case.opened", "ip_case.restored", "ip_case.upheld",
    "licence_change.approved", "licence_change.rejected", "licence_change.submitted",
    "invoice.issued", "invoice.requested",
    "location.created",
    "merchant.closed", "merchant.closure_announced", "merchant.created", "merchant.identity_changed",
    "merchant.record_submitted", "merchant.rejected", "merchant.return_policy_changed", "merchant.reverification_due",
    "merchant.self_operated_changed", "merchant.suspended", "merchant.verified",
    "order.cancel_declined", "order.cancel_proposed", "order.cancelled", "order.completed", "order.coupon_released",
    "order.created", "order.delivered", "order.paid", "order.return_disputed", "order.return_mediated",
    "order.return_received", "order.return_rejected", "order.return_requested", "order.returned", "order.shipped",
    "pickup_point.created",
    "product.active", "product.created", "product.duplicated", "product.held", "product.taken_down", "product.updated",
    "promotion.redeemed", "promotion.redemption_voided",
    "refund.created", "refund.failed", "refund.succeeded",
    "rules.accepted", "rules.refused",
    "review.created",
    "seller.over_threshold",
    "service_slot.booked", "service_slot.created",
    "stock.changed", "stock.conflict_resolved", "stock.low", "stock.oversold",
    "stock.transfer_cancelled", "stock.transfer_received", "stock.transfer_sent",
})

MAX_URL_LENGTH = 2048
MAX_ENDPOINTS = 16  # active endpoints per merchant
MAX_ATTEMPTS = 8
BASE_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(hours=1)


def subscribed(events: Iterable[str], kind: str) -> bool:
    """Whether an endpoint subscribed to `events` wants an event of `kind`."""
    return any(e in (ALL_EVENTS, kind) for e in events)


def retry_delay(attempt: int) -> timedelta:
    """Wait after failed attempt number `attempt` (1-based): 30 s, 1 min, 2 min, ... at most an hour."""
    delay: timedelta = BASE_DELAY * 2 ** min(max(attempt - 1, 0), 20)
    return min(delay, MAX_DELAY)


def gives_up(attempt: int) -> bool:
    """Whether a failure of attempt number `attempt` is the last one (the delivery is then `failed`)."""
    return attempt >= MAX_ATTEMPTS


@dataclass(frozen=True, slots=True)
class Position:
    """How far the outbox has been fanned out: every event up to `seq` is done.

    `gap_seq`/`gap_seen_at`: the first missing sequence number after `seq`, and when it was first seen
    missing while a later event was already committed (see `advance`).
    """

    seq: int
    gap_seq: int | None = None
    gap_seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Advance:
    position: Position
    taken: int  # how many of the given events (a prefix) to fan out now
    skipped: tuple[tuple[int, int], ...] = ()  # gaps given up on: (first, last) sequence numbers


def advance(position: Position, seqs: Sequence[int], *, now: datetime, gap_wait: timedelta) -> Advance:
    """Move the cursor over the committed events `seqs` (ascending, all after `position.seq`).

    Sequence numbers are taken before commit, so on PostgreSQL an event may commit after a later one:
    a missing number below a committed one is a transaction still in flight (or one that rolled back).
    The cursor stops at such a gap so the late event is not passed over, and gives up on the gap
    (it was a rollback) once it has been missing for `gap_wait`. On SQLite writers are serialised
    and there are no gaps.
    """
    expected = position.seq + 1
    gap_seq, gap_seen_at = position.gap_seq, position.gap_seen_at
    taken = 0
    skipped: list[tuple[int, int]] = []
    for seq in seqs:
        if seq > expected:
            if gap_seq == expected and gap_seen_at is not None and now - gap_seen_at >= gap_wait:
                skipped.append((expected, seq - 1))
            else:
                if gap_seq != expected:
                    gap_seq, gap_seen_at = expected, now
                break
        taken += 1
        expected = seq + 1
    if gap_seq is not None and gap_seq < expected:
        gap_seq, gap_seen_at = None, None
    return Advance(Position(expected - 1, gap_seq, gap_seen_at), taken, tuple(skipped))
