"""Flash sales: every unit sold exactly once, per-buyer limits that hold under a rush, units that go back on sale,
with and without the Redis gate, and through a Redis restart."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from app.core import clock
from app.core.auth import create_signed_token, revoke_tokens
from app.core.clock import utcnow
from app.core.ids import new_id
from app.core.security import hash_password
from app.main import create_app
from app.orders.cancellation import expire_holds
from app.orders.models import Order
from app.retail.flash import service as flash_service
from app.retail.flash.models import FlashOrder
from app.retail.models import Customer
from tests import factories as f
from tests.conftest import make_settings

# ---- helpers ---------------------------------------------------------------------------------------------


async def _sale(client: httpx.AsyncClient, s: f.Shop, *, quantity: int = 100, limit: int = 1, price: int = 990,
                starts_in: timedelta = timedelta(seconds=-1), lasts: timedelta = timedelta(hours=1)) -> str:
    starts = utcnow() + starts_in
    r = await client.post("/v1/flash-sales", headers=s.m.headers, json={
        "variant_id": s.variant_id, "price": price, "quantity": quantity, "per_buyer_limit": limit,
        "starts_at": starts.isoformat(), "ends_at": (starts + lasts).isoformat()})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def _buyers(app: Any, n: int) -> list[dict[str, str]]:
    """`n` signed-in customers, made in the database with tokens signed as the app signs them (hashing 300
    passwords through the API would take most of the test's time and prove nothing about flash sales)."""
    pw = hash_password("s3cret-pass")
    ids = [new_id("cus") for _ in range(n)]
    async with app.state.sessionmaker() as session:
        session.add_all([Customer(id=i, email=f"{i}@example.com", password_hash=pw, name="买家") for i in ids])
        await session.flush()
        tokens = [await create_signed_token(session, kind="customer", subject_id=i, secret=app.state.secret_key,
                                            minutes=60) for i in ids]
        await session.commit()
    return [f.bearer(t) for t in tokens]


def _order_body(**over: Any) -> dict[str, Any]:
    return {"quantity": 1, "fulfilment": f.delivery(), "payment_method": "cod", **over}


async def _buy(client: httpx.AsyncClient, sale_id: str, headers: dict[str, str], **over: Any) -> httpx.Response:
    return await client.post(f"/v1/flash-sales/{sale_id}/orders", json=_order_body(**over),
                             headers={**headers, "Idempotency-Key": secrets.token_hex(8)})


async def _sold(app: Any, sale_id: str) -> Counter[str]:
    """Units per buyer in orders of the sale that are not cancelled."""
    async with app.state.sessionmaker() as session:
        rows = (await session.execute(
            select(Order.customer_id, func.sum(FlashOrder.quantity)).join(FlashOrder, FlashOrder.order_id == Order.id)
            .where(FlashOrder.sale_id == sale_id, Order.status != "cancelled").group_by(Order.customer_id))).all()
    return Counter({c: int(n) for c, n in rows})


async def _rush(client: httpx.AsyncClient, sale_id: str, buyers: list[dict[str, str]], per_buyer: int
                ) -> Counter[int]:
    """Every buyer sends `per_buyer` orders at once; the status codes answered."""
    answers = await asyncio.gather(*(_buy(client, sale_id, b) for b in buyers for _ in range(per_buyer)))
    for r in answers:
        if r.status_code == 409:
            assert r.json()["code"] in ("sold_out", "limit_reached"), r.text
    return Counter(r.status_code for r in answers)


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=60)


async def _consistent(app: Any) -> None:
    assert await f.levels(app) == await f.ledger(app)


# ---- the sale and its stock ------------------------------------------------------------------------------


async def test_a_sale_holds_its_units_and_shows_what_is_left(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=105, price=19_900)
    sale_id = await _sale(client, s, quantity=100, price=9_900)
    wh = (s.warehouse["id"], s.variant_id)
    assert (await f.levels(app))[wh] == (105, 100)
    shown = (await client.get(f"/v1/flash-sales/{sale_id}")).json()
    assert (shown["status"], shown["remaining"], shown["remaining_text"]) == ("live", 100, "还剩 100 件")
    assert (shown["price"], shown["list_price"], shown["starts_in_seconds"]) == (9_900, 19_900, 0)
    assert 3_590 <= shown["ends_in_seconds"] <= 3_600
    # The held units are not for sale to anyone else: five are.
    over = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 6)]))
    assert over.status_code == 409, over.text
    assert (await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 5)]))).status_code == 201
    # More than is free cannot be put on sale; nothing is held then.
    more = await client.post("/v1/flash-sales", headers=s.m.headers, json={
        "variant_id": s.variant_id, "price": 100, "quantity": 1, "per_buyer_limit": 1,
        "starts_at": utcnow().isoformat(), "ends_at": (utcnow() + timedelta(hours=1)).isoformat()})
    assert more.status_code == 409 and more.json()["field"] == "quantity" and more.json()["available"] == 0
    assert (await f.levels(app))[wh] == (105, 105)
    await _consistent(app)


async def test_bad_sales_are_refused_naming_the_field(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10, price=1_000)
    other = await f.shop(client, on_hand=10)
    now = utcnow()
    base = {"variant_id": s.variant_id, "price": 500, "quantity": 5, "per_buyer_limit": 1,
            "starts_at": now.isoformat(), "ends_at": (now + timedelta(hours=1)).isoformat()}
    cases = [({"variant_id": other.variant_id}, "variant_id"), ({"price": 1_001}, "price"),
             ({"per_buyer_limit": 6}, "per_buyer_limit"), ({"ends_at": (now - timedelta(minutes=1)).isoformat(),
                                                           "starts_at": (now - timedelta(hours=1)).isoformat()},
                                                          "ends_at"),
             ({"ends_at": (now - timedelta(hours=2)).isoformat()}, "ends_at"), ({"quantity": 0}, "quantity"),
             ({"campaign_id": "no-such-campaign"}, "campaign_id")]
    for change, field in cases:
        r = await client.post("/v1/flash-sales", headers=s.m.headers, json={**base, **change})
        assert r.status_code == 422, (change, r.text)
        assert r.json()["errors"][0]["field"] == field, (change, r.text)
    customer = await f.customer(client)
    assert (await client.post("/v1/flash-sales", headers=customer, json=base)).status_code == 403
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (10, 0)


async def test_each_refusal_names_its_reason_and_changes_nothing(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10)
    sale_id = await _sale(client, s, quantity=2, limit=1, starts_in=timedelta(minutes=10))
    [a, b, c] = await _buyers(app, 3)
    early = await _buy(client, sale_id, a)
    assert early.status_code == 409 and early.json()["code"] == "not_started", early.text
    clock.travel(timedelta(minutes=11))
    first = await _buy(client, sale_id, a)
    assert first.status_code == 201, first.text
    assert first.json()["lines"][0]["unit_price"] == 990 and first.json()["flash_sale_id"] == sale_id
    again = await _buy(client, sale_id, a)
    assert again.status_code == 409 and again.json()["code"] == "limit_reached"
    assert (await _buy(client, sale_id, b)).status_code == 201
    gone = await _buy(client, sale_id, c)
    assert gone.status_code == 409 and gone.json()["code"] == "sold_out"
    assert (await client.get(f"/v1/flash-sales/{sale_id}")).json()["remaining_text"] == "已抢光"
    clock.travel(timedelta(hours=2))
    late = await _buy(client, sale_id, c)
    assert late.status_code == 409 and late.json()["code"] == "ended"
    assert await _sold(app, sale_id) == Counter({o: 1 for o in await _customer_ids(app, [a, b])})
    await _consistent(app)


async def test_an_order_is_the_buyers_and_a_bad_key_is_refused_naming_it(client: httpx.AsyncClient, app):
    """The order carries the buyer's email, read in its transaction; the route reads its parameters itself, with
    FastAPI's checks and problems."""
    s = await f.shop(client, on_hand=5)
    sale_id = await _sale(client, s, quantity=2, limit=1)
    [a] = await _buyers(app, 1)
    [a_id] = await _customer_ids(app, [a])
    long_key = await client.post(f"/v1/flash-sales/{sale_id}/orders", json=_order_body(),
                                 headers={**a, "Idempotency-Key": "k" * 256})
    assert long_key.status_code == 422, long_key.text
    assert [e["field"] for e in long_key.json()["errors"]] == ["Idempotency-Key"]
    assert await _sold(app, sale_id) == Counter()
    bought = await _buy(client, sale_id, a)
    assert bought.status_code == 201, bought.text
    async with app.state.sessionmaker() as session:
        order = await session.get(Order, bought.json()["id"])
        assert order is not None and order.email == f"{a_id}@example.com" and order.customer_id == a_id
    await _consistent(app)


def _recorded_rehearsals(monkeypatch: Any) -> list[tuple[str, bool]]:
    """(sale, whether it ran through) of each rehearsal from now on."""
    ran: list[tuple[str, bool]] = []
    rehearse = flash_service.rehearse

    async def recorded(factory: Any, card: Any) -> bool:
        ran.append((card.id, await rehearse(factory, card)))
        return ran[-1][1]

    monkeypatch.setattr(flash_service, "rehearse", recorded)
    return ran


async def test_a_countdown_read_in_the_last_minute_rehearses_the_winners_transaction(
        client: httpx.AsyncClient, app: Any, pg_only: None, monkeypatch: Any):
    """Shoppers watching the countdown (the page asks `GET /v1/flash-sales/{id}`) are about to rush the sale:
    in its last minute their read starts the rehearsal; earlier it does not."""
    s = await f.shop(client, on_hand=5)
    later = await _sale(client, s, quantity=1, limit=1, starts_in=timedelta(minutes=10))
    soon = await _sale(client, s, quantity=1, limit=1, starts_in=timedelta(seconds=30))
    ran = _recorded_rehearsals(monkeypatch)
    for sale_id in (later, soon, soon):
        shown = await client.get(f"/v1/flash-sales/{sale_id}")
        assert shown.status_code == 200 and shown.json()["status"] == "scheduled", shown.text
    await asyncio.gather(*flash_service._REHEARSALS)
    assert ran == [(soon, True)]


async def test_an_attempt_before_the_opening_rehearses_the_winners_transaction_once_and_keeps_nothing(
        client: httpx.AsyncClient, app: Any, pg_only: None, monkeypatch: Any):
    s = await f.shop(client, on_hand=5)
    sale_id = await _sale(client, s, quantity=3, limit=1, starts_in=timedelta(seconds=30))
    [a, b] = await _buyers(app, 2)
    ran = _recorded_rehearsals(monkeypatch)
    for buyer in (a, b):
        early = await _buy(client, sale_id, buyer)
        assert early.status_code == 409 and early.json()["code"] == "not_started", early.text
    await asyncio.gather(*flash_service._REHEARSALS)
    assert ran == [(sale_id, True)]  # once for the process, and it ran through
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(Order)) == 0
        assert await session.scalar(text("SELECT count(*) FROM idempotency_key WHERE scope = 'rehearsal'")) == 0
    clock.travel(timedelta(seconds=31))
    assert (await _buy(client, sale_id, a)).status_code == 201
    await _consistent(app)


async def test_attempts_arriving_at_once_read_the_sales_card_once(client: httpx.AsyncClient, app: Any,
                                                                  monkeypatch: Any):
    """A rush's first attempts in a process wait for one read of the sale's terms instead of each reading them;
    when they are due again, one attempt reads them while the others go on with the card it replaces."""
    s = await f.shop(client, on_hand=5)
    sale_id = await _sale(client, s, quantity=3, limit=1, starts_in=timedelta(minutes=10))
    buyers = await _buyers(app, 12)
    reads: list[str] = []
    read_card = flash_service._read_card

    async def counted(session: Any, sid: str) -> Any:
        reads.append(sid)
        await asyncio.sleep(0.2)  # a read that takes a while, as under a rush
        return await read_card(session, sid)

    monkeypatch.setattr(flash_service, "_read_card", counted)
    flash_service._CARDS.pop(sale_id, None)
    early = await asyncio.gather(*(_buy(client, sale_id, b) for b in buyers))
    assert {r.status_code for r in early} == {409} and {r.json()["code"] for r in early} == {"not_started"}
    assert reads == [sale_id]
    monkeypatch.setattr(flash_service, "CARD_SECONDS", 0.0)  # due again: one reads, the rest use the old card
    again = await asyncio.gather(*(_buy(client, sale_id, b) for b in buyers))
    assert {r.json()["code"] for r in again} == {"not_started"} and reads == [sale_id, sale_id]


async def _customer_ids(app: Any, headers: list[dict[str, str]]) -> list[str]:
    from app.core.security import read_access_token

    return [str(read_access_token(secret=app.state.secret_key, token=h["Authorization"].split()[1])["sub"])
            for h in headers]


async def test_a_retry_gets_the_first_answer(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10)
    sale_id = await _sale(client, s, quantity=5, limit=1)
    [buyer] = await _buyers(app, 1)
    headers = {**buyer, "Idempotency-Key": "flash-1"}
    first = await client.post(f"/v1/flash-sales/{sale_id}/orders", json=_order_body(), headers=headers)
    again = await client.post(f"/v1/flash-sales/{sale_id}/orders", json=_order_body(), headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert sum((await _sold(app, sale_id)).values()) == 1


# ---- the rush --------------------------------------------------------------------------------------------


async def test_300_buyers_twice_each_for_100_units(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=120)
    sale_id = await _sale(client, s, quantity=100, limit=1)
    buyers = await _buyers(app, 300)
    codes = await _rush(client, sale_id, buyers, per_buyer=2)
    assert codes[201] == 100 and not any(code >= 500 for code in codes), codes
    sold = await _sold(app, sale_id)
    assert sum(sold.values()) == 100 and max(sold.values()) == 1
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (120, 100)
    await _consistent(app)


async def test_unpaid_units_go_back_on_sale_and_sell_again(client: httpx.AsyncClient, app, fake_stripe):
    s = await f.shop(client, on_hand=3)
    sale_id = await _sale(client, s, quantity=1, limit=1)
    [a, b] = await _buyers(app, 2)
    unpaid = await _buy(client, sale_id, a, payment_method="stripe")
    assert unpaid.status_code == 201 and unpaid.json()["status"] == "pending_payment", unpaid.text
    assert (await _buy(client, sale_id, b)).json()["code"] == "sold_out"
    clock.travel(timedelta(minutes=6))  # past the flash hold (5 minutes), well inside the normal one (30)
    assert await expire_holds(app.state.sessionmaker, app.state.settings) == 1
    assert (await client.get(f"/v1/flash-sales/{sale_id}")).json()["remaining"] == 1
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (3, 1)
    resold = await _buy(client, sale_id, b)
    assert resold.status_code == 201, resold.text
    assert await _sold(app, sale_id) == Counter({(await _customer_ids(app, [b]))[0]: 1})
    await _consistent(app)


async def test_the_end_gives_the_hold_back(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10)
    sale_id = await _sale(client, s, quantity=6, limit=2, lasts=timedelta(minutes=30))
    [buyer] = await _buyers(app, 1)
    assert (await _buy(client, sale_id, buyer, quantity=2)).status_code == 201
    clock.travel(timedelta(minutes=31))
    assert await flash_service.end_due_sales(app.state.sessionmaker, app.state.settings) == 1
    assert await flash_service.end_due_sales(app.state.sessionmaker, app.state.settings) == 0
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (10, 2)
    stats = (await client.get(f"/v1/flash-sales/{sale_id}/stats", headers=s.m.headers)).json()
    assert (stats["status"], stats["taken"], stats["paid"], stats["returned"]) == ("ended", 2, 2, 4)
    await _consistent(app)


async def test_hammering_gets_a_429_not_an_edge(db_url: str, app: Any, tmp_path: Path):
    limited = create_app(make_settings(db_url, shop_flash_customer_per_second=2,
                                       shop_media_root=str(tmp_path / "m")))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://testserver") as client:
        s = await f.shop(client, on_hand=10)
        sale_id = await _sale(client, s, quantity=5, limit=1, starts_in=timedelta(hours=1))
        [bot] = await _buyers(limited, 1)
        answers = [await _buy(client, sale_id, bot) for _ in range(6)]
        assert {r.status_code for r in answers[:2]} == {409}  # not started yet
        hammered = [r for r in answers if r.status_code == 429]
        assert hammered and hammered[0].headers["Retry-After"] == "1", [r.status_code for r in answers]
    await limited.state.engine.dispose()


# ---- with Redis ------------------------------------------------------------------------------------------


class _Redis:
    """A Redis server of the test's own, so that it can be stopped and started mid-sale."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is needed"
        self.proc = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture
def own_redis() -> Iterator[_Redis]:
    if shutil.which("redis-server") is None:
        import os

        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is required under CI=true")
        pytest.skip("redis-server not installed")
    server = _Redis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def gated(db_url: str, app: Any, own_redis: _Redis, tmp_path: Path) -> Any:
    """The app as `app`, with the flash-sale gate (and the rate counters) in the test's own Redis."""
    application = create_app(make_settings(db_url, redis_url=own_redis.url, shop_media_root=str(tmp_path / "m")))
    yield application
    await application.state.engine.dispose()


async def test_with_redis_a_new_sale_has_its_counters_before_its_first_attempt(gated: Any, own_redis: _Redis):
    """The gate is set up when the sale is made: the opening second's first attempts need no rebuild."""
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=5)
        sale_id = await _sale(client, s, quantity=3, limit=1, starts_in=timedelta(minutes=5))
        assert await gated.state.flash_gate.counters(sale_id) == (3, {})


async def test_with_redis_300_buyers_twice_each_for_100_units(gated: Any, own_redis: _Redis):
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=100)
        sale_id = await _sale(client, s, quantity=100, limit=1)
        buyers = await _buyers(gated, 300)
        codes = await _rush(client, sale_id, buyers, per_buyer=2)
        assert codes[201] == 100 and not any(code >= 500 for code in codes), codes
        assert codes[429] + codes[409] == 500
        sold = await _sold(gated, sale_id)
        assert sum(sold.values()) == 100 and max(sold.values()) == 1
        # The gate agrees with the database: the reconciliation job finds nothing to repair.
        assert await flash_service.reconcile(gated.state.sessionmaker, gated.state.settings) == 0
        await _consistent(gated)


async def test_with_redis_restarted_mid_sale_nothing_is_oversold_or_lost(gated: Any, own_redis: _Redis):
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=60)
        sale_id = await _sale(client, s, quantity=60, limit=1)
        buyers = await _buyers(gated, 150)
        first = await _rush(client, sale_id, buyers[:40], per_buyer=1)
        assert first[201] == 40, first
        own_redis.stop()  # its counters are gone with it: no persistence, as a cache is usually run
        during = await _rush(client, sale_id, buyers[40:50], per_buyer=1)  # the database decides alone
        assert during[201] == 10 and not any(code >= 500 for code in during), during
        own_redis.start()
        after = await _rush(client, sale_id, [*buyers[:50], *buyers[50:]], per_buyer=1)  # rebuilt from orders
        assert after[201] == 10 and not any(code >= 500 for code in after), after
        sold = await _sold(gated, sale_id)
        assert sum(sold.values()) == 60 and max(sold.values()) == 1
        await _consistent(gated)


async def test_with_redis_a_unit_given_back_sells_again(gated: Any, own_redis: _Redis):
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=1)
        sale_id = await _sale(client, s, quantity=1, limit=1)
        [a, b] = await _buyers(gated, 2)
        order = await _buy(client, sale_id, a)
        assert order.status_code == 201
        assert (await _buy(client, sale_id, b)).json()["code"] == "sold_out"
        cancelled = await client.post(f"/v1/orders/{order.json()['id']}/cancel", headers=a, json={"reason": "变卦"})
        assert cancelled.status_code == 200, cancelled.text
        assert await flash_service.reconcile(gated.state.sessionmaker, gated.state.settings) == 1
        assert (await _buy(client, sale_id, b)).status_code == 201
        assert sum((await _sold(gated, sale_id)).values()) == 1
        await _consistent(gated)


async def test_with_redis_a_retry_after_winning_gets_the_first_answer_even_after_a_restart(
        gated: Any, own_redis: _Redis):
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=5)
        sale_id = await _sale(client, s, quantity=5, limit=1)
        [buyer] = await _buyers(gated, 1)
        url, keyed = f"/v1/flash-sales/{sale_id}/orders", {**buyer, "Idempotency-Key": "flash-won"}
        first = await client.post(url, json=_order_body(), headers=keyed)
        assert first.status_code == 201, first.text
        again = await client.post(url, json=_order_body(), headers=keyed)
        assert again.status_code == 201 and again.json() == first.json()
        other = await _buy(client, sale_id, buyer)  # a new attempt, not a retry: the limit answers it
        assert other.status_code == 409 and other.json()["code"] == "limit_reached"
        own_redis.stop()
        own_redis.start()  # the gate's counters are rebuilt from the orders; its record of keys is gone
        after = await client.post(url, json=_order_body(), headers=keyed)
        assert after.status_code == 201 and after.json() == first.json()
        assert (await _buy(client, sale_id, buyer)).json()["code"] == "limit_reached"
        assert sum((await _sold(gated, sale_id)).values()) == 1


async def test_with_redis_a_revoked_token_buys_nothing_and_takes_no_unit(gated: Any, own_redis: _Redis):
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=1)
        sale_id = await _sale(client, s, quantity=1, limit=1)
        [closed, other] = await _buyers(gated, 2)
        [closed_id, other_id] = await _customer_ids(gated, [closed, other])
        async with gated.state.sessionmaker() as session:
            await revoke_tokens(session, subject_id=closed_id)
            await session.commit()
        refused = await _buy(client, sale_id, closed)
        assert refused.status_code == 401, refused.text
        assert (await _buy(client, sale_id, other)).status_code == 201  # the unit the gate let through came back
        assert await _sold(gated, sale_id) == Counter({other_id: 1})
        await _consistent(gated)


async def test_with_redis_hammering_is_counted_by_the_gate_per_buyer_and_per_address(
        db_url: str, app: Any, own_redis: _Redis, tmp_path: Path):
    """With Redis the gate counts a started sale's attempts in its admission (the same round trip): a buyer over
    the limit, or an address sending for many buyers, gets a 429 and nothing more."""
    limited = create_app(make_settings(db_url, redis_url=own_redis.url, shop_flash_customer_per_second=2,
                                       shop_flash_address_per_second=3, shop_media_root=str(tmp_path / "m")))
    try:
        async with _client(limited) as client:
            s = await f.shop(client, on_hand=20)
            sale_id = await _sale(client, s, quantity=10, limit=1)
            [bot, *others] = await _buyers(limited, 4)
            answers = [await _buy(client, sale_id, bot) for _ in range(6)]
            assert answers[0].status_code == 201, answers[0].text
            hammered = [r for r in answers if r.status_code == 429]
            assert hammered and hammered[0].headers["Retry-After"] == "1", [r.status_code for r in answers]
            # one address, several buyers each within their own 2: 8 counted attempts over at most two seconds put
            # one second past the address's 3
            shared = [await _buy(client, sale_id, b) for b in others for _ in range(2)]
            assert any(r.status_code == 429 for r in shared), [r.status_code for r in shared]
            sold = await _sold(limited, sale_id)
            assert sum(sold.values()) <= 4 and max(sold.values()) == 1
            await _consistent(limited)
    finally:
        await limited.state.engine.dispose()


# ---- winners written together ----------------------------------------------------------------------------


@pytest.fixture
def groups(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, str]]:
    """Each placing transaction of the test: how many requests it wrote, and how it ended ("" or the error)."""
    from app.orders.placing import pipeline

    seen: list[tuple[int, str]] = []
    write = pipeline._write

    async def counted(session: Any, jobs: Any, *, attempt: int) -> Any:
        try:
            results = await write(session, jobs, attempt=attempt)
        except Exception as exc:
            seen.append((len(jobs), type(exc).__name__))
            raise
        seen.append((len(jobs), ""))
        return results

    monkeypatch.setattr(pipeline, "_write", counted)
    return seen


async def test_with_redis_winners_written_together_each_get_their_own_order(
        gated: Any, own_redis: _Redis, groups: list[tuple[int, str]]):
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=40)
        sale_id = await _sale(client, s, quantity=40, limit=1)
        buyers = await _buyers(gated, 60)
        ids = await _customer_ids(gated, buyers)
        keys = [secrets.token_hex(8) for _ in buyers]
        url = f"/v1/flash-sales/{sale_id}/orders"
        answers = await asyncio.gather(*(client.post(url, json=_order_body(), headers={**b, "Idempotency-Key": k})
                                         for b, k in zip(buyers, keys, strict=True)))
        codes = Counter(r.status_code for r in answers)
        assert codes == Counter({201: 40, 409: 20}), codes
        if gated.state.engine.dialect.name == "postgresql":  # SQLite's writers take turns: groups seldom form
            assert any(size > 1 and not error for size, error in groups), groups  # some were written together
        for buyer, customer_id, key, r in zip(buyers, ids, keys, answers, strict=True):
            if r.status_code != 201:
                assert r.json()["code"] == "sold_out", r.text
                continue
            order = r.json()
            # Each winner's answer is its own order, and is what a retry with its key gets.
            assert order["customer_id"] == customer_id and order["email"] == f"{customer_id}@example.com"
            assert order["flash_sale_id"] == sale_id and order["total"] == 990 + order["shipping"]
            mine = await client.get(f"/v1/orders/{order['id']}", headers=buyer)
            assert mine.status_code == 200 and mine.json()["customer_id"] == customer_id
            again = await client.post(url, json=_order_body(), headers={**buyer, "Idempotency-Key": key})
            assert again.status_code == 201 and again.json() == order
        sold = await _sold(gated, sale_id)
        assert set(sold) == {c for c, r in zip(ids, answers, strict=True) if r.status_code == 201}
        assert sum(sold.values()) == 40 and max(sold.values()) == 1
        assert await flash_service.reconcile(gated.state.sessionmaker, gated.state.settings) == 0
        await _consistent(gated)


async def test_with_redis_a_group_the_sale_refuses_is_written_one_by_one_and_nothing_is_oversold(
        gated: Any, own_redis: _Redis, groups: list[tuple[int, str]]):
    """The gate believes in more units than the database has (a counter gone wrong): the groups that take more
    than is left fail whole at the sale's check, and each of their requests is then written alone and answered
    for itself."""
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=10)
        sale_id = await _sale(client, s, quantity=10, limit=1)
        buyers = await _buyers(gated, 50)
        await gated.state.flash_gate.load(sale_id=sale_id, remaining=50, bought={}, only_if_missing=False)
        codes = await _rush(client, sale_id, buyers, per_buyer=1)
        assert codes == Counter({201: 10, 409: 40}), codes
        if gated.state.engine.dialect.name == "postgresql":  # SQLite's writers take turns: groups seldom form
            assert any(size > 1 and error for size, error in groups), groups  # a group failed and was undone
        sold = await _sold(gated, sale_id)
        assert sum(sold.values()) == 10 and max(sold.values()) == 1
        await _consistent(gated)
        assert await flash_service.reconcile(gated.state.sessionmaker, gated.state.settings) == 1  # repaired


async def test_with_redis_one_buyer_over_the_limit_in_a_group_costs_the_others_nothing(
        gated: Any, own_redis: _Redis, groups: list[tuple[int, str]]):
    """The gate forgot that one buyer has bought already (a counter gone wrong): that buyer's attempt fails the
    group it was written with at the sale's check; every other buyer of that group still gets the unit."""
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=20)
        sale_id = await _sale(client, s, quantity=20, limit=1)
        buyers = await _buyers(gated, 20)
        first = await _buy(client, sale_id, buyers[0])
        assert first.status_code == 201, first.text
        # Forgotten with the unit it took: the gate lets that buyer through with everyone else.
        await gated.state.flash_gate.load(sale_id=sale_id, remaining=20, bought={}, only_if_missing=False)
        rush = [*buyers[1:10], buyers[0], *buyers[10:]]
        answers = await asyncio.gather(*(_buy(client, sale_id, b) for b in rush))
        again = answers[9]
        assert again.status_code == 409 and again.json()["code"] == "limit_reached", again.text
        assert [(r.status_code, r.json().get("code")) for i, r in enumerate(answers) if i != 9] == [(201, None)] * 19
        if gated.state.engine.dialect.name == "postgresql":  # SQLite's writers take turns: groups seldom form
            assert any(size > 1 and error for size, error in groups), groups  # its group failed and was undone
        sold = await _sold(gated, sale_id)
        assert sum(sold.values()) == 20 and max(sold.values()) == 1
        await _consistent(gated)


async def test_with_redis_a_retry_answered_already_in_a_group_gets_its_answer_and_costs_the_others_nothing(
        gated: Any, own_redis: _Redis, groups: list[tuple[int, str]]):
    """The gate forgot a winner (a counter gone wrong), who sends the same order again with the same key in the
    middle of a rush: the group it is written with finds that key answered and writes nothing, not even the other
    buyers' keys (the group's statement is its own transaction); each is then written alone. The retry gets its
    first answer, every other buyer an order, and no key is kept without its order."""
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=20)
        sale_id = await _sale(client, s, quantity=20, limit=1)
        buyers = await _buyers(gated, 20)
        url, key = f"/v1/flash-sales/{sale_id}/orders", secrets.token_hex(8)
        first = await client.post(url, json=_order_body(), headers={**buyers[0], "Idempotency-Key": key})
        assert first.status_code == 201, first.text
        await gated.state.flash_gate.load(sale_id=sale_id, remaining=20, bought={}, only_if_missing=False)
        rush = [*buyers[1:10], buyers[0], *buyers[10:]]
        answers = await asyncio.gather(*(
            client.post(url, json=_order_body(), headers={**b, "Idempotency-Key": key if i == 9 else str(i)})
            for i, b in enumerate(rush)))
        assert answers[9].status_code == 201 and answers[9].json() == first.json()
        assert [r.status_code for i, r in enumerate(answers) if i != 9] == [201] * 19
        if gated.state.engine.dialect.name == "postgresql":  # SQLite's writers take turns: groups seldom form
            assert any(size > 1 and error for size, error in groups), groups  # its group failed and was undone
        sold = await _sold(gated, sale_id)
        assert sum(sold.values()) == 20 and max(sold.values()) == 1
        async with gated.state.sessionmaker() as session:
            kept = (await session.execute(text(
                "SELECT count(*) FROM idempotency_key WHERE response_body LIKE :sale"), {"sale": f"%{sale_id}%"}
            )).scalar_one()
        assert kept == 20  # one key per order
        await _consistent(gated)


async def test_with_redis_attempts_arriving_together_are_decided_in_one_call_each_for_itself(
        own_redis: _Redis, monkeypatch: pytest.MonkeyPatch):
    from app.retail.flash.admission import RedisGate

    gate = RedisGate(own_redis.url)
    calls: list[int] = []
    decide = gate._decide

    async def counted(sale_id: str, batch: Any, rebuild: Any) -> Any:
        calls.append(len(batch))
        return await decide(sale_id, batch, rebuild)

    monkeypatch.setattr(gate, "_decide", counted)
    try:
        await gate.load(sale_id="fls_t", remaining=10, bought={"cus_0": 1}, only_if_missing=False)
        verdicts = await asyncio.gather(*(
            gate.admit(sale_id="fls_t", customer_id=f"cus_{i % 40}", quantity=1, limit=1, idempotency_key=f"k{i}",
                       attempts=[(f"c:cus_{i % 40}", 1)], second=7) for i in range(80)))
        assert len(calls) < 80 and max(calls) > 1, calls  # together, in fewer calls than attempts
        by = Counter(v.verdict for v in verdicts)
        # In order: cus_0 has its unit; 10 more are sold to the next ten buyers; the rest find none left, and
        # every buyer's second attempt in the same second is over its limit of one a second.
        assert by == Counter({"ok": 10, "sold_out": 29, "limit_reached": 1, "rate_limited": 40}), by
        assert [v.verdict for v in verdicts[:12]] == ["limit_reached", *["ok"] * 10, "sold_out"]
        assert await gate.counters("fls_t") == (0, {"cus_0": 1, **{f"cus_{i}": 1 for i in range(1, 11)}})
        # Redis lost the counters: the first call to find none reads the database's once, for all who wait.
        await gate.forget("fls_t")
        reads: list[int] = []

        async def rebuild() -> tuple[int, dict[str, int]]:
            reads.append(1)
            await asyncio.sleep(0.01)
            return 3, {"cus_0": 1}

        again = await asyncio.gather(*(
            gate.admit(sale_id="fls_t", customer_id="cus_0" if i == 0 else f"new_{i}", quantity=1, limit=1,
                       rebuild=rebuild) for i in range(20)))
        assert len(reads) <= 2, reads
        assert Counter(v.verdict for v in again) == Counter({"ok": 3, "sold_out": 16, "limit_reached": 1})
    finally:
        await gate.close()


async def test_with_redis_winners_answered_together_leave_flight_in_one_call(
        own_redis: _Redis, monkeypatch: pytest.MonkeyPatch):
    """A group of winners is answered when its transaction commits: their `done` calls go together, and each
    buyer is no longer in flight (a next attempt is judged on the limit, not turned away as busy)."""
    from app.retail.flash.admission import RedisGate

    gate = RedisGate(own_redis.url)
    calls: list[int] = []
    clear = gate._not_busy

    async def counted(sale_id: str, customers: Any) -> Any:
        calls.append(len(customers))
        return await clear(sale_id, customers)

    monkeypatch.setattr(gate, "_not_busy", counted)
    try:
        await gate.load(sale_id="fls_d", remaining=30, bought={}, only_if_missing=False)
        first = await asyncio.gather(*(gate.admit(sale_id="fls_d", customer_id=f"cus_{i}", quantity=1, limit=2)
                                       for i in range(20)))
        assert {a.verdict for a in first} == {"ok"}
        busy = await asyncio.gather(*(gate.admit(sale_id="fls_d", customer_id=f"cus_{i}", quantity=1, limit=2)
                                      for i in range(20)))
        assert {a.verdict for a in busy} == {"busy"}  # each still in flight
        await asyncio.gather(*(gate.done(sale_id="fls_d", customer_id=f"cus_{i}") for i in range(20)))
        assert sum(calls) == 20 and len(calls) <= 2, calls
        again = await asyncio.gather(*(gate.admit(sale_id="fls_d", customer_id=f"cus_{i}", quantity=1, limit=2)
                                       for i in range(20)))
        assert Counter(a.verdict for a in again) == Counter({"ok": 10, "sold_out": 10})
    finally:
        await gate.forget("fls_d")
        await gate.close()


async def test_a_product_taken_off_sale_ends_its_flash_sale_for_buyers(gated: Any, own_redis: _Redis):
    async with _client(gated) as client:
        s = await f.shop(client, on_hand=5)
        sale_id = await _sale(client, s, quantity=5, limit=1)
        [a, b] = await _buyers(gated, 2)
        assert (await _buy(client, sale_id, a)).status_code == 201
        drafted = await client.patch(f"/v1/products/{s.product['id']}", headers=s.m.headers,
                                     json={"status": "draft"})
        assert drafted.status_code == 200, drafted.text
        refused = await _buy(client, sale_id, b)
        assert refused.status_code == 409 and refused.json()["code"] == "ended", refused.text
        assert sum((await _sold(gated, sale_id)).values()) == 1
        # The unit the gate let through for the refused attempt went back to it.
        assert await flash_service.reconcile(gated.state.sessionmaker, gated.state.settings) == 0
        await _consistent(gated)
