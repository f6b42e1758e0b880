"""Outbound webhooks: registration, signed deliveries to a real receiver, retries, tenancy, exactly-once fan-out."""

from __future__ import annotations

import ast
import asyncio
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from app.broker import stream
from app.cli import cli
from app.config import get_settings
from app.core import clock
from app.core.models import OutboxEvent
from app.db import make_engine, make_sessionmaker
from app.orders.states import TRANSITIONS
from app.webhooks import rules
from app.webhooks import service as webhooks_service
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.webhooks.signing import sign, verify
from tests import factories as f
from tests.servers import Listener

SECRET = "whsec_test"


# ---- a receiving server ------------------------------------------------------------------------------------

@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers with the status set for its path."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.status: dict[str, int] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
                    code = receiver.status.get(self.path, 200)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = Listener(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    rec = Receiver()
    rec.thread.start()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


# ---- helpers -----------------------------------------------------------------------------------------------

async def register(client: httpx.AsyncClient, m: f.MerchantCtx, url: str, events: list[str]) -> dict[str, Any]:
    r = await client.post("/v1/webhooks", headers=m.headers, json={"url": url, "events": events})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def dispatch(app: Any) -> int:
    return await webhooks_service.deliver_webhooks(app.state.sessionmaker, app.state.settings)


async def deliveries(client: httpx.AsyncClient, m: f.MerchantCtx, webhook_id: str) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/webhooks/{webhook_id}/deliveries", headers=m.headers)
    assert r.status_code == 200, r.text
    return list(r.json()["items"])


def now_s() -> int:
    return int(clock.utcnow().timestamp())


def assert_signed(req: Received, secret: str) -> dict[str, Any]:
    """The request verifies with the endpoint's secret and its headers agree with its body."""
    assert verify(secret, req.body, req.headers["Liutong-Signature"], now=now_s()), req.headers
    assert not verify(secret + "x", req.body, req.headers["Liutong-Signature"], now=now_s())
    body = req.json
    assert req.headers["Liutong-Event-Id"] == body["id"] and req.headers["Liutong-Event-Type"] == body["type"]
    assert req.headers["Content-Type"] == "application/json"
    return body


async def max_event_seq(app: Any) -> int:
    async with app.state.sessionmaker() as session:
        return int(await session.scalar(select(func.coalesce(func.max(OutboxEvent.seq), 0))) or 0)


# ---- rules without a database ------------------------------------------------------------------------------

def test_signature_verifies_only_the_signed_body_secret_and_time() -> None:
    body = b'{"id":"evt_1","type":"stock.changed"}'
    header = sign(SECRET, body, timestamp=1_700_000_000)
    assert re.fullmatch(r"t=1700000000,v1=[0-9a-f]{64}", header)
    assert verify(SECRET, body, header, now=1_700_000_100)
    assert not verify(SECRET, body + b" ", header, now=1_700_000_100)  # tampered body
    assert not verify("whsec_other", body, header, now=1_700_000_100)  # another endpoint's secret
    assert not verify(SECRET, body, header, now=1_700_000_000 + 301)  # replayed later
    # Several v1 values (a secret being rotated), in any order: one matching is enough.
    rotated = header + ",v1=" + "0" * 64
    assert verify(SECRET, body, "v1=" + "0" * 64 + "," + header.split(",")[1] + ",t=1700000000", now=1_700_000_000)
    assert verify(SECRET, body, rotated, now=1_700_000_000)
    for bad in ("", "t=,v1=", "v1=abc", "t=1700000000", "t=abc,v1=" + "0" * 64, "garbage"):
        assert not verify(SECRET, body, bad, now=1_700_000_000)


def test_backoff_doubles_up_to_a_cap_and_gives_up_after_the_last_attempt() -> None:
    assert [rules.retry_delay(n).total_seconds() for n in range(1, 9)] == [30, 60, 120, 240, 480, 960, 1920, 3600]
    assert rules.retry_delay(50) == timedelta(hours=1)
    assert not rules.gives_up(rules.MAX_ATTEMPTS - 1) and rules.gives_up(rules.MAX_ATTEMPTS)
    assert rules.subscribed(["*"], "stock.changed") and rules.subscribed(["order.paid", "stock.changed"],
                                                                          "stock.changed")
    assert not rules.subscribed(["order.paid"], "stock.changed")


def test_the_cursor_waits_at_a_gap_then_gives_up_on_it() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    wait = timedelta(seconds=60)
    step = rules.advance(rules.Position(3), [4, 5, 6], now=t0, gap_wait=wait)
    assert (step.position, step.taken) == (rules.Position(6), 3)
    # 5 is missing: maybe a transaction still committing. Stop before it and note when it was seen.
    step = rules.advance(rules.Position(3), [4, 6, 7], now=t0, gap_wait=wait)
    assert (step.position, step.taken) == (rules.Position(4, 5, t0), 1)
    # It commits a little later: everything is taken, the gap is forgotten.
    later = rules.advance(step.position, [5, 6, 7], now=t0 + timedelta(seconds=5), gap_wait=wait)
    assert (later.position, later.taken, later.skipped) == (rules.Position(7), 3, ())
    # Still missing, but not for long enough: keep waiting (the first sighting is kept).
    waiting = rules.advance(step.position, [6, 7], now=t0 + timedelta(seconds=59), gap_wait=wait)
    assert (waiting.position, waiting.taken) == (rules.Position(4, 5, t0), 0)
    # Missing for a minute: a rolled-back transaction. Skip it.
    gone = rules.advance(step.position, [6, 7, 9], now=t0 + timedelta(seconds=60), gap_wait=wait)
    assert (gone.taken, gone.skipped) == (2, ((5, 5),))
    assert gone.position == rules.Position(7, 8, t0 + timedelta(seconds=60))  # a new gap, seen now


_KIND = re.compile(r"^[a-z_]+\.[a-z_]+$")
# Kinds built with an f-string, by their fixed prefix: what the placeholder can be.
_DYNAMIC = {
    "order.": {f"order.{status}" for status in TRANSITIONS.values()},
    "product.": {"product.active", "product.taken_down"},  # catalog set_status_by_platform
    "group_buy.": {"group_buy.succeeded", "group_buy.failed"},  # community rules.Outcome
    "complaint.": {"complaint.upheld", "complaint.rejected"},
    "merchant.": {"merchant.verified", "merchant.suspended", "merchant.rejected"},  # merchants.service.set_status
    "rules.": {"rules.accepted", "rules.refused"},  # a merchant's answer to a rules change
    "licence_change.": {"licence_change.approved", "licence_change.rejected"},
}
# emitted with no merchant: never delivered
_WITHOUT_MERCHANT = {"customer.closed", "marketing.message", "payment.mismatch", "rules.published"}


def _emitted_kinds() -> tuple[set[str], set[str]]:
    """(literal kinds, f-string prefixes) of every event the code in app/ emits."""
    literal: set[str] = set()
    prefixes: set[str] = set()
    app_dir = Path(__file__).resolve().parent.parent / "app"
    for path in app_dir.rglob("*.py"):
        if "webhooks" in path.parts:
            continue
        source = path.read_text(encoding="utf-8")
        if not any(word in source for word in ("emit", "extra_events", "outbox")):
            continue  # none of the shapes below can be in it
        for node in ast.walk(ast.parse(source)):
            roots: list[ast.AST] = []
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in (
                    "emit", "emit_many"):
                roots += [*node.args, *(k.value for k in node.keywords)]
            if isinstance(node, ast.Call):
                roots += [k.value for k in node.keywords if k.arg == "extra_events"]
            if (("emit_many" in source or "outbox" in source) and isinstance(node, ast.Tuple) and len(node.elts) == 3
                    and isinstance(node.elts[0], ast.Constant)):  # (kind, merchant_id, payload) lists
                roots.append(node.elts[0])
            for root in roots:
                for sub in ast.walk(root):
                    if isinstance(sub, ast.Constant) and isinstance(sub.value, str) and _KIND.match(sub.value):
                        literal.add(sub.value)
                    elif isinstance(sub, ast.JoinedStr) and isinstance(sub.values[0], ast.Constant):
                        prefixes.add(str(sub.values[0].value))
    return literal, prefixes


def test_the_event_kinds_are_the_ones_the_code_emits() -> None:
    """Every merchant event kind emitted in app/ can be subscribed to, and nothing else can."""
    literal, prefixes = _emitted_kinds()
    assert {"stock.changed", "stock.oversold", "order.created", "order.paid", "group_buy.joined",
            "seller.over_threshold"} <= literal  # the scan finds emits of every shape
    assert prefixes - set(_DYNAMIC) == set(), "a new f-string event kind: say above what it can be"
    emitted = (literal | set().union(*(_DYNAMIC[p] for p in prefixes))) - _WITHOUT_MERCHANT
    hint = "keep app/webhooks/rules.py EVENT_KINDS in step with the events the code emits"
    assert emitted - rules.EVENT_KINDS == set(), f"emitted but not subscribable; {hint}"
    assert rules.EVENT_KINDS - emitted == set(), f"subscribable but never emitted; {hint}"


# ---- the API -----------------------------------------------------------------------------------------------

async def test_registration_validates_and_shows_the_secret_once(client: httpx.AsyncClient, receiver: Receiver):
    m = await f.merchant(client)
    url = receiver.url("/hook")
    for body, field in (({"url": url, "events": ["stock.changed", "stock.teleported"]}, "events.1"),
                        ({"url": "ftp://example.com/hook", "events": ["*"]}, "url"),
                        ({"url": "not a url", "events": ["*"]}, "url"),
                        ({"url": url, "events": []}, "events"),
                        ({"url": url}, "events"),
                        ({"url": url, "events": ["*"], "secret": "mine"}, "secret")):
        r = await client.post("/v1/webhooks", headers=m.headers, json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    assert "stock.teleported" in (await client.post("/v1/webhooks", headers=m.headers, json={
        "url": url, "events": ["stock.teleported"]})).json()["errors"][0]["message"]
    assert (await client.post("/v1/webhooks", json={"url": url, "events": ["*"]})).status_code == 401
    customer = await f.customer(client)
    assert (await client.post("/v1/webhooks", headers=customer, json={"url": url, "events": ["*"]})).status_code == 403

    created = await register(client, m, url, ["stock.changed", "order.created", "stock.changed"])
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert created["events"] == ["stock.changed", "order.created"] and created["status"] == "active"
    assert created["url"] == url and created["created_at"].endswith("Z") and created["id"].startswith("whe_")
    listed = (await client.get("/v1/webhooks", headers=m.headers)).json()
    assert [w["id"] for w in listed["items"]] == [created["id"]] and listed["next_cursor"] is None
    assert "secret" not in listed["items"][0]
    one = await client.get(f"/v1/webhooks/{created['id']}", headers=m.headers)
    assert one.status_code == 200 and "secret" not in one.json()
    assert created["secret"] not in (await client.get("/v1/webhooks", headers=m.headers)).text
    assert (await client.get(f"/v1/webhooks/{created['id']}/deliveries", headers=m.headers,
                             params={"cursor": "!!"})).status_code == 422


async def test_a_merchant_sees_and_hears_only_its_own(client: httpx.AsyncClient, app, receiver: Receiver):
    a = await f.shop(client, on_hand=5)
    b = await f.shop(client, on_hand=5)
    hook_a = await register(client, a.m, receiver.url("/a"), ["*"])
    hook_b = await register(client, b.m, receiver.url("/b"), ["*"])
    assert [w["id"] for w in (await client.get("/v1/webhooks", headers=b.m.headers)).json()["items"]] == [
        hook_b["id"]]
    for method, path in (("GET", f"/v1/webhooks/{hook_a['id']}"), ("DELETE", f"/v1/webhooks/{hook_a['id']}"),
                         ("GET", f"/v1/webhooks/{hook_a['id']}/deliveries"), ("GET", "/v1/webhooks/whe_nope")):
        r = await client.request(method, path, headers=b.m.headers)
        assert r.status_code == 404 and r.json()["status"] == 404, (method, path, r.text)
    await f.stock(client, a.m, a.warehouse, a.sku, 9)
    await dispatch(app)
    assert [r.json["merchant_id"] for r in receiver.at("/a")] == [a.m.id]
    assert receiver.at("/b") == []
    assert (await client.get(f"/v1/webhooks/{hook_a['id']}", headers=a.m.headers)).json()["status"] == "active"


async def test_stock_changes_and_checkouts_are_delivered_signed(client: httpx.AsyncClient, app, receiver: Receiver):
    s = await f.shop(client, on_hand=10, price=5_000)  # events before the endpoint existed are not sent
    hook = await register(client, s.m, receiver.url("/erp"), ["stock.changed", "order.created"])
    await f.stock(client, s.m, s.warehouse, s.sku, 12)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 3)]))
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    await client.patch(f"/v1/products/{s.product['id']}", headers=s.m.headers,
                       json={"title": "新标题 new title"})  # product.updated: not subscribed
    assert await dispatch(app) == 3
    got = [assert_signed(req, hook["secret"]) for req in receiver.at("/erp")]
    assert sorted(b["type"] for b in got) == ["order.created", "stock.changed", "stock.changed"]
    assert {b["merchant_id"] for b in got} == {s.m.id} and len({b["id"] for b in got}) == 3
    count, reserve = sorted((b for b in got if b["type"] == "stock.changed"), key=lambda b: b["data"]["kind"])
    assert count["data"] == {"location_id": s.warehouse["id"], "variant_id": s.variant_id, "kind": "count",
                             "on_hand_delta": 2, "reserved_delta": 0}
    assert reserve["data"] == {"location_id": s.warehouse["id"], "variant_id": s.variant_id, "kind": "reserve",
                               "on_hand_delta": 0, "reserved_delta": 3}
    [created] = [b for b in got if b["type"] == "order.created"]
    assert stream.seq_of(reserve["id"]) < stream.seq_of(created["id"])  # the take's change, then the order
    assert created["data"]["order_id"] == order["id"] and created["data"]["total"] == order["total"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", created["created_at"])
    log = await deliveries(client, s.m, hook["id"])
    assert [(d["status"], d["attempts"], d["last_status_code"]) for d in log] == [("delivered", 1, 200)] * 3
    assert {d["event_id"] for d in log} == {b["id"] for b in got}
    assert all(d["delivered_at"] and d["next_attempt_at"] is None for d in log)
    # Paging through the log.
    first = (await client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=s.m.headers,
                              params={"limit": 2})).json()
    rest = (await client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=s.m.headers,
                             params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [d["event_id"] for d in first["items"] + rest["items"]] == [d["event_id"] for d in log]
    assert rest["next_cursor"] is None
    # Nothing is sent twice.
    assert await dispatch(app) == 0 and len(receiver.at("/erp")) == 3


async def test_every_kind_of_stock_change_is_delivered(client: httpx.AsyncClient, app, receiver: Receiver):
    """Counts, reservations, releases, fulfilment, restocks and store sales all reach the merchant."""
    s = await f.shop(client, on_hand=10, store_on_hand=5, price=6_000)
    hook = await register(client, s.m, receiver.url("/stock"), ["stock.changed"])
    shopper = await f.customer(client)
    await f.stock(client, s.m, s.warehouse, s.sku, 20)  # count
    kept = (await client.post("/v1/checkout", headers=shopper, json=f.checkout_body(
        [(s.variant_id, 3)], email=None))).json()["orders"][0]  # reserve
    assert (await client.post(f"/v1/orders/{kept['id']}/shipments", headers=s.m.headers,
                              json={"carrier": "SF", "tracking_no": "SF1234567890123"})).status_code == 201  # fulfil
    assert (await client.post(f"/v1/orders/{kept['id']}/deliver", headers=s.m.headers)).status_code == 200
    returned = await client.post(f"/v1/orders/{kept['id']}/returns", headers=shopper,
                                 json={"lines": [{"variant_id": s.variant_id, "quantity": 1}]})  # restock
    assert returned.status_code == 201, returned.text
    # The returned unit sells again only under a condition label (C35).
    assert (await client.patch(f"/v1/products/{s.product['id']}", headers=s.m.headers, json={
        "variants": [{"sku": s.sku, "condition_label": "二次销售"}]})).status_code == 200
    dropped = (await client.post("/v1/checkout", headers=shopper, json=f.checkout_body(
        [(s.variant_id, 1)], email=None))).json()["orders"][0]
    assert (await client.post(f"/v1/orders/{dropped['id']}/cancel", headers=shopper)).status_code == 200  # release
    till = await f.device(client, s.m, s.store)
    sale = f.pos_event("sale-1", "sale", s.sku, 2, (clock.utcnow() + timedelta(seconds=1)).isoformat())
    assert (await client.post("/v1/pos/events", headers=till, json={"events": [sale]})).status_code == 200
    await dispatch(app)
    got = [assert_signed(req, hook["secret"]) for req in receiver.at("/stock")]
    assert {b["type"] for b in got} == {"stock.changed"}
    online = sorted(b["data"]["kind"] for b in got if b["data"].get("source") != "pos")
    assert online == ["count", "fulfil", "release", "reserve", "reserve", "restock"]
    [store] = [b["data"] for b in got if b["data"].get("source") == "pos"]
    assert store["location_id"] == s.store["id"] and store["on_hand"] == 3
    # One shape for every stock.changed: the till's change carries its kind and deltas too.
    assert store["kind"] == "pos" and store["on_hand_delta"] == -2 and store["reserved_delta"] == 0


async def test_a_failing_receiver_is_retried_with_backoff(client: httpx.AsyncClient, app, receiver: Receiver):
    s = await f.shop(client, on_hand=10)
    hook = await register(client, s.m, receiver.url("/flaky"), ["stock.changed"])
    receiver.status["/flaky"] = 500
    await f.stock(client, s.m, s.warehouse, s.sku, 4)
    assert await dispatch(app) == 1
    [d] = await deliveries(client, s.m, hook["id"])
    assert (d["status"], d["attempts"], d["last_status_code"], d["delivered_at"]) == ("pending", 1, 500, None)
    due = datetime.fromisoformat(d["next_attempt_at"])
    assert timedelta(seconds=29) < due - clock.utcnow() <= timedelta(seconds=30)
    assert await dispatch(app) == 0  # not due yet
    clock.travel(timedelta(seconds=31))
    assert await dispatch(app) == 1
    [d] = await deliveries(client, s.m, hook["id"])
    assert (d["status"], d["attempts"], d["last_status_code"]) == ("pending", 2, 500)
    assert timedelta(seconds=59) < datetime.fromisoformat(d["next_attempt_at"]) - clock.utcnow() <= timedelta(
        seconds=60)
    clock.travel(timedelta(seconds=45))
    assert await dispatch(app) == 0  # the second wait is longer
    receiver.status["/flaky"] = 204
    clock.travel(timedelta(seconds=16))
    assert await dispatch(app) == 1
    [d] = await deliveries(client, s.m, hook["id"])
    assert (d["status"], d["attempts"], d["last_status_code"], d["next_attempt_at"]) == ("delivered", 3, 204, None)
    tries = receiver.at("/flaky")
    assert len(tries) == 3 and len({t.json["id"] for t in tries}) == 1  # the same event each time
    assert tries[0].body == tries[2].body
    assert tries[0].headers["Liutong-Signature"] != tries[2].headers["Liutong-Signature"]  # signed when sent
    assert_signed(tries[2], hook["secret"])
    clock.travel(timedelta(hours=2))
    assert await dispatch(app) == 0


async def test_an_unreachable_receiver_is_given_up_after_the_last_attempt(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10)
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    hook = await register(client, s.m, f"http://127.0.0.1:{port}/gone", ["*"])
    await f.stock(client, s.m, s.warehouse, s.sku, 4)
    for attempt in range(1, rules.MAX_ATTEMPTS + 1):
        assert await dispatch(app) == 1, attempt
        [d] = await deliveries(client, s.m, hook["id"])
        assert d["attempts"] == attempt and d["last_status_code"] is None and "Connect" in d["last_error"]
        clock.travel(rules.retry_delay(attempt) + timedelta(seconds=1))
    assert (d["status"], d["next_attempt_at"]) == ("failed", None)
    clock.travel(timedelta(days=1))
    assert await dispatch(app) == 0


async def test_a_disabled_endpoint_gets_nothing(client: httpx.AsyncClient, app, receiver: Receiver):
    s = await f.shop(client, on_hand=10)
    keep = await register(client, s.m, receiver.url("/keep"), ["*"])
    drop = await register(client, s.m, receiver.url("/drop"), ["*"])
    late = await register(client, s.m, receiver.url("/late"), ["*"])
    r = await client.delete(f"/v1/webhooks/{drop['id']}", headers=s.m.headers)
    assert r.status_code == 200 and r.json()["status"] == "disabled" and r.json()["disabled_at"]
    assert (await client.delete(f"/v1/webhooks/{drop['id']}", headers=s.m.headers)).status_code == 200
    await f.stock(client, s.m, s.warehouse, s.sku, 3)
    await dispatch(app)
    assert len(receiver.at("/keep")) == 1 and len(receiver.at("/late")) == 1 and receiver.at("/drop") == []
    assert await deliveries(client, s.m, drop["id"]) == []
    # Disabled after its deliveries were queued, before they were sent: they are cancelled, not sent.
    await f.stock(client, s.m, s.warehouse, s.sku, 2)
    assert await webhooks_service.fan_out(app.state.sessionmaker) == 2
    assert (await client.delete(f"/v1/webhooks/{keep['id']}", headers=s.m.headers)).status_code == 200
    # A delete that commits while the fan-out still saw the endpoint active: the sender skips it too.
    async with app.state.sessionmaker() as session:
        await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == late["id"])
                              .values(status="disabled"))
        await session.commit()
    await f.stock(client, s.m, s.warehouse, s.sku, 1)
    assert await dispatch(app) == 0
    assert len(receiver.at("/keep")) == 1 and len(receiver.at("/late")) == 1
    for hook in (keep, late):
        log = await deliveries(client, s.m, hook["id"])
        assert [(d["status"], d["attempts"]) for d in log] == [("cancelled", 0), ("delivered", 1)]
    statuses = [w["status"] for w in (await client.get("/v1/webhooks", headers=s.m.headers)).json()["items"]]
    assert statuses == ["disabled", "disabled", "disabled"]


async def test_each_event_is_delivered_once_with_concurrent_dispatchers(client: httpx.AsyncClient, app, db_url,
                                                                       receiver: Receiver):
    s = await f.shop(client, on_hand=100)
    since = await max_event_seq(app)
    hook = await register(client, s.m, receiver.url("/once"), ["*"])
    for n in range(12):
        await f.stock(client, s.m, s.warehouse, s.sku, 200 + n)
    for _ in range(4):
        assert (await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]))).status_code == 201
    engine = make_engine(db_url, pool_size=4)
    other = make_sessionmaker(engine)  # a second server process, in effect
    try:
        settings = app.state.settings
        runs = await asyncio.gather(*(webhooks_service.deliver_webhooks(factory, settings)
                                      for factory in (app.state.sessionmaker, other, app.state.sessionmaker, other)))
        runs.append(await dispatch(app))
    finally:
        await engine.dispose()
    async with app.state.sessionmaker() as session:
        expected = {f"evt_{seq}" for seq in (await session.scalars(
            select(OutboxEvent.seq).where(OutboxEvent.merchant_id == s.m.id, OutboxEvent.seq > since))).all()}
        rows = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    ids = [r.json["id"] for r in receiver.at("/once")]
    assert len(expected) == 12 + 4 * 2  # a count each, and per order its reservation and order.created
    assert sorted(ids) == sorted(expected), "every event exactly once"
    assert sum(runs) == len(ids) == rows
    assert all(d["status"] == "delivered" and d["attempts"] == 1 for d in await deliveries(client, s.m, hook["id"]))


def test_only_public_internet_addresses_count_as_public() -> None:
    import ipaddress

    from app.webhooks.destinations import is_public
    for text in ("127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "0.0.0.0", "::1",
                 "fc00::1", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1", "100.64.0.1"):
        assert not is_public(ipaddress.ip_address(text)), text
    for text in ("8.8.8.8", "203.0.114.10", "2001:4860:4860::8888"):
        assert is_public(ipaddress.ip_address(text)), text


async def test_private_destinations_are_refused_unless_the_operator_allows_them(db_url: str, receiver: Receiver):
    """Without SHOP_WEBHOOK_ALLOW_PRIVATE a merchant cannot aim the platform at loopback or internal hosts:
    refused at registration, and an endpoint that gets there anyway is never sent a request."""
    from app.main import create_app
    from tests.conftest import make_settings
    application = create_app(make_settings(db_url, shop_webhook_allow_private=False))
    transport = httpx.ASGITransport(app=application)
    async with application.router.lifespan_context(application), \
            httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        m = await f.merchant(c)
        for url in (receiver.url("/hook"), "http://10.0.0.7/hook", "http://[::1]:8080/hook",
                    "http://169.254.169.254/latest/meta-data", "http://localhost:9/hook"):
            r = await c.post("/v1/webhooks", headers=m.headers, json={"url": url, "events": ["*"]})
            assert r.status_code == 422, (url, r.text)
            assert [e["field"] for e in r.json()["errors"]] == ["url"], r.json()
        # A name that does not resolve yet may be registered (the merchant's DNS may follow) ...
        ok = await c.post("/v1/webhooks", headers=m.headers, json={"url": "https://erp.invalid/hook",
                                                                     "events": ["stock.changed"]})
        assert ok.status_code == 201, ok.text
        # ... and one that resolves to loopback by the time it is used is refused at every attempt, never sent.
        s = await f.shop(c, on_hand=3)
        other = await c.post("/v1/webhooks", headers=s.m.headers, json={"url": "https://erp.invalid/x",
                                                                          "events": ["stock.changed"]})
        async with application.state.sessionmaker() as session:
            await session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == other.json()["id"])
                                  .values(url=receiver.url("/sneaky")))
            await session.commit()
        r = await c.put(f"/v1/locations/{s.warehouse['id']}/stock/{s.sku}", headers=s.m.headers,
                        json={"on_hand": 5})
        assert r.status_code == 200
        assert await webhooks_service.deliver_webhooks(application.state.sessionmaker,
                                                       application.state.settings) >= 1
        assert receiver.at("/sneaky") == []
        [attempt] = (await c.get(f"/v1/webhooks/{other.json()['id']}/deliveries", headers=s.m.headers)
                     ).json()["items"]
        assert attempt["status"] == "pending" and "destination refused" in attempt["last_error"], attempt


def test_cli_deliver_webhooks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        assert runner.invoke(cli, ["migrate"]).exit_code == 0
        out = runner.invoke(cli, ["deliver-webhooks"])
        assert out.exit_code == 0, out.output
        assert "made 0 webhook delivery attempts" in out.output
    finally:
        get_settings.cache_clear()
