"""`shop consume webhooks` against the real NATS server: a consumer killed in the middle of a delivery leaves the
event unacknowledged, the next one delivers it again, and the merchant's endpoint sees every event at least once,
each time under the same event id."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import httpx
import orjson
import pytest

from app.broker import relay
from app.webhooks.signing import verify
from tests import factories as f
from tests.broker.conftest import Broker, Process, env_of, until
from tests.servers import Listener

pytestmark = pytest.mark.scaling


class Endpoint:
    """A merchant's endpoint on 127.0.0.1: records each POST; `on_first` runs before the first one is answered."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.on_first: Any = None
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                if len(body) < length:  # cut off by the sender's death: not a request anyone would act on
                    return
                with endpoint.lock:
                    first = not endpoint.received
                    endpoint.received.append((dict(self.headers.items()), body))
                if first and endpoint.on_first:
                    endpoint.on_first()  # the sender dies before it hears back
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = Listener(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def ids(self) -> list[str]:
        with self.lock:
            return [h["Liutong-Event-Id"] for h, _ in self.received]


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    e = Endpoint()
    e.thread.start()
    yield e
    e.server.shutdown()
    e.server.server_close()


async def test_a_webhook_consumer_killed_mid_delivery_delivers_again_under_the_same_event_id(
        app: Any, client: httpx.AsyncClient, db_url: str, pg_only: None, broker: Broker, endpoint: Endpoint,
        processes: list[Process]) -> None:
    m = await f.merchant(client)
    r = await client.post("/v1/webhooks", headers=m.headers, json={"url": endpoint.url, "events": ["product.created"]})
    assert r.status_code == 201, r.text
    secret = r.json()["secret"]
    webhook_id = r.json()["id"]
    products = [await f.product(client, m) for _ in range(5)]
    settings = broker.settings(db_url)
    async with app.state.sessionmaker() as session:
        assert await relay.relay_batch(session, broker.nc, settings, limit=1000) > 0
    env = env_of(settings, SHOP_WEBHOOK_ACK_WAIT_SECONDS="2", SHOP_WEBHOOK_ALLOW_PRIVATE="true")
    first = Process(["consume", "webhooks"], env)
    processes.append(first)
    endpoint.on_first = first.kill

    async def killed() -> bool:
        return bool(endpoint.ids()) and not first.alive()

    await until(killed, within=60, what="the first consumer to die in its first delivery")
    assert len(endpoint.ids()) <= 5
    second = Process(["consume", "webhooks"], env)
    processes.append(second)

    async def redelivered() -> bool:
        ids = endpoint.ids()
        return len(set(ids)) == 5 and ids.count(ids[0]) >= 2

    await until(redelivered, within=60, what="every event at the endpoint, the interrupted one again")

    async def settled() -> bool:
        d = await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=m.headers)
        return d.status_code == 200 and [x["status"] for x in d.json()["items"]] == ["delivered"] * 5

    await until(settled, within=30, what="every delivery recorded as delivered")
    assert "consumed" in second.stop()
    by_id: dict[str, list[dict[str, Any]]] = {}
    for headers, body in endpoint.received:
        assert verify(secret, body, headers["Liutong-Signature"], now=int(time.time()))
        event = orjson.loads(body)
        assert event["id"] == headers["Liutong-Event-Id"] and event["type"] == "product.created"
        by_id.setdefault(event["id"], []).append(event)
    assert sorted(e[0]["data"]["id"] for e in by_id.values()) == sorted(p["id"] for p in products)
    repeated = [events for events in by_id.values() if len(events) > 1]
    assert repeated and all(e == repeated[0][0] for e in repeated[0])  # the same event, the same id: droppable
    d = await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=m.headers)
    attempts = sorted(x["attempts"] for x in d.json()["items"])
    # the events in flight when the consumer died were attempted again; nothing more than that
    assert set(attempts) <= {1, 2} and attempts[-1] == 2, attempts
