"""The POS folding rule: the stock a set of till events produces does not depend on arrival or batching."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.inventory.pos.rules import PosEvent, advance, apply_in_order, delta, fold, order_key

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def ev(event_id: str, type_: str, quantity: int, minute: int) -> PosEvent:
    return PosEvent(event_id, type_, quantity, T0 + timedelta(minutes=minute))  # type: ignore[arg-type]


@st.composite
def event_sets(draw: st.DrawFn) -> list[PosEvent]:
    n = draw(st.integers(min_value=0, max_value=25))
    out = []
    for i in range(n):
        kind = draw(st.sampled_from(["sale", "return", "receive", "adjust", "count"]))
        q = draw(st.integers(min_value=-5, max_value=5).filter(bool)) if kind == "adjust" else \
            draw(st.integers(min_value=0 if kind == "count" else 1, max_value=20))
        # few distinct minutes, so ties on occurred_at are common and the event-id tie-break matters
        out.append(ev(draw(st.sampled_from(["a", "b", "c"])) + str(i), kind, q, draw(st.integers(0, 5))))
    return out


def replay_in_batches(batches: list[list[PosEvent]], start: int) -> int:
    """What the service does: after each batch, fold the set of distinct events seen so far."""
    seen: dict[str, PosEvent] = {}
    on_hand = start
    for batch in batches:
        for e in batch:
            seen.setdefault(e.event_id, e)  # a repeat is a duplicate and changes nothing
        on_hand = fold(seen.values(), start=start)
    return on_hand


def replay_incrementally(batches: list[list[PosEvent]], start: int) -> int:
    """What the service does per upload: `advance` from the stored latest count, recompute only on a new one."""
    seen: dict[str, PosEvent] = {}
    on_hand, anchor = start, None
    for batch in batches:
        new = {}
        for e in batch:
            if e.event_id not in seen and e.event_id not in new:
                new[e.event_id] = e
        seen.update(new)
        count, change = advance(anchor, new.values())
        if count is None:
            on_hand += change
        else:
            anchor = order_key(count)
            on_hand = count.quantity + sum(delta(e.type, e.quantity) for e in seen.values()
                                           if e.type != "count" and order_key(e) > anchor)
    return on_hand


def split(data: st.DataObject, events: list[PosEvent]) -> list[list[PosEvent]]:
    shuffled = data.draw(st.permutations(events))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(shuffled)), max_size=6)))
    batches, prev = [], 0
    for c in [*cuts, len(shuffled)]:
        batches.append(list(shuffled[prev:c]))
        prev = c
    batches.append(data.draw(st.lists(st.sampled_from(events), max_size=5)) if events else [])  # late retries
    return batches


@settings(max_examples=300, deadline=None)
@given(events=event_sets(), start=st.integers(-5, 30), data=st.data())
def test_incremental_application_matches_the_sorted_result(events, start, data):
    assert replay_incrementally(split(data, events), start) == apply_in_order(events, start=start)


@settings(max_examples=300, deadline=None)
@given(events=event_sets(), start=st.integers(-5, 30), data=st.data())
def test_any_permutation_and_batching_gives_the_sorted_result(events, start, data):
    shuffled = data.draw(st.permutations(events))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(shuffled)), max_size=6)))
    batches, prev = [], 0
    for c in [*cuts, len(shuffled)]:
        batches.append(list(shuffled[prev:c]))
        prev = c
    repeats = data.draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    batches.append(repeats)  # late retries of events already applied
    assert replay_in_batches(batches, start) == apply_in_order(events, start=start)


def test_a_count_supersedes_earlier_movements_and_later_ones_apply_on_top():
    events = [ev("s1", "sale", 2, 0), ev("c1", "count", 10, 5), ev("s2", "sale", 3, 10), ev("r1", "receive", 4, 1)]
    assert fold(events, start=100) == 7  # the count at minute 5, minus the sale at minute 10


def test_ties_on_time_break_by_event_id():
    count, sale = ev("b", "count", 10, 0), ev("a", "sale", 1, 0)
    assert fold([count, sale]) == 10  # "a" sorts before "b": the count supersedes the sale
    assert fold([ev("a", "count", 10, 0), ev("b", "sale", 1, 0)]) == 9


def test_the_latest_count_wins_and_no_count_sums_deltas():
    assert fold([ev("c1", "count", 5, 3), ev("c0", "count", 50, 1)]) == 5
    assert fold([ev("x", "adjust", -2, 0), ev("y", "return", 1, 0)], start=4) == 3
    assert delta("sale", 3) == -3 and delta("count", 9) == 0
