"""Anonymous catalogue pages are cached for a moment; any catalogue change empties the cache at commit."""

import httpx
from sqlalchemy import update

from app.catalog.models import Product
from app.core.cache import PageCache
from tests import factories as f


def test_page_cache_expires_and_stays_bounded():
    now = [100.0]
    cache = PageCache(1.0, max_entries=2, clock=lambda: now[0])
    cache.put("a", b"1")
    assert cache.get("a") == b"1"
    now[0] += 1.0
    assert cache.get("a") is None  # expired
    for key in ("x", "y", "z"):
        cache.put(key, key.encode())
    assert cache.get("x") is None and cache.get("z") == b"z"  # the oldest entry made room


async def test_listing_is_served_from_the_cache_until_the_catalogue_changes(client: httpx.AsyncClient, app,
                                                                            admin_headers):
    app.state.catalog_cache.ttl_s = 60  # long enough that only invalidation can refresh a page
    m = await f.merchant(client)
    first = await f.product(client, m, title="羽绒服 cached")
    assert [p["id"] for p in (await client.get("/v1/products")).json()["items"]] == [first["id"]]
    # A change behind the service's back is not seen: the page comes from the cache.
    async with app.state.sessionmaker() as s:
        await s.execute(update(Product).values(title="changed behind the cache"))
        await s.commit()
    assert (await client.get("/v1/products")).json()["items"][0]["title"] == "羽绒服 cached"
    # Changes through the services empty the cache when they commit.
    second = await f.product(client, m, title="新品 new")
    assert [p["id"] for p in (await client.get("/v1/products")).json()["items"]] == [second["id"], first["id"]]
    await client.post(f"/v1/admin/merchants/{m.id}/suspend", headers=admin_headers, json={"reason": "test"})
    assert (await client.get("/v1/products")).json()["items"] == []
    # Callers with a token are never served from the cache (a merchant sees its drafts).
    draft = await f.product(client, m, status="draft", title="草稿")
    mine = await client.get("/v1/products", params={"merchant_id": m.id}, headers=m.headers)
    assert draft["id"] in [p["id"] for p in mine.json()["items"]]


async def test_concurrent_misses_compute_a_page_once():
    import asyncio

    cache = PageCache(1.0)
    calls = 0
    release = asyncio.Event()

    async def compute() -> bytes:
        nonlocal calls
        calls += 1
        await release.wait()
        return b"page"

    waiters = [asyncio.create_task(cache.get_or_compute("k", compute)) for _ in range(20)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiters) == [b"page"] * 20
    assert calls == 1
    assert await cache.get_or_compute("k", compute) == b"page" and calls == 1  # now a plain hit


async def test_a_failed_computation_is_not_cached():
    cache = PageCache(1.0)

    async def boom() -> bytes:
        raise RuntimeError("database down")

    import pytest

    with pytest.raises(RuntimeError):
        await cache.get_or_compute("k", boom)
    assert cache.get("k") is None and not cache.pending
