"""`shop relay` against the real NATS server: every outbox event in the stream exactly once, even when the relay is
killed (SIGKILL) in the middle of a batch, and in order per merchant with two relays at once."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from tests.broker.conftest import Broker, Process, env_of, until
from tests.conftest import asyncpg_dsn

pytestmark = pytest.mark.scaling

EVENTS = 10_000


@contextlib.asynccontextmanager
async def _connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        yield conn
    finally:
        await conn.close()


async def _outbox(url: str, *, merchants: int) -> list[int]:
    """EVENTS events of `merchants` merchants, interleaved, committed at once; their numbers."""
    async with _connected(url) as conn:
        rows = await conn.fetch(
            "INSERT INTO event (kind, merchant_id, payload, created_at) "
            "SELECT 'stock.changed', 'mer_' || (g % $2), jsonb_build_object('n', g, 'sku', 'SKU-' || g), now() "
            "FROM generate_series(1, $1) AS g ORDER BY g RETURNING seq", EVENTS, merchants)
        return [r["seq"] for r in rows]


async def _slow_commits(url: str, seconds: float) -> None:
    """Each transaction that marks events waits `seconds` when it commits (a deferred trigger, once per
    transaction): the moment between the broker storing a batch and the database marking it, which a kill has to
    land in, lasts long enough to be hit on a loaded machine, where a fast relay otherwise slips through it."""
    async with _connected(url) as conn:
        await conn.execute(f"""
            CREATE FUNCTION slow_commit() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF current_setting('test.slowed', true) IS DISTINCT FROM 'yes' THEN
                PERFORM set_config('test.slowed', 'yes', true);
                PERFORM pg_sleep({seconds});
              END IF;
              RETURN NULL;
            END $$;
            CREATE CONSTRAINT TRIGGER slow_commit AFTER UPDATE ON event DEFERRABLE INITIALLY DEFERRED
              FOR EACH ROW EXECUTE FUNCTION slow_commit();
        """)


async def _relays_polling(url: str, count: int) -> bool:
    """At least `count` of the app's connections (each relay holds one between its polls) are open to the database:
    the test's own connections carry no application name."""
    async with _connected(url) as conn:
        return int(await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND application_name = 'liutong'")) >= count


async def _published(url: str) -> int:
    async with _connected(url) as conn:
        return int(await conn.fetchval("SELECT count(*) FROM event WHERE published_at IS NOT NULL"))


def _in_order_per_merchant(messages: list[tuple[str, dict[str, Any]]]) -> None:
    last: dict[str, int] = {}
    for msg_id, event in messages:
        seq = int(msg_id.removeprefix("evt_"))
        assert seq > last.get(event["merchant_id"], 0), f"{msg_id} of {event['merchant_id']} after a later one"
        last[event["merchant_id"]] = seq


async def test_a_relay_killed_mid_batch_three_times_publishes_every_event_once(
        app: Any, db_url: str, pg_only: None, broker: Broker, processes: list[Process]) -> None:
    seqs = await _outbox(db_url, merchants=50)
    await _slow_commits(db_url, 0.3)
    env = env_of(broker.settings(db_url), SHOP_RELAY_BATCH="500")
    caught_between = 0  # kills that left a batch in the stream but not marked published
    for round_ in range(1, 4):
        relay = Process(["relay"], env)
        processes.append(relay)
        goal = round_ * EVENTS // 4

        async def mid_batch(goal: int = goal) -> bool:
            # past the goal, with messages in the stream that the database does not yet count as published
            stored = await broker.count()
            return stored >= goal and stored > await _published(db_url)

        await until(mid_batch, within=120, what=f"relay {round_} to be mid-batch past {goal} events", step=0.005)
        relay.kill()
        stored, marked = await broker.count(), await _published(db_url)
        assert stored >= marked
        caught_between += stored > marked
        assert stored < EVENTS, "the relay finished before it could be killed"
    assert caught_between >= 1
    last = Process(["relay"], env)
    processes.append(last)

    async def all_marked() -> bool:
        return await _published(db_url) == EVENTS

    await until(all_marked, within=120, what="every event marked published")
    assert "relayed" in last.stop()
    messages = await broker.messages()
    ids = [msg_id for msg_id, _ in messages]
    assert len(ids) == EVENTS and len(set(ids)) == EVENTS
    assert set(ids) == {f"evt_{s}" for s in seqs}
    assert all(event["id"] == msg_id and event["type"] == "stock.changed" for msg_id, event in messages)
    _in_order_per_merchant(messages)


async def test_two_relays_at_once_keep_each_merchants_order(
        app: Any, db_url: str, pg_only: None, broker: Broker, processes: list[Process]) -> None:
    env = env_of(broker.settings(db_url), SHOP_RELAY_BATCH="200")
    # the log level and format are the settings', as the server's are: JSON lines, quiet at "warning"
    relays = [Process(["relay"], {**env, "SHOP_LOG_LEVEL": "info"}), Process(["relay"], env)]
    processes.extend(relays)
    # The events are written once both relays poll the outbox: written before, they went to whichever relay
    # started first, which could send them all before the other was up.
    await until(lambda: _relays_polling(db_url, 2), within=60, what="both relays polling the outbox")
    seqs = await _outbox(db_url, merchants=20)

    async def all_marked() -> bool:
        return await _published(db_url) == EVENTS

    await until(all_marked, within=120, what="every event marked published")
    outputs = [r.stop() for r in relays]
    counts = [int(m.group(1)) for out in outputs for m in [re.search(r"^relayed (\d+) events$", out, re.M)] if m]
    assert len(counts) == 2 and sum(counts) == EVENTS and all(c > 0 for c in counts), outputs  # both took part
    started = [json.loads(line) for line in relays[0].logged.splitlines() if "relay_started" in line]
    assert [(e["event"], e["level"]) for e in started] == [("relay_started", "info")], relays[0].logged[-2000:]
    assert relays[1].logged == "", relays[1].logged[-2000:]
    messages = await broker.messages()
    assert sorted(int(i.removeprefix("evt_")) for i, _ in messages) == seqs
    _in_order_per_merchant(messages)
