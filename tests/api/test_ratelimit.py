"""Public endpoints are rate limited per IP and per token, with Retry-After; Redis shares the counts."""

import secrets

import httpx
import pytest
import redis.asyncio as redis

from app.core.ratelimit import WINDOW_S, MemoryCounter, RedisCounter, client_key
from app.main import create_app
from tests.conftest import make_settings


async def _client(db_url: str, **limits: object) -> tuple[object, httpx.AsyncClient]:
    app = create_app(make_settings(db_url, **limits))
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")


async def test_per_ip_limit_with_retry_after(app, db_url: str):
    limited, client = await _client(db_url, shop_rate_limit_ip_per_minute=5, shop_rate_limit_token_per_minute=0)
    async with client:
        codes = [(await client.get("/v1/products")).status_code for _ in range(7)]
        assert codes == [200] * 5 + [429] * 2
        r = await client.get("/v1/categories")
        assert r.status_code == 429
        assert 1 <= int(r.headers["Retry-After"]) <= 61
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["status"] == 429
        assert (await client.get("/healthz")).status_code == 200  # probes are never limited
    await limited.state.engine.dispose()  # type: ignore[attr-defined]


async def test_tokens_have_their_own_budget(app, db_url: str):
    limited, client = await _client(db_url, shop_rate_limit_ip_per_minute=2, shop_rate_limit_token_per_minute=3)
    async with client:
        a = {"Authorization": "Bearer sk_a"}
        b = {"Authorization": "Bearer sk_b"}
        assert [(await client.get("/v1/categories", headers=a)).status_code for _ in range(4)] == [200] * 3 + [429]
        assert (await client.get("/v1/categories", headers=b)).status_code == 200
        assert [(await client.get("/v1/categories")).status_code for _ in range(3)] == [200, 200, 429]
    await limited.state.engine.dispose()  # type: ignore[attr-defined]


def test_keys_never_contain_the_token():
    key, is_token = client_key([(b"authorization", b"Bearer sk_secret_value")], ("10.0.0.1", 1))
    assert is_token and "sk_secret_value" not in key
    assert client_key([], ("10.0.0.1", 1)) == ("ip:10.0.0.1", False)


async def test_memory_counter_resets_each_window():
    c = MemoryCounter()
    assert [await c.hit("k", 1) for _ in range(3)] == [1, 2, 3]
    assert await c.hit("k", 2) == 1


async def test_redis_counter_is_shared_between_processes():
    url = "redis://127.0.0.1:6379/15"
    try:
        await redis.from_url(url).ping()
    except OSError as exc:
        import os

        if os.environ.get("CI") == "true":
            raise
        pytest.skip(f"Redis unreachable: {exc}")
    key = secrets.token_hex(6)
    one, two = RedisCounter(url), RedisCounter(url)
    assert await one.hit(key, 7) == 1
    assert await two.hit(key, 7) == 2  # a second process sees the first one's count
    assert await one.hit(key, 8) == 1
    assert await one.hit(key, 7, amount=0) == 2  # counted without charging
    # each window's counter goes away by itself, its expiry set once by its first hit
    assert 0 < await redis.from_url(url).ttl(f"liutong:rl:7:{key}") <= WINDOW_S * 2


async def test_junk_tokens_do_not_escape_the_address_limit(app, db_url: str):
    """Each request with a new made-up token used to get a fresh budget of its own: now every failed
    authentication is charged to the address, and an address over its limit is refused whatever it sends."""
    limited, client = await _client(db_url, shop_rate_limit_ip_per_minute=5, shop_rate_limit_token_per_minute=1000)
    async with client:
        m = (await client.post("/v1/merchants", json={
            "name": "限流商户", "kind": "enterprise", "licence_no": "91350100M000100Y43",
            "contact_email": "rl@example.com"})).json()  # an anonymous request: 1 of the address's 5
        codes = [(await client.get(f"/v1/merchants/{m['id']}",
                                   headers={"Authorization": f"Bearer {secrets.token_urlsafe(20)}"})).status_code
                 for _ in range(6)]
        assert codes == [401] * 4 + [429] * 2
        # Password guessing, each guess with a new made-up token, is refused as soon as the address is over.
        guess = await client.post("/v1/auth/token", data={"username": "a@example.com", "password": "guess-1234"},
                                  headers={"Authorization": f"Bearer sk_{secrets.token_urlsafe(32)}"})
        assert guess.status_code == 429 and int(guess.headers["Retry-After"]) >= 1
    await limited.state.engine.dispose()  # type: ignore[attr-defined]


async def test_password_guesses_are_charged_to_the_address(app, db_url: str):
    limited, client = await _client(db_url, shop_rate_limit_ip_per_minute=4, shop_rate_limit_token_per_minute=1000)
    async with client:
        codes = [(await client.post("/v1/auth/token", data={"username": "a@example.com", "password": f"guess-{i}"},
                                    headers={"Authorization": f"Bearer byr_{secrets.token_urlsafe(32)}"})).status_code
                 for i in range(6)]
        assert codes == [401] * 4 + [429] * 2
    await limited.state.engine.dispose()  # type: ignore[attr-defined]


async def test_good_tokens_keep_their_own_budget_behind_a_shared_address(app, db_url: str):
    limited, client = await _client(db_url, shop_rate_limit_ip_per_minute=3, shop_rate_limit_token_per_minute=1000)
    async with client:
        m = (await client.post("/v1/merchants", json={
            "name": "忙碌商户", "kind": "enterprise", "licence_no": "91350100M000100Y43",
            "contact_email": "busy@example.com"})).json()
        key = {"Authorization": f"Bearer {m['api_key']}"}
        assert {(await client.get("/v1/locations", headers=key)).status_code for _ in range(10)} == {200}
    await limited.state.engine.dispose()  # type: ignore[attr-defined]


async def test_a_malformed_token_is_refused_without_the_database():
    """Junk that is no token of ours is a 401 before any lookup: here the database does not even answer."""
    nowhere = create_app(make_settings("postgresql+asyncpg://postgres@127.0.0.1:9/nowhere",
                                       shop_rate_limit_ip_per_minute=0))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=nowhere), base_url="http://testserver") as c:
        for junk in ("abc", "sk_short", "pos_" + "x" * 42, secrets.token_urlsafe(32), "a.b.c"):
            r = await c.get("/v1/merchants/mer_x", headers={"Authorization": f"Bearer {junk}"})
            assert r.status_code == 401, (junk, r.text)
    await nowhere.state.engine.dispose()  # type: ignore[attr-defined]
