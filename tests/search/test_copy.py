"""The process's copy of the search index (app/catalog/search/memory.py, live.py): the same answers as the
database, on SQLite and PostgreSQL alike, and current after every change, this process's or another's."""

from __future__ import annotations

import weakref
from typing import Any

import httpx

from app.catalog.search import service as search_service
from app.core import cache
from tests import factories as f
from tests.search.catalogue import QUERIES

EXTRA_QUERIES = ["款式", "经典", "日常", "home", "jingdian", "ks", "时尚 抱枕", "款", "yrf", "羽绒 服", "jackte",
                 "没有这个词"]


class Answered:
    """Counts the searches the database answered (the copy answers the rest)."""

    def __init__(self, monkeypatch: Any) -> None:
        self.by_database = 0
        original = search_service.search

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.by_database += 1
            return await original(*args, **kwargs)

        monkeypatch.setattr(search_service, "search", counted)


async def _get(client: httpx.AsyncClient, params: dict[str, Any]) -> dict[str, Any]:
    r = await client.get("/v1/products", params=params)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


async def _every_page(client: httpx.AsyncClient, params: dict[str, Any]) -> list[dict[str, Any]]:
    pages = []
    cursor = None
    while True:
        page = await _get(client, params | ({"cursor": cursor} if cursor else {}))
        pages.append(page)
        cursor = page["next_cursor"]
        if not cursor:
            return pages


async def answers_alike(client: httpx.AsyncClient, app: Any, live: Any, ids: dict[str, str], monkeypatch: Any
                        ) -> None:
    """Pages, their products' JSON, next cursors and facets, with filters by category, merchant and price: the
    same from the database and from the copy (`live`), query by query, on the catalogue of
    tests/search/test_acceptance.py (`ids`: its products, loaded with the copy on; the test that loads it calls
    this, as loading it is most of the time either takes)."""
    r = await client.get(f"/v1/products/{ids['down']}")
    merchant_id = r.json()["merchant_id"]
    variants = []
    for n, q in enumerate([q for q, _ in QUERIES] + EXTRA_QUERIES):
        variants.append({"q": q, "limit": 5} if n % 2 else {"q": q, "facets": "category,price,merchant"})
    for q in ["羽绒服", "羊毛", "款式", "hoodie", "卫衣"]:
        variants += [{"q": q, "category": "apparel", "limit": 3}, {"q": q, "merchant_id": merchant_id},
                     {"q": q, "price_min": 5_000, "price_max": 30_000, "facets": "price,category"},
                     {"q": q, "price_max": 9_999, "limit": 2}]
    app.state.search_live = None
    expected = [await _every_page(client, params) for params in variants]
    app.state.search_live = live
    await live.caught_up()
    answered = Answered(monkeypatch)
    got = [await _every_page(client, params) for params in variants]
    for params, want, have in zip(variants, expected, got, strict=True):
        assert have == want, params
    # the database answered only the first pages of what the copy found nothing for, to correct a typo or log
    # the miss: the queries built to find nothing or a typo
    assert 0 < answered.by_database <= len(variants) // 10
    assert sum(len(pages) > 3 for pages in expected) >= 5  # many of them page several times


async def test_a_change_made_here_is_searched_at_once(client: httpx.AsyncClient, app: Any, monkeypatch: Any,
                                                       admin_headers: dict[str, str]):
    """A renamed product, a product taken down, a merchant kept out of lists: the next search shows it."""
    m = await f.merchant(client)
    other = await f.merchant(client)
    kettle = await f.product(client, m, title="电热水壶 不锈钢")
    await f.product(client, other, title="电热水壶 玻璃")
    await app.state.search_live.caught_up()

    async def found(q: str) -> list[str]:
        return [p["id"] for p in (await _get(client, {"q": q}))["items"]]

    async def listed(q: str) -> dict[str, Any]:
        return next(p for p in (await _get(client, {"q": q}))["items"] if p["id"] == kettle["id"])

    assert (await listed("水壶"))["title"] == "电热水壶 不锈钢"  # its JSON now in memory too
    r = await client.patch(f"/v1/products/{kettle['id']}", headers=m.headers, json={"title": "养生壶 玻璃"})
    assert r.status_code == 200, r.text
    assert (await listed("养生壶"))["title"] == "养生壶 玻璃"
    assert kettle["id"] not in await found("不锈钢")
    sku = kettle["variants"][0]["sku"]
    r = await client.patch(f"/v1/products/{kettle['id']}", headers=m.headers,
                           json={"variants": [{"sku": sku, "price": 12_345}]})
    assert r.status_code == 200, r.text
    assert (await listed("养生壶"))["variants"][0]["price"] == 12_345
    r = await client.put(f"/v1/admin/merchants/{other.id}/listing", headers=admin_headers, json={"listed": False})
    assert r.status_code == 200, r.text
    assert await found("玻璃") == [kettle["id"]]
    r = await client.patch(f"/v1/products/{kettle['id']}", headers=m.headers, json={"status": "archived"})
    assert r.status_code == 200, r.text
    assert await found("玻璃") == []


async def test_another_processs_change_is_searched_once_the_version_is_read(client: httpx.AsyncClient, app: Any,
                                                                           monkeypatch: Any, db_url: str):
    """Another process's commit does not reach this one's copy directly: the catalogue's version does, read every
    SHOP_SEARCH_POLL_SECONDS while searches come (that interval is how far behind the copy may be), and before
    answering when none came for longer."""
    m = await f.merchant(client)
    lamp = await f.product(client, m, title="台灯 护眼")
    live = app.state.search_live
    now = [0.0]
    monkeypatch.setattr(live, "clock", lambda: now[0])
    await live.caught_up()
    assert [p["id"] for p in (await _get(client, {"q": "台灯"}))["items"]] == [lamp["id"]]  # the version read
    monkeypatch.setattr(cache, "_caches", weakref.WeakSet())  # this process's commits now reach it no more
    r = await client.patch(f"/v1/products/{lamp['id']}", headers=m.headers, json={"title": "落地灯 护眼"})
    assert r.status_code == 200, r.text
    answered = Answered(monkeypatch)
    now[0] += live.poll_s / 5
    assert [p["id"] for p in (await _get(client, {"q": "台灯"}))["items"]] == [lamp["id"]]
    assert answered.by_database == 0  # the copy, as it was: its version was read a moment ago
    now[0] += 10 * live.poll_s
    lamps = (await _get(client, {"q": "落地灯"}))["items"]
    assert [(p["id"], p["title"]) for p in lamps] == [(lamp["id"], "落地灯 护眼")]
    # PostgreSQL: the copy caught up before answering; SQLite: it loads again, the database answers meanwhile
    assert answered.by_database == (0 if db_url.startswith("postgresql") else 1)


async def test_readiness_tells_whether_the_copy_is_loaded(client: httpx.AsyncClient, app: Any):
    assert (await client.get("/readyz")).json() == {"status": "ready", "search_copy": "loading"}
    await app.state.search_live.caught_up()
    assert (await client.get("/readyz")).json() == {"status": "ready", "search_copy": "ready"}
