"""The hash chain's rules and the IP case's rules, with no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.trust import chain, ip_rules


def _chain(records: list[tuple[str, str, dict[str, object]]]) -> list[chain.Link]:
    links, prev = [], chain.GENESIS
    for seq, (kind, rid, fields) in enumerate(records, start=1):
        d = chain.digest(fields)
        h = chain.link_hash(prev, kind, rid, d)
        links.append(chain.Link(seq, kind, rid, d, prev, h))
        prev = h
    return links


RECORDS = [("order", "ord_1", {"total": 100, "lines": [{"sku": "A", "quantity": 1}]}),
           ("payment", "ord_1", {"amount": 100}), ("order", "ord_2", {"total": 250, "lines": []})]


def test_an_untouched_chain_has_no_break_and_ends_on_the_last_hash() -> None:
    links = _chain(RECORDS)
    current = {(k, r): chain.digest(f) for k, r, f in RECORDS}
    assert chain.first_break(links, current) == (None, links[-1].hash)


def test_the_digest_does_not_depend_on_key_order_or_the_time_zone_spelling() -> None:
    naive = datetime(2026, 12, 3, 8, 0)
    aware = naive.replace(tzinfo=UTC)
    assert chain.digest({"a": 1, "at": naive}) == chain.digest({"at": aware, "a": 1})


def test_a_changed_record_is_the_first_break_even_when_later_ones_changed_too() -> None:
    links = _chain(RECORDS)
    current = {(k, r): chain.digest(f) for k, r, f in RECORDS}
    current[("payment", "ord_1")] = chain.digest({"amount": 90})
    current[("order", "ord_2")] = None
    broken, _ = chain.first_break(links, current)
    assert broken == chain.Break(2, "payment", "ord_1", "record_changed")


def test_a_removed_link_cuts_the_chain_at_the_next_one() -> None:
    links = _chain(RECORDS)
    current = {(k, r): chain.digest(f) for k, r, f in RECORDS}
    broken, _ = chain.first_break([links[0], links[2]], current)
    assert broken == chain.Break(3, "order", "ord_2", "chain_cut")


def test_the_listing_comes_back_only_after_15_days_from_the_counter_notice() -> None:
    forwarded = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    due = ip_rules.restore_due(forwarded)
    assert due == forwarded + timedelta(days=15)
    assert not ip_rules.restore_is_due("countered", now=due - timedelta(seconds=1), restore_due_at=due)
    assert ip_rules.restore_is_due("countered", now=due, restore_due_at=due)
    assert not ip_rules.restore_is_due("upheld", now=due + timedelta(days=1), restore_due_at=due)
    assert ip_rules.report_refusal("countered", now=due - timedelta(seconds=1), restore_due_at=due) is None
    assert ip_rules.report_refusal("countered", now=due, restore_due_at=due) is not None
    assert ip_rules.counter_refusal("taken_down") is None
    assert ip_rules.counter_refusal("countered") is not None
