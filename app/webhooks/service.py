"""Webhook endpoints and the dispatcher that delivers outbox events to them.

The dispatcher (`deliver_webhooks`, a job in `shop serve` and `shop deliver-webhooks`) runs in two steps:

1. Fan-out: read the outbox (`event`) past the `webhook_cursor` row and insert one `webhook_delivery`
   per (event, active endpoint of the event's merchant subscribed to its kind, registered before the
   event), then move the cursor, all in one transaction. The cursor row is locked with SKIP LOCKED on
   PostgreSQL (SQLite serialises writers), so one process fans out at a time; the unique
   (endpoint, event) key makes a repeat a no-op anyway.
2. Send: claim due deliveries (SKIP LOCKED on PostgreSQL), counting the attempt and leasing them for
   `LEASE` in a short transaction; POST them with no transaction open; record each outcome (2xx:
   delivered; else retried with backoff, `failed` after the last attempt) in another transaction. An
   outcome is recorded only by the attempt that holds the lease, and a process that dies mid-send
   leaves the delivery to be retried when its lease runs out.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import orjson
from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.clock import as_utc, rfc3339, utcnow
from app.core.errors import Conflict, field_error
from app.core.ids import new_id
from app.core.logging import get_logger
from app.core.models import OutboxEvent
from app.core.pagination import keyset_page
from app.db import dialect_of, insert_ignore
from app.webhooks import destinations, rules
from app.webhooks.http import WebhookClient
from app.webhooks.models import WebhookCursor, WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import EVENT_ID_HEADER, EVENT_TYPE_HEADER, SIGNATURE_HEADER, sign

log = get_logger("app.webhooks")

CURSOR = "webhooks"
FANOUT_BATCH = 500  # events per fan-out transaction
SEND_BATCH = 100  # deliveries claimed at once
MAX_BATCHES = 20  # per run, for each step
CONCURRENCY = 20  # requests in flight per process
TIMEOUT_S = 5.0  # connecting, and waiting for the answer
USER_AGENT = "Liutong-Webhooks/1"
DEADLINE_S = 10.0  # the whole request, up to its answer
# How long a claimed batch is ours: longer than sending the whole batch can take.
LEASE = timedelta(seconds=DEADLINE_S * -(-SEND_BATCH // CONCURRENCY) + 60)
GAP_WAIT = timedelta(seconds=60)  # how long a missing outbox number may be a transaction in flight

_DELIVERIES = cast(Table, WebhookDelivery.__table__)
# One executemany for a batch's outcomes; only the attempt holding the lease may write its outcome.
_RECORD = (update(_DELIVERIES)
           .where(_DELIVERIES.c.id == bindparam("b_id"), _DELIVERIES.c.attempts == bindparam("b_attempt"),
                  _DELIVERIES.c.status == "pending")
           .values(status=bindparam("b_status"), next_attempt_at=bindparam("b_next"),
                   last_status_code=bindparam("b_code"), last_error=bindparam("b_error"),
                   delivered_at=bindparam("b_delivered")))


def event_id(seq: int) -> str:
    """The public id of outbox event `seq` (`Liutong-Event-Id`)."""
    return f"evt_{seq}"



# ---- endpoints -----------------------------------------------------------------------------------------

async def create_endpoint(session: AsyncSession, *, merchant_id: str, url: str, events: Sequence[str],
                          allow_private: bool = False) -> WebhookEndpoint:
    """Register an endpoint with a new signing secret (returned on the object, shown to the merchant once).

    The URL must point at the public internet unless the operator allows private networks
    (app/webhooks/destinations.py).
    """
    reason = await destinations.refusal(url, allow_private=allow_private, unresolved_ok=True)
    if reason:
        raise field_error("url", reason)
    active = await session.scalar(select(func.count()).select_from(WebhookEndpoint).where(
        WebhookEndpoint.merchant_id == merchant_id, WebhookEndpoint.status == "active"))
    if (active or 0) >= rules.MAX_ENDPOINTS:
        raise Conflict(f"a merchant may have at most {rules.MAX_ENDPOINTS} active webhook endpoints; "
                       "delete one first")
    endpoint = WebhookEndpoint(id=new_id("whe"), merchant_id=merchant_id, url=url,
                               events=list(dict.fromkeys(events)), secret=f"whsec_{secrets.token_urlsafe(32)}",
                               status="active", created_at=utcnow())
    session.add(endpoint)
    await session.commit()
    log.info("webhook_endpoint_created", endpoint_id=endpoint.id, merchant_id=merchant_id, events=endpoint.events)
    return endpoint


async def get_endpoint(session: AsyncSession, *, merchant_id: str, endpoint_id: str) -> WebhookEndpoint | None:
    """Return the merchant's endpoint, or None if missing or another merchant's."""
    endpoint = await session.get(WebhookEndpoint, endpoint_id)
    return endpoint if endpoint is not None and endpoint.merchant_id == merchant_id else None


async def list_endpoints(session: AsyncSession, *, merchant_id: str, before: str | None,
                         limit: int) -> tuple[list[WebhookEndpoint], str | None]:
    """The merchant's endpoints, newest first; the second value is the position of the next page."""
    return await keyset_page(session, select(WebhookEndpoint).where(WebhookEndpoint.merchant_id == merchant_id),
                             WebhookEndpoint.id, after=before, limit=limit)


async def disable_endpoint(session: AsyncSession, *, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Stop sending to an endpoint: it gets no new deliveries and its pending ones are cancelled."""
    if endpoint.status != "disabled":
        now = utcnow()
        endpoint.status, endpoint.disabled_at = "disabled", now
        await session.execute(update(WebhookDelivery)
                              .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == "pending")
                              .values(status="cancelled", next_attempt_at=None)
                              .execution_options(synchronize_session=False))
        await session.commit()
        log.info("webhook_endpoint_disabled", endpoint_id=endpoint.id, merchant_id=endpoint.merchant_id)
    return endpoint


async def list_deliveries(session: AsyncSession, *, endpoint_id: str, before_seq: int | None,
                          limit: int) -> tuple[list[dict[str, Any]], int | None]:
    """An endpoint's delivery log, newest event first; the second value is the position of the next page."""
    page, last = await keyset_page(session, select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id),
                                   WebhookDelivery.event_seq, after=before_seq, limit=limit)
    items = [{"event_id": event_id(d.event_seq), "event_type": d.event_kind, "status": d.status,
              "attempts": d.attempts, "last_status_code": d.last_status_code, "last_error": d.last_error,
              "last_attempt_at": d.last_attempt_at,
              "next_attempt_at": d.next_attempt_at if d.status == "pending" else None,
              "delivered_at": d.delivered_at, "created_at": d.created_at} for d in page]
    return items, last


# ---- the dispatcher ------------------------------------------------------------------------------------

async def deliver_webhooks(factory: async_sessionmaker[AsyncSession], settings: Settings,
                           client: WebhookClient | None = None) -> int:
    """Job (and `shop deliver-webhooks`): fan new outbox events out to endpoints, send what is due.

    Returns the number of delivery attempts made. Safe to run in several processes at once.
    """
    await fan_out(factory)
    allow_private = settings.shop_webhook_allow_private
    if client is not None:
        return await send_due(factory, client, allow_private=allow_private)
    async with new_client() as own:
        return await send_due(factory, own, allow_private=allow_private)


def new_client() -> WebhookClient:
    """The client webhooks are sent with: one per process (or run), its connections kept between requests."""
    return WebhookClient(timeout=TIMEOUT_S, user_agent=USER_AGENT)


async def fan_out(factory: async_sessionmaker[AsyncSession]) -> int:
    """Turn outbox events past the cursor into pending deliveries; returns how many were created."""
    created = 0
    for _ in range(MAX_BATCHES):
        async with factory() as session:
            count, more = await _fan_out_batch(session)
        created += count
        if not more:
            break
    return created


async def _lock_cursor(session: AsyncSession) -> WebhookCursor | None:
    stmt = select(WebhookCursor).where(WebhookCursor.name == CURSOR)
    if dialect_of(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return (await session.scalars(stmt)).one_or_none()


async def _fan_out_batch(session: AsyncSession) -> tuple[int, bool]:
    cursor = await _lock_cursor(session)
    if cursor is None:
        if await session.scalar(select(WebhookCursor.name).where(WebhookCursor.name == CURSOR)) is not None:
            await session.rollback()  # another process is fanning out right now
            return 0, False
        await session.execute(insert_ignore(dialect_of(session), WebhookCursor, ["name"]), [{"name": CURSOR, "seq": 0}])
        cursor = await _lock_cursor(session)
        if cursor is None:
            await session.rollback()
            return 0, False
    events = (await session.execute(
        select(OutboxEvent.seq, OutboxEvent.kind, OutboxEvent.merchant_id, OutboxEvent.created_at)
        .where(OutboxEvent.seq > cursor.seq).order_by(OutboxEvent.seq).limit(FANOUT_BATCH))).all()
    if not events:
        await session.rollback()
        return 0, False
    now = utcnow()
    step = rules.advance(rules.Position(cursor.seq, cursor.gap_seq,
                                       as_utc(cursor.gap_seen_at) if cursor.gap_seen_at else None),
                         [e.seq for e in events], now=now, gap_wait=GAP_WAIT)
    for first, last in step.skipped:
        log.warning("outbox_gap_skipped", first_seq=first, last_seq=last)
    taken = events[:step.taken]
    merchants = {e.merchant_id for e in taken if e.merchant_id}
    endpoints: dict[str, list[WebhookEndpoint]] = {}
    if merchants:
        for ep in (await session.scalars(select(WebhookEndpoint).where(
                WebhookEndpoint.merchant_id.in_(sorted(merchants)), WebhookEndpoint.status == "active")
                .order_by(WebhookEndpoint.id))).all():
            endpoints.setdefault(ep.merchant_id, []).append(ep)
    rows = [{"endpoint_id": ep.id, "merchant_id": e.merchant_id, "event_seq": e.seq, "event_kind": e.kind,
             "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
            for e in taken if e.merchant_id
            for ep in endpoints.get(e.merchant_id, [])
            if rules.subscribed(ep.events, e.kind) and as_utc(ep.created_at) <= as_utc(e.created_at)]
    if rows:
        await session.execute(insert_ignore(dialect_of(session), WebhookDelivery, ["endpoint_id", "event_seq"]), rows)
    moved = step.position
    cursor.seq, cursor.gap_seq, cursor.gap_seen_at = moved.seq, moved.gap_seq, moved.gap_seen_at
    await session.commit()
    if rows:
        log.info("webhook_fanned_out", events=len(taken), deliveries=len(rows), cursor=moved.seq)
    return len(rows), step.taken == len(events) == FANOUT_BATCH


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One claimed attempt: what to send where, and which attempt it is."""

    delivery_id: int
    attempt: int
    endpoint_id: str
    url: str
    secret: str
    event_id: str
    kind: str
    body: bytes


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def send_due(factory: async_sessionmaker[AsyncSession], client: WebhookClient, *,
                   allow_private: bool = False) -> int:
    """Send every due delivery (in claimed batches); returns the number of attempts made.

    Each attempt checks its destination again first: a name that now resolves to a private address is a
    failed attempt, not a request.
    """
    attempts = 0
    for _ in range(MAX_BATCHES):
        async with factory() as session:
            batch = await _claim(session, utcnow())
        if not batch:
            break
        outcomes = await _send_all(client, batch, allow_private=allow_private)
        async with factory() as session:
            await _record(session, list(zip(batch, outcomes, strict=True)))
        attempts += len(batch)
        if len(batch) < SEND_BATCH:
            break
    return attempts


async def _send_all(client: WebhookClient, batch: Sequence[Outgoing], *, allow_private: bool) -> list[Outcome]:
    """Post each delivery, a few at once, each destination checked again first: a name that now resolves to a
    private address is a failed attempt, not a request."""
    limit = asyncio.Semaphore(CONCURRENCY)
    # one lookup per destination and batch (its requests are made at the same moment), not one per request
    urls = sorted({out.url for out in batch})
    refused = dict(zip(urls, await asyncio.gather(*(
        destinations.refusal(url, allow_private=allow_private, unresolved_ok=False) for url in urls)), strict=True))

    async def send(out: Outgoing) -> Outcome:
        reason = refused[out.url]
        if reason:
            return Outcome(None, f"destination refused: {reason}"[:500])
        async with limit:
            return await _post(client, out)

    return list(await asyncio.gather(*(send(out) for out in batch)))


async def _claim(session: AsyncSession, now: datetime) -> list[Outgoing]:
    """Count an attempt on each due delivery and lease it; deliveries of disabled endpoints are cancelled."""
    stmt = (select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.event_seq,
                   WebhookDelivery.attempts)
            .where(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id).limit(SEND_BATCH))
    if dialect_of(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    due = (await session.execute(stmt)).all()
    if not due:
        await session.rollback()
        return []
    endpoints = {ep.id: ep for ep in (await session.scalars(
        select(WebhookEndpoint).where(WebhookEndpoint.id.in_({d.endpoint_id for d in due})))).all()}
    live = [d for d in due if endpoints[d.endpoint_id].status == "active"]
    found = {e.seq: e for e in (await session.execute(
        select(OutboxEvent.seq, OutboxEvent.kind, OutboxEvent.created_at, OutboxEvent.payload)
        .where(OutboxEvent.seq.in_({d.event_seq for d in live})))).all()} if live else {}
    sendable = [d for d in live if d.event_seq in found]
    cancelled = [d.id for d in due if endpoints[d.endpoint_id].status != "active"]
    lost = [d.id for d in live if d.event_seq not in found]
    if cancelled:
        await session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(cancelled))
                              .values(status="cancelled", next_attempt_at=None)
                              .execution_options(synchronize_session=False))
    if lost:  # the event was pruned from the outbox before it could be sent
        await session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_(lost))
                              .values(status="failed", next_attempt_at=None, last_error="event no longer stored")
                              .execution_options(synchronize_session=False))
    if sendable:
        await session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_([d.id for d in sendable]))
                              .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=now + LEASE,
                                      last_attempt_at=now)
                              .execution_options(synchronize_session=False))
    await session.commit()
    batch = []
    for d in sendable:
        event, ep = found[d.event_seq], endpoints[d.endpoint_id]
        body = orjson.dumps({"id": event_id(d.event_seq), "type": event.kind,
                             "created_at": rfc3339(event.created_at),
                             "merchant_id": ep.merchant_id, "data": event.payload})
        batch.append(Outgoing(delivery_id=d.id, attempt=d.attempts + 1, endpoint_id=ep.id, url=ep.url,
                              secret=ep.secret, event_id=event_id(d.event_seq), kind=event.kind, body=body))
    return batch


async def _post(client: WebhookClient, out: Outgoing) -> Outcome:
    """One signed POST; its status code, or why there was none."""
    headers = {"Content-Type": "application/json", EVENT_ID_HEADER: out.event_id, EVENT_TYPE_HEADER: out.kind,
               SIGNATURE_HEADER: sign(out.secret, out.body, timestamp=int(utcnow().timestamp()))}
    try:
        async with asyncio.timeout(DEADLINE_S):
            return Outcome(await client.post(out.url, out.body, headers), None)
    except Exception as exc:  # connection refused, timeout, TLS, a malformed answer...
        return Outcome(None, (f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)[:500])


def _next_state(attempt: int, outcome: Outcome, now: datetime) -> dict[str, Any]:
    if outcome.ok:
        return {"b_status": "delivered", "b_next": None, "b_delivered": now}
    if rules.gives_up(attempt):
        return {"b_status": "failed", "b_next": None, "b_delivered": None}
    return {"b_status": "pending", "b_next": now + rules.retry_delay(attempt), "b_delivered": None}


async def _record(session: AsyncSession, results: list[tuple[Outgoing, Outcome]]) -> None:
    now = utcnow()
    params = [{"b_id": out.delivery_id, "b_attempt": out.attempt, "b_code": res.status_code,
               "b_error": res.error, **_next_state(out.attempt, res, now)} for out, res in results]
    await session.execute(_RECORD, params)
    await session.commit()
    for (out, res), p in zip(results, params, strict=True):
        fields = {"endpoint_id": out.endpoint_id, "event_id": out.event_id, "event_type": out.kind,
                  "attempt": out.attempt, "status_code": res.status_code}
        if p["b_status"] == "delivered":
            log.info("webhook_delivered", **fields)
        elif p["b_status"] == "failed":
            log.warning("webhook_failed", error=res.error, **fields)
        else:
            log.warning("webhook_attempt_failed", error=res.error, next_attempt_at=p["b_next"].isoformat(), **fields)


# ---- events from the broker (`shop consume webhooks`) -------------------------------------------------------

async def deliver_event(factory: async_sessionmaker[AsyncSession], client: WebhookClient,
                        event: dict[str, Any], *, lease: timedelta, allow_private: bool = False) -> timedelta | None:
    """`deliver_events` for one event."""
    return (await deliver_events(factory, client, [event], lease=lease, allow_private=allow_private))[0]


async def deliver_events(factory: async_sessionmaker[AsyncSession], client: WebhookClient,
                         events: Sequence[dict[str, Any]], *, lease: timedelta,
                         allow_private: bool = False) -> list[timedelta | None]:
    """Deliver outbox events, as the broker hands them over, to their merchants' endpoints.

    Makes the events' deliveries (as the fan-out does), then sends each one that is due, counting and leasing the
    attempt first as `send_due` does: one transaction before the requests and one after, for the whole batch.
    The delivery rows keep what was sent, so an event handed over again (a consumer died before acknowledging it)
    is sent only where it is not delivered yet. Per event: None when every delivery of it is settled (delivered,
    failed after the last attempt, cancelled), so the message may be acknowledged; else how long to wait before
    trying again.
    """
    now = utcnow()
    wanted = [e for e in events if e.get("merchant_id")]
    seq_of = {id(e): int(str(e["id"]).removeprefix("evt_")) for e in wanted}
    if not wanted:
        return [None] * len(events)
    async with factory() as session:
        merchants = sorted({str(e["merchant_id"]) for e in wanted})
        by_merchant: dict[str, list[WebhookEndpoint]] = {}
        for ep in (await session.scalars(select(WebhookEndpoint).where(
                WebhookEndpoint.merchant_id.in_(merchants), WebhookEndpoint.status == "active")
                .order_by(WebhookEndpoint.id))).all():
            by_merchant.setdefault(ep.merchant_id, []).append(ep)
        active = {ep.id: ep for eps in by_merchant.values() for ep in eps}
        rows = [{"endpoint_id": ep.id, "merchant_id": e["merchant_id"], "event_seq": seq_of[id(e)],
                 "event_kind": str(e["type"]), "status": "pending", "attempts": 0, "next_attempt_at": now,
                 "created_at": now}
                for e in wanted for ep in by_merchant.get(str(e["merchant_id"]), [])
                if rules.subscribed(ep.events, str(e["type"]))
                and as_utc(ep.created_at) <= as_utc(datetime.fromisoformat(str(e["created_at"])))]
        if not rows:
            await session.rollback()
            return [None] * len(events)
        await session.execute(insert_ignore(dialect_of(session), WebhookDelivery, ["endpoint_id", "event_seq"]), rows)
        claim = (select(WebhookDelivery.id, WebhookDelivery.endpoint_id, WebhookDelivery.event_seq,
                        WebhookDelivery.attempts, WebhookDelivery.next_attempt_at)
                 .where(WebhookDelivery.event_seq.in_(sorted({r["event_seq"] for r in rows})),
                        WebhookDelivery.endpoint_id.in_(sorted({r["endpoint_id"] for r in rows})),
                        WebhookDelivery.status == "pending"))
        if dialect_of(session) == "postgresql":
            claim = claim.with_for_update(skip_locked=True)
        pending = (await session.execute(claim)).all()
        due = [d for d in pending if d.endpoint_id in active and as_utc(d.next_attempt_at or now) <= now]
        waiting: dict[int, list[timedelta]] = {}
        for d in pending:
            if d.endpoint_id in active and d.next_attempt_at and as_utc(d.next_attempt_at) > now:
                waiting.setdefault(d.event_seq, []).append(as_utc(d.next_attempt_at) - now)
        if due:
            await session.execute(update(WebhookDelivery).where(WebhookDelivery.id.in_([d.id for d in due]))
                                  .values(attempts=WebhookDelivery.attempts + 1, next_attempt_at=now + lease,
                                          last_attempt_at=now)
                                  .execution_options(synchronize_session=False))
        await session.commit()
    by_seq = {seq_of[id(e)]: e for e in wanted}
    bodies = {seq: orjson.dumps(e) for seq, e in by_seq.items()}
    batch = [Outgoing(delivery_id=d.id, attempt=d.attempts + 1, endpoint_id=d.endpoint_id,
                      url=active[d.endpoint_id].url, secret=active[d.endpoint_id].secret,
                      event_id=event_id(d.event_seq), kind=str(by_seq[d.event_seq]["type"]), body=bodies[d.event_seq])
             for d in due]
    outcomes = await _send_all(client, batch, allow_private=allow_private)
    if batch:
        async with factory() as session:
            await _record(session, list(zip(batch, outcomes, strict=True)))
    for (out, res), d in zip(zip(batch, outcomes, strict=True), due, strict=True):
        if not res.ok and not rules.gives_up(out.attempt):
            waiting.setdefault(d.event_seq, []).append(rules.retry_delay(out.attempt))
    return [min(waiting[seq_of[id(e)]]) if id(e) in seq_of and waiting.get(seq_of[id(e)]) else None
            for e in events]
