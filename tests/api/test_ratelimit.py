"""Public endpoints are rate limited per IP and per token, with Retry-After; Redis shares the counts."""

import secrets

import httpx
import pytest
import redis.asyncio as redis

from app.core.ratelimit import MemoryCounter, RedisCounter, client_key
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
