"""`shop relay`: the outbox published to JetStream, each event once, in order per merchant.

One batch is one transaction: lock the oldest unpublished events (`FOR UPDATE SKIP LOCKED`, so several relays
share the work), publish them with the event id as `Nats-Msg-Id`, wait for the broker to have stored every one,
mark them published, commit. A relay killed anywhere in between leaves its rows unpublished and unlocked (the
database aborts the dead connection's transaction); the next batch publishes them again and the broker drops the
copies it already holds (the stream's duplicate window), so a consumer sees each event once.

Order per merchant: a relay publishes a merchant's events only while no other relay holds an earlier one of that
merchant; rows it leaves stay for its next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from nats.js import JetStreamContext
from sqlalchemy import BigInteger, Table, Text, any_, bindparam, select, text, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.broker import stream
from app.config import Settings
from app.core.clock import utcnow
from app.core.logging import get_logger
from app.core.models import OutboxEvent
from app.db import dialect_of, make_engine, make_sessionmaker

log = get_logger("app.relay")

IDLE_WAIT_S = 0.05  # between polls of an empty outbox: bounds the commit-to-broker latency
ACK_TIMEOUT_S = 30.0  # the broker must have stored a batch by then, or the batch is rolled back and tried again
_EVENTS = cast(Table, OutboxEvent.__table__)

_PENDING = (select(_EVENTS.c.seq, _EVENTS.c.kind, _EVENTS.c.merchant_id, _EVENTS.c.created_at,
                   sql_cast(_EVENTS.c.payload, Text).label("payload"))
            .where(_EVENTS.c.published_at.is_(None)).order_by(_EVENTS.c.seq).limit(bindparam("n")))
# PostgreSQL writes each message itself (`stream.body`'s document, in C rather than per row in Python: a good part
# of a batch's CPU otherwise).
_PENDING_PG = text("""
SELECT seq, kind, merchant_id,
       '{"id":"evt_' || seq || '","type":' || to_json(kind) || ',"created_at":"'
       || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '","merchant_id":'
       || coalesce(to_json(merchant_id)::text, 'null') || ',"data":' || payload::text || '}' AS body
  FROM event WHERE published_at IS NULL ORDER BY seq LIMIT :n FOR UPDATE SKIP LOCKED
""")
# Unpublished events below this batch's last that another relay holds (or that committed since this batch was
# read, with an earlier number): per merchant, the first of them. A hash anti-join against the batch's numbers.
_HELD_ELSEWHERE = text("""
SELECT merchant_id, min(seq) AS first FROM event
 WHERE published_at IS NULL AND seq < :last AND seq NOT IN (SELECT unnest(CAST(:mine AS bigint[])))
 GROUP BY merchant_id
""")
_MARK = {"postgresql": update(_EVENTS).where(_EVENTS.c.seq == any_(bindparam("seqs", type_=ARRAY(BigInteger))))
         .values(published_at=bindparam("now")),
         "sqlite": update(_EVENTS).where(_EVENTS.c.seq.in_(bindparam("seqs", expanding=True)))
         .values(published_at=bindparam("now"))}


@dataclass(frozen=True, slots=True)
class Pending:
    seq: int
    kind: str
    merchant_id: str | None
    body: bytes
    subject: str


async def relay_batch(session: AsyncSession, js: JetStreamContext, settings: Settings, *, limit: int) -> int:
    """Publish one batch of the oldest unpublished events and mark them; commits. Returns how many were published
    (0: nothing to do now)."""
    dialect = dialect_of(session)
    if dialect == "postgresql":
        rows = (await session.execute(_PENDING_PG, {"n": limit})).all()
        if rows:
            rows = await _in_merchant_order(session, rows)
        batch = [Pending(r.seq, r.kind, r.merchant_id, r.body.encode(), stream.subject(settings, r.merchant_id, r.kind))
                 for r in rows]
    else:
        batch = [Pending(r.seq, r.kind, r.merchant_id,
                         stream.body(r.seq, r.kind, r.merchant_id, r.created_at, r.payload),
                         stream.subject(settings, r.merchant_id, r.kind))
                 for r in (await session.execute(_PENDING, {"n": limit})).all()]
    if not batch:
        await session.rollback()
        return 0
    await publish(js, batch)
    await session.execute(_MARK[dialect], {"seqs": [p.seq for p in batch], "now": utcnow()})
    await session.commit()
    return len(batch)


async def _in_merchant_order(session: AsyncSession, rows: Sequence[Any]) -> list[Any]:
    """The rows this relay may publish now: not those of a merchant with an earlier event held elsewhere."""
    held = {r.merchant_id: r.first for r in (await session.execute(
        _HELD_ELSEWHERE, {"last": rows[-1].seq, "mine": [r.seq for r in rows]})).all()}
    if not held:
        return list(rows)
    return [r for r in rows if r.merchant_id not in held or r.seq < held[r.merchant_id]]


async def publish(js: JetStreamContext, batch: Sequence[Pending]) -> None:
    """Publish in order and wait until the broker stored (or, for a repeat, recognised) every message."""
    acks = [await js.publish_async(p.subject, p.body, headers={stream.MSG_ID: stream.event_id(p.seq)})
            for p in batch]
    async with asyncio.timeout(ACK_TIMEOUT_S):
        await asyncio.gather(*acks)


async def run(factory: async_sessionmaker[AsyncSession], js: JetStreamContext, settings: Settings,
              stop: asyncio.Event) -> int:
    """Relay until `stop` is set; returns how many events were published."""
    total = 0
    while not stop.is_set():
        try:
            async with factory() as session:
                done = await relay_batch(session, js, settings, limit=settings.shop_relay_batch)
        except Exception:
            # the broker or the database is away: nothing was marked, the batch is tried again
            log.exception("relay_batch_failed")
            done = 0
            await _wait(stop, 1.0)
        total += done
        if done:
            log.debug("relayed", events=done)
        else:
            await _wait(stop, IDLE_WAIT_S)
    return total


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def main(settings: Settings) -> int:
    """`shop relay`: until SIGTERM or SIGINT."""
    engine = make_engine(settings.database_url, pool_size=2)
    nc, js = await stream.connect(settings, name="liutong-relay")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("relay_started", stream=settings.shop_nats_stream)
    try:
        return await run(make_sessionmaker(engine), js, settings, stop)
    finally:
        await nc.drain()
        await engine.dispose()
