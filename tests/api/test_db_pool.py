"""The connection pool under pressure (PostgreSQL): a request waits a bounded time for a pooled connection and is
then answered 503 with Retry-After, as is a request the database refuses a connection to; never a 500. And the
pools are sized from what the database allows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from app.db import connection_limit
from app.main import create_app
from tests.conftest import make_settings
from tests.limited_pg import hold_connections, limited_database

LIMIT = 3


@pytest.fixture(scope="module")
def limited_url(pg_url: str) -> Iterator[str]:  # pg_url: PostgreSQL answers (or the test skips, or fails in CI)
    with limited_database(LIMIT) as url:
        yield url


@pytest.fixture
async def tiny_app(limited_url: str) -> AsyncIterator[Any]:
    app = create_app(make_settings(limited_url, shop_db_pool_size=1, shop_db_pool_timeout=0.2,
                                   shop_catalog_cache_seconds=0))  # every request reads the database
    yield app
    await app.state.engine.dispose()


async def _get(app: Any, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get(path)


def _busy(r: httpx.Response) -> bool:
    return (r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
            and int(r.headers["retry-after"]) >= 1 and r.json()["status"] == 503)


async def test_a_request_that_finds_no_free_connection_in_time_is_a_503(tiny_app: Any):
    assert (await _get(tiny_app, "/v1/products")).status_code == 200
    async with tiny_app.state.engine.connect():  # the pool's only connection, busy elsewhere
        r = await _get(tiny_app, "/v1/products")
    assert _busy(r), r.text
    assert (await _get(tiny_app, "/v1/products")).status_code == 200  # and free again


async def test_a_connection_the_database_refuses_is_a_503(tiny_app: Any, limited_url: str):
    held = await hold_connections(limited_url, LIMIT)  # every connection the role may have
    try:
        r = await _get(tiny_app, "/v1/products")
    finally:
        for conn in held:
            await conn.close()
    assert _busy(r), r.text
    assert (await _get(tiny_app, "/v1/products")).status_code == 200


async def test_a_burst_gets_answers_or_503s_never_500s(tiny_app: Any):
    transport = httpx.ASGITransport(app=tiny_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
        answers = await asyncio.gather(*(client.get("/v1/products", params={"q": f"词{i}"}) for i in range(60)))
    statuses = {r.status_code for r in answers}
    assert statuses <= {200, 503}, statuses
    assert all(_busy(r) for r in answers if r.status_code == 503)


async def test_the_limit_read_from_the_database_is_the_roles(limited_url: str):
    assert await connection_limit(limited_url) == LIMIT
