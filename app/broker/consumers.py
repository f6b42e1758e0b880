"""`shop consume`: durable JetStream consumers of the outbox stream, each acknowledging an event only after its
work committed. A consumer that dies holding events leaves them unacknowledged, and the broker hands them to the
next one after the ack wait: work is done at least once, so each task is safe to repeat.

- webhooks: delivery to merchants' endpoints (app/webhooks/service.py `deliver_event`), retried with backoff
  through the broker (a negative acknowledgement with a delay) and given up (`failed`, the dead letters the
  console lists) after the last attempt;
- low-stock: `stock.low` notices for the merchants whose stock moved;
- search: the ranking's stock and sales signals, refreshed when stock or orders moved.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.broker import stream
from app.config import Settings
from app.core import heap
from app.core.logging import get_logger
from app.db import make_engine, make_sessionmaker
from app.webhooks.http import WebhookClient

log = get_logger("app.consumers")

FETCH_WAIT_S = 1.0  # an idle consumer's pull waits this long for the next event before asking again
# A pull for a batch waits at most this long to fill it: a pull for N events otherwise waits until N arrived or
# FETCH_WAIT_S passed, and at a few events a second each that is FETCH_WAIT_S of delay for every event.
GATHER_S = 0.02
RETRY_AFTER_ERROR_S = 5.0  # an event whose work raised is handed over again after this long


@dataclass(frozen=True, slots=True)
class Context:
    factory: async_sessionmaker[AsyncSession]
    settings: Settings
    http: WebhookClient


Handler = Callable[[Context, Sequence[tuple[Msg, dict[str, Any]]]], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Task:
    name: str  # the durable consumer's name
    kinds: frozenset[str] | None  # the event types it works on (others are acknowledged untouched); None: all
    batch: int  # events fetched at once
    handle: Handler


async def _webhooks(ctx: Context, msgs: Sequence[tuple[Msg, dict[str, Any]]]) -> None:
    from app.webhooks import service

    lease = timedelta(seconds=ctx.settings.shop_webhook_ack_wait_seconds)
    later = await service.deliver_events(ctx.factory, ctx.http, [e for _, e in msgs], lease=lease,
                                         allow_private=ctx.settings.shop_webhook_allow_private)
    for (msg, _), wait in zip(msgs, later, strict=True):
        if wait is None:
            await msg.ack()
        else:
            await msg.nak(delay=max(wait.total_seconds(), 0.1))


async def _low_stock(ctx: Context, msgs: Sequence[tuple[Msg, dict[str, Any]]]) -> None:
    from app.inventory.moves import service

    merchants = sorted({str(e["merchant_id"]) for _, e in msgs if e.get("merchant_id")})
    async with ctx.factory() as session:
        for merchant_id in merchants:
            await service.check_low(session, merchant_id=merchant_id)
        await session.commit()
    for msg, _ in msgs:
        await msg.ack()


async def _search(ctx: Context, msgs: Sequence[tuple[Msg, dict[str, Any]]]) -> None:
    from app.catalog.search import service

    async with ctx.factory() as session:
        await service.refresh_signals(session)  # commits
    for msg, _ in msgs:
        await msg.ack()


_STOCK_MOVES = frozenset({"stock.changed", "stock.oversold", "stock.transfer_sent", "stock.transfer_received",
                          "stock.conflict_resolved", "order.created", "order.cancelled", "order.returned"})
TASKS: dict[str, Task] = {
    "webhooks": Task("webhooks", None, 256, _webhooks),
    "low-stock": Task("low-stock", _STOCK_MOVES, 500, _low_stock),
    "search": Task("search", _STOCK_MOVES | {"order.paid", "product.created", "product.active"}, 1000, _search),
}


def consumer_config(task: Task, settings: Settings) -> ConsumerConfig:
    return ConsumerConfig(durable_name=task.name, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
                          ack_wait=settings.shop_webhook_ack_wait_seconds, max_deliver=-1, max_ack_pending=20_000,
                          filter_subject=f"{stream.prefix(settings)}.>")


async def consume(js: JetStreamContext, task: Task, ctx: Context, stop: asyncio.Event) -> int:
    """Work through the task's events until `stop` is set; returns how many were handed over."""
    settings = ctx.settings
    await js.add_consumer(settings.shop_nats_stream, consumer_config(task, settings))  # idempotent for one config
    sub = await js.pull_subscribe_bind(durable=task.name, stream=settings.shop_nats_stream)
    seen = 0
    idle = False
    while not stop.is_set():
        try:
            # after a quiet spell, wait for one event (handed over the moment it arrives); else take what is there
            msgs = await (sub.fetch(1, timeout=FETCH_WAIT_S) if idle else sub.fetch(task.batch, timeout=GATHER_S))
        except TimeoutError:  # nats.errors.TimeoutError is one, and a pull may also raise asyncio's own
            idle = True
            continue
        idle = False
        seen += len(msgs)
        wanted: list[tuple[Msg, dict[str, Any]]] = []
        for msg in msgs:
            event = stream.decode(msg.data)
            if task.kinds is None or event.get("type") in task.kinds:
                wanted.append((msg, event))
            else:
                await msg.ack()
        if not wanted:
            continue
        try:
            await task.handle(ctx, wanted)
        except Exception:
            log.exception("consumer_batch_failed", consumer=task.name, events=len(wanted))
            for msg, _ in wanted:
                with contextlib.suppress(Exception):
                    await msg.nak(delay=RETRY_AFTER_ERROR_S)
    return seen


async def main(settings: Settings, names: Sequence[str]) -> int:
    """`shop consume NAME...`: each named task as a group of its own in this process, until SIGTERM or SIGINT."""
    from app.main import install_hooks
    from app.webhooks.service import new_client

    install_hooks()
    engine = make_engine(settings.database_url, pool_size=2 * len(names))
    nc, js = await stream.connect(settings, name="liutong-consume-" + "+".join(names))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("consumers_started", consumers=list(names), stream=settings.shop_nats_stream)
    heap.settle()
    try:
        async with new_client() as http:
            ctx = Context(make_sessionmaker(engine), settings, http)
            counts = await asyncio.gather(*(consume(js, TASKS[n], ctx, stop) for n in names))
        return sum(counts)
    finally:
        await nc.drain()
        await engine.dispose()
