"""The broker's webhook path without the broker: one event handed over again and again, as JetStream does after
each negative acknowledgement, is retried with the backoff and given up after the last attempt; the merchant's
console lists it among the dead letters."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from app.broker import stream
from app.core import clock
from app.core.models import OutboxEvent
from app.webhooks import rules
from app.webhooks import service as webhooks_service
from tests import factories as f
from tests.web.helpers import assert_good_page, csrf

UNREACHABLE = "http://127.0.0.1:9/hooks"  # the discard port: nothing listens there


async def _event(app: Any, kind: str) -> dict[str, Any]:
    """The outbox event of `kind` as the relay puts it on the stream."""
    async with app.state.sessionmaker() as session:
        e = (await session.execute(select(OutboxEvent).where(OutboxEvent.kind == kind))).scalars().one()
        return stream.decode(stream.body(e.seq, e.kind, e.merchant_id, e.created_at, orjson.dumps(e.payload).decode()))


async def test_an_event_is_retried_with_backoff_then_dead_lettered_and_shown_in_the_console(
        app: Any, client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    r = await client.post("/v1/webhooks", headers=m.headers, json={"url": UNREACHABLE, "events": ["product.created"]})
    assert r.status_code == 201, r.text
    await f.product(client, m)
    event = await _event(app, "product.created")
    waits = []
    async with webhooks_service.new_client() as http:
        for _ in range(rules.MAX_ATTEMPTS + 2):
            later = await webhooks_service.deliver_event(app.state.sessionmaker, http, event,
                                                         lease=timedelta(seconds=60), allow_private=True)
            if later is None:
                break
            waits.append(later)
            clock.travel(later + timedelta(seconds=1))
        # handed over once more after the end (a redelivery): nothing is sent, the event is settled
        assert await webhooks_service.deliver_event(app.state.sessionmaker, http, event,
                                                    lease=timedelta(seconds=60), allow_private=True) is None
    assert waits == [rules.retry_delay(n) for n in range(1, rules.MAX_ATTEMPTS)]
    d = (await client.get(f"/v1/webhooks/{r.json()['id']}/deliveries", headers=m.headers)).json()["items"]
    assert [(x["status"], x["attempts"], x["event_id"]) for x in d] == [("failed", rules.MAX_ATTEMPTS, event["id"])]
    login = (await client.get("/console/login")).text
    assert (await client.post("/console/login", data={"csrf": csrf(login), "api_key": m.api_key})).status_code == 303
    html = assert_good_page(await client.get("/console/webhooks", params={"status": "failed"}))
    assert "已放弃（死信）" in html and event["id"] in html and "product.created" in html and UNREACHABLE in html
    assert "ConnectError" in html
    empty = assert_good_page(await client.get("/console/webhooks", params={"status": "delivered"}))
    assert event["id"] not in empty
