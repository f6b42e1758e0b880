"""How POS events fold into on_hand: a pure rule, tested without a database.

Events happen on tills that may be offline for days, so they arrive late, in any order and in any
batching. The stock they produce must depend only on the *set* of events, never on arrival:

* `sale` takes `quantity` off on_hand; `return` and `receive` add it; `adjust` adds a signed quantity.
* `count` is a physical count: on_hand *as of its occurred_at* is `quantity`. Movements that occurred
  after the latest count apply on top of it; movements that occurred before it are superseded.

A merchant's `PUT .../stock/{sku}` is a count made at that moment (it sorts before any event id at the
same instant), so till events that occurred before it are superseded too.

Events are ordered by `(occurred_at, event_id)`: two events at the same instant are ordered by their
event id (string comparison), so ties always break the same way. The latest count by that key wins.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

EventType = Literal["sale", "return", "receive", "adjust", "count"]
EVENT_TYPES: tuple[EventType, ...] = ("sale", "return", "receive", "adjust", "count")
SIGN: dict[str, int] = {"sale": -1, "return": 1, "receive": 1, "adjust": 1, "count": 0}  # on_hand per unit


class Event(Protocol):
    """What the rule reads of an event (a validated upload's events are read as they are)."""

    @property
    def event_id(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def occurred_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class PosEvent:
    event_id: str
    type: EventType
    quantity: int
    occurred_at: datetime


def order_key(event: Event) -> tuple[datetime, str]:
    """The total order of events: time first, then event id (the documented tie-break)."""
    return (event.occurred_at, event.event_id)


def delta(event_type: str, quantity: int) -> int:
    """The on_hand change of a movement event (0 for a count, which sets rather than moves)."""
    return SIGN.get(event_type, 0) * quantity


def latest_count(events: Iterable[Event]) -> Event | None:
    counts = [e for e in events if e.type == "count"]
    return max(counts, key=order_key) if counts else None


def fold(events: Iterable[Event], *, start: int = 0) -> int:
    """on_hand from a set of events (order irrelevant); `start` is on_hand before any of them.

    Without a count: start plus every delta. With one: the latest count plus the deltas after it.
    """
    items = list(events)
    anchor = latest_count(items)
    if anchor is None:
        return start + sum(delta(e.type, e.quantity) for e in items)
    key = order_key(anchor)
    return anchor.quantity + sum(delta(e.type, e.quantity) for e in items if order_key(e) > key)


def advance(anchor: tuple[datetime, str] | None, new: Iterable[Event]) -> tuple[Event | None, int]:
    """One upload's effect on a level whose latest count so far has key `anchor` (None: no count yet).

    Returns `(count, 0)` when the upload brings a count later than the anchor: on_hand must then be
    recomputed as that count plus everything ordered after it. Otherwise `(None, change)`: on_hand moves
    by the deltas of the new events ordered after the anchor (earlier ones are superseded).
    """
    items = list(new)
    newest = latest_count(items)
    if newest is not None and (anchor is None or order_key(newest) > anchor):
        return newest, 0
    return None, sum(delta(e.type, e.quantity) for e in items
                     if e.type != "count" and (anchor is None or order_key(e) > anchor))


def apply_in_order(events: Iterable[Event], *, start: int = 0) -> int:
    """The reference: replay the events one by one, sorted by `order_key`."""
    on_hand = start
    for e in sorted(events, key=order_key):
        on_hand = e.quantity if e.type == "count" else on_hand + delta(e.type, e.quantity)
    return on_hand
