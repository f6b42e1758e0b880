"""`shop relay`: the outbox published to JetStream, each event once, in order per merchant.

One batch is one transaction: lock the oldest unpublished events (`FOR UPDATE SKIP LOCKED`, so several relays
share the work) and mark them published, publish them with the event id as `Nats-Msg-Id`, wait for the broker to
have stored every one, commit. A relay killed anywhere in between leaves its rows unpublished and unlocked (the
database aborts the dead connection's transaction, its marks with it); the next batch publishes them again and the
broker drops the copies it already holds (the stream's duplicate window), so a consumer sees each event once.

Order per merchant: a relay publishes a merchant's events only while no other relay holds an earlier one of that
merchant; rows it leaves stay for its next batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from operator import itemgetter
from typing import Any, NamedTuple, cast

from nats.aio.client import Client
from nats.aio.msg import Msg
from sqlalchemy import Table, Text, bindparam, select, text, update
from sqlalchemy import cast as sql_cast
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.broker import stream
from app.config import Settings
from app.core import heap
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
# PostgreSQL locks and marks the batch in one statement (a lock of its own on each row first would write each row
# twice) and writes each message itself (`stream.body`'s document, in C rather than per row in Python: a good part
# of a batch's CPU otherwise). The mark is seen by others only when the transaction commits, after the broker
# stored every message; until then the rows stay locked, and a relay that dies leaves them unpublished.
_CLAIM_PG = text("""
UPDATE event SET published_at = :now
 WHERE seq IN (SELECT seq FROM event WHERE published_at IS NULL ORDER BY seq LIMIT :n FOR UPDATE SKIP LOCKED)
RETURNING seq, kind, merchant_id,
       '{"id":"evt_' || seq || '","type":' || to_json(kind) || ',"created_at":"'
       || to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') || '","merchant_id":'
       || coalesce(to_json(merchant_id)::text, 'null') || ',"data":' || payload::text || '}' AS body
""")
# Events below this batch's last still unpublished as this transaction sees them: held by another relay, or
# committed since this batch was read with an earlier number (this batch's own are marked already). Per merchant,
# the first of them.
_HELD_ELSEWHERE = text("""
SELECT merchant_id, min(seq) AS first FROM event WHERE published_at IS NULL AND seq < :last GROUP BY merchant_id
""")
_UNMARK_PG = text("UPDATE event SET published_at = NULL WHERE seq = ANY(CAST(:seqs AS bigint[]))")
_MARK_SQLITE = (update(_EVENTS).where(_EVENTS.c.seq.in_(bindparam("seqs", expanding=True)))
                .values(published_at=bindparam("now")))


class Pending(NamedTuple):
    seq: int
    kind: str
    merchant_id: str | None
    body: bytes
    subject: str


async def relay_batch(session: AsyncSession, nc: Client, settings: Settings, *, limit: int) -> int:
    """Publish one batch of the oldest unpublished events and mark them; commits. Returns how many were published
    (0: nothing to do now)."""
    dialect = dialect_of(session)
    topic = stream.prefix(settings)
    if dialect == "postgresql":
        rows = sorted((await session.execute(_CLAIM_PG, {"n": limit, "now": utcnow()})).all(), key=itemgetter(0))
        if rows:
            rows = await _in_merchant_order(session, rows)
        batch = [Pending(seq, kind, merchant_id, body.encode(), stream.subject(topic, merchant_id, kind))
                 for seq, kind, merchant_id, body in rows]
    else:
        batch = [Pending(seq, kind, merchant_id, stream.body(seq, kind, merchant_id, created_at, payload),
                         stream.subject(topic, merchant_id, kind))
                 for seq, kind, merchant_id, created_at, payload in (await session.execute(_PENDING, {"n": limit}))]
    if not batch:
        await session.rollback()
        return 0
    await publish(nc, batch)
    if dialect != "postgresql":
        await session.execute(_MARK_SQLITE, {"seqs": [p.seq for p in batch], "now": utcnow()})
    await session.commit()
    return len(batch)


async def _in_merchant_order(session: AsyncSession, rows: Sequence[Any]) -> list[Any]:
    """The rows this relay may publish now: not those of a merchant with an earlier event held elsewhere (those
    left are unmarked again, for a later batch)."""
    held = {r.merchant_id: r.first for r in (await session.execute(_HELD_ELSEWHERE, {"last": rows[-1].seq})).all()}
    if not held:
        return list(rows)
    keep = [r for r in rows if r.merchant_id not in held or r.seq < held[r.merchant_id]]
    if len(keep) < len(rows):
        kept = {r.seq for r in keep}
        await session.execute(_UNMARK_PG, {"seqs": [r.seq for r in rows if r.seq not in kept]})
    return keep


async def publish(nc: Client, batch: Sequence[Pending]) -> None:
    """Publish in order and wait until the broker stored (or, for a repeat, recognised) every message.

    The broker acknowledges each message to its own reply subject (`<inbox>.<index in the batch>`), all of them
    under one subscription for the batch, counted as they come. (The client's `publish_async` spent more CPU on its
    per-message futures, semaphore and parsed acknowledgements than the relay spent on everything else.)
    """
    inbox = nc.new_inbox()
    waiting = set(range(len(batch)))
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def acknowledged(msg: Msg) -> None:
        if done.done():
            return
        # a stored message: {"stream":..,"seq":..}; a refusal: {"error":{..}}; no stream for the subject: an
        # empty 503 status message
        if not msg.data or b'"error"' in msg.data:
            done.set_exception(RuntimeError(f"the broker refused an event: {msg.data[:300]!r} {msg.headers}"))
            return
        waiting.discard(int(msg.subject.rpartition(".")[2]))
        if not waiting:
            done.set_result(None)

    sub = await nc.subscribe(f"{inbox}.*", cb=acknowledged)
    try:
        for i, p in enumerate(batch):
            await nc.publish(p.subject, p.body, reply=f"{inbox}.{i}", headers={stream.MSG_ID: stream.event_id(p.seq)})
        async with asyncio.timeout(ACK_TIMEOUT_S):
            await done
    finally:
        await sub.unsubscribe()


async def run(factory: async_sessionmaker[AsyncSession], nc: Client, settings: Settings,
              stop: asyncio.Event) -> int:
    """Relay until `stop` is set; returns how many events were published."""
    total = 0
    while not stop.is_set():
        try:
            async with factory() as session:
                done = await relay_batch(session, nc, settings, limit=settings.shop_relay_batch)
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
    nc, _ = await stream.connect(settings, name="liutong-relay")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("relay_started", stream=settings.shop_nats_stream)
    heap.settle()
    try:
        return await run(make_sessionmaker(engine), nc, settings, stop)
    finally:
        await nc.drain()
        await engine.dispose()
