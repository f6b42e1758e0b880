"""Sealing orders and payments into one platform-wide hash chain (C23), and verifying it.

Why a job reading the outbox, platform-wide: checkout already writes `order.created` (and payment
`order.paid`) outbox rows in its own transaction, so sealing adds nothing to the checkout path and takes no
lock there. One job at a time extends the chain (it holds the cursor row), in outbox order, so the chain
never forks (`record_seal.prev_hash` is unique as well) and concurrent checkouts never wait on each other.
The price is a short delay: a record is sealed within one job interval of its commit.

What a seal covers is what must never change once it happened: an order as placed (its money, its lines as
sold) and a payment as received. Status, shipping and refunds move on; they are records of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.clock import as_utc, utcnow
from app.core.logging import get_logger
from app.core.models import OutboxEvent
from app.db import dialect_of, insert_ignore
from app.orders.models import Order, OrderLine, Payment
from app.trust import chain
from app.trust.models import RecordSeal, RecordSealCursor
from app.webhooks import rules as outbox_rules

log = get_logger("app.trust.records")

CURSOR = "records"
SEAL_BATCH = 1000  # outbox events read per transaction
MAX_BATCHES = 50
VERIFY_BATCH = 2000
GAP_WAIT = timedelta(seconds=60)  # how long a missing outbox number may be a transaction still in flight
SEALED_BY = {"order.created": "order", "order.paid": "payment"}

_ORDER_COLS = (Order.id, Order.number, Order.merchant_id, Order.channel, Order.currency, Order.subtotal,
               Order.discount, Order.shipping, Order.total, Order.payment_method, Order.promotion_code,
               Order.created_at)
_ORDERS = select(*_ORDER_COLS).where(Order.id.in_(bindparam("ids", expanding=True)))
_LINES = (select(OrderLine.order_id, OrderLine.id, OrderLine.sku, OrderLine.title, OrderLine.quantity,
                 OrderLine.unit_price, OrderLine.discount, OrderLine.total, OrderLine.listing_revision_id)
          .where(OrderLine.order_id.in_(bindparam("ids", expanding=True))).order_by(OrderLine.order_id, OrderLine.id))
_PAYMENTS = (select(Order.id, Order.merchant_id, Order.payment_method, Order.payment_id, Order.total, Order.paid_at,
                    Payment.provider, Payment.provider_ref, Payment.amount.label("payment_amount"))
             .outerjoin(Payment, Payment.id == Order.payment_id)
             .where(Order.id.in_(bindparam("ids", expanding=True))))
# Built once: the export calls it per batch, and a statement built each time leaves cyclic garbage behind.
_SEALS_OF = (select(RecordSeal.record_type, RecordSeal.record_id, RecordSeal.hash)
             .where(RecordSeal.record_id.in_(bindparam("ids", expanding=True))))


async def _facts(session: AsyncSession, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The sealed fields of each (record_type, order id) that still exists: three set-based reads."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    order_ids = sorted({rid for kind, rid in wanted if kind == "order"})
    if order_ids:
        lines: dict[str, list[dict[str, Any]]] = {}
        for ln in (await session.execute(_LINES, {"ids": order_ids})).all():
            lines.setdefault(ln.order_id, []).append(
                {"id": ln.id, "sku": ln.sku, "title": ln.title, "quantity": ln.quantity,
                 "unit_price": ln.unit_price, "discount": ln.discount, "total": ln.total,
                 "listing_revision_id": ln.listing_revision_id})
        for row in (await session.execute(_ORDERS, {"ids": order_ids})).all():
            found[("order", row.id)] = {**row._asdict(), "lines": lines.get(row.id, [])}
    paid_ids = sorted({rid for kind, rid in wanted if kind == "payment"})
    if paid_ids:
        for pay in (await session.execute(_PAYMENTS, {"ids": paid_ids})).all():
            found[("payment", pay.id)] = {"order_id": pay.id, **{k: v for k, v in pay._asdict().items()
                                                                  if k != "id"}}
    return found


async def _lock_cursor(session: AsyncSession) -> RecordSealCursor | None:
    stmt = select(RecordSealCursor).where(RecordSealCursor.name == CURSOR)
    if dialect_of(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    cursor = (await session.scalars(stmt)).one_or_none()
    if cursor is not None:
        return cursor
    if await session.scalar(select(RecordSealCursor.name).where(RecordSealCursor.name == CURSOR)) is not None:
        return None  # another process holds it
    await session.execute(insert_ignore(dialect_of(session), RecordSealCursor, ["name"]),
                          [{"name": CURSOR, "seq": 0}])
    return (await session.scalars(stmt)).one_or_none()


async def _head(session: AsyncSession) -> str:
    last = await session.scalar(select(RecordSeal.hash).order_by(RecordSeal.seq.desc()).limit(1))
    return last or chain.GENESIS


async def seal_batch(session: AsyncSession) -> tuple[int, bool]:
    """Seal the records of the next outbox events; returns (links added, whether more events wait)."""
    cursor = await _lock_cursor(session)
    if cursor is None:
        await session.rollback()
        return 0, False
    events = (await session.execute(
        select(OutboxEvent.seq, OutboxEvent.kind, OutboxEvent.payload).where(OutboxEvent.seq > cursor.seq)
        .order_by(OutboxEvent.seq).limit(SEAL_BATCH))).all()
    if not events:
        await session.rollback()
        return 0, False
    step = outbox_rules.advance(
        outbox_rules.Position(cursor.seq, cursor.gap_seq, as_utc(cursor.gap_seen_at) if cursor.gap_seen_at else None),
        [e.seq for e in events], now=utcnow(), gap_wait=GAP_WAIT)
    for first, last in step.skipped:
        log.warning("seal_outbox_gap_skipped", first_seq=first, last_seq=last)
    wanted = list(dict.fromkeys(  # outbox order, each record once
        (SEALED_BY[e.kind], e.payload["order_id"]) for e in events[:step.taken]
        if e.kind in SEALED_BY and isinstance(e.payload, dict) and isinstance(e.payload.get("order_id"), str)))
    added = 0
    if wanted:
        done = {(r.record_type, r.record_id) for r in (await session.execute(
            select(RecordSeal.record_type, RecordSeal.record_id)
            .where(RecordSeal.record_id.in_(sorted({rid for _, rid in wanted}))))).all()}
        facts = await _facts(session, [w for w in wanted if w not in done])
        prev = await _head(session)
        rows = []
        now = utcnow()
        for key in wanted:
            if key in done or key not in facts:
                continue
            d = chain.digest(facts[key])
            h = chain.link_hash(prev, key[0], key[1], d)
            rows.append({"record_type": key[0], "record_id": key[1], "merchant_id": facts[key]["merchant_id"],
                         "digest": d, "prev_hash": prev, "hash": h, "sealed_at": now})
            prev = h
        if rows:
            await session.execute(insert(RecordSeal), rows)
        added = len(rows)
    moved = step.position
    cursor.seq, cursor.gap_seq, cursor.gap_seen_at = moved.seq, moved.gap_seq, moved.gap_seen_at
    await session.commit()
    return added, step.taken == len(events) == SEAL_BATCH


async def seal_job(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Job (and `shop seal-records`): extend the chain with every record placed or paid since the last run."""
    sealed = 0
    for _ in range(MAX_BATCHES):
        async with factory() as session:
            added, more = await seal_batch(session)
        sealed += added
        if not more:
            break
    return sealed


async def verify(*, session: AsyncSession) -> dict[str, Any]:
    """Walk the whole chain against the records as they are now; report the first broken link, if any."""
    prev, checked, after = chain.GENESIS, 0, 0
    while True:
        links = [chain.Link(r.seq, r.record_type, r.record_id, r.digest, r.prev_hash, r.hash)
                 for r in (await session.scalars(select(RecordSeal).where(RecordSeal.seq > after)
                                                 .order_by(RecordSeal.seq).limit(VERIFY_BATCH))).all()]
        if not links:
            return {"ok": True, "checked": checked, "head": prev, "first_break": None}
        facts = await _facts(session, [(ln.record_type, ln.record_id) for ln in links])
        current = {key: chain.digest(value) for key, value in facts.items()}
        broken, prev_after = chain.first_break(links, current, prev_hash=prev)
        if broken is not None:
            checked += next(i for i, ln in enumerate(links) if ln.seq == broken.seq)
            return {"ok": False, "checked": checked, "head": None,
                    "first_break": {"seq": broken.seq, "record_type": broken.record_type,
                                    "record_id": broken.record_id, "reason": broken.reason}}
        checked += len(links)
        prev, after = prev_after, links[-1].seq


async def seals_of(session: AsyncSession, order_ids: Sequence[str]) -> dict[tuple[str, str], str]:
    """The chain hash of each sealed order and payment of these orders, for the export."""
    if not order_ids:
        return {}
    rows = await session.execute(_SEALS_OF, {"ids": list(order_ids)})
    return {(r.record_type, r.record_id): r.hash for r in rows}
