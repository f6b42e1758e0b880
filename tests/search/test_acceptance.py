"""Ranking and recall on a fixed catalogue (tests/search/catalogue.py): every query's known best match comes
first, on SQLite and on PostgreSQL alike; the process's copy of the index answers as the database does."""

from __future__ import annotations

from typing import Any

import httpx

from app.catalog.search import service as search_service
from tests import factories as f
from tests.search.catalogue import NAMED, QUERIES, Item, fillers
from tests.search.test_copy import answers_alike


def body_of(item: Item) -> dict[str, Any]:
    colours = item.colours or ("",)
    variants = []
    for n, colour in enumerate(colours):
        variant: dict[str, Any] = {"sku": (item.sku if n == 0 and item.sku else f"{item.key.upper()}-{n}"),
                                   "price": item.price + 100 * n,
                                   "attributes": {"颜色": colour} if colour else {}}
        if n == 0 and item.barcode:
            variant["barcode"] = item.barcode
        variants.append(variant)
    return {"title": item.title, "category": item.category, "description": item.description,
            "status": "active", "variants": variants}


async def load(client: httpx.AsyncClient) -> dict[str, str]:
    """The catalogue through the API; returns product id by key."""
    merchants = {name: await f.merchant(client) for name in "abc"}
    ids: dict[str, str] = {}
    for item in [*fillers(), *NAMED]:
        r = await client.post("/v1/products", headers=merchants[item.merchant].headers, json=body_of(item))
        assert r.status_code == 201, r.text
        ids[item.key] = r.json()["id"]
    r = await client.put("/v1/search/dictionary", headers=merchants["b"].headers, json={"words": ["花西子"]})
    assert r.status_code == 200, r.text
    r = await client.put("/v1/search/synonyms", headers=merchants["c"].headers, json={"groups": [["卫衣", "hoodie"]]})
    assert r.status_code == 200, r.text
    return ids


async def _pages(client: httpx.AsyncClient, q: str, limit: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        params = {"q": q, "limit": limit} | ({"cursor": cursor} if cursor else {})
        r = await client.get("/v1/products", params=params)
        assert r.status_code == 200, r.text
        seen += [p["id"] for p in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return seen


async def test_every_query_finds_its_best_match_first_and_pages_alike_however_read(client: httpx.AsyncClient,
                                                                                   app: Any, monkeypatch: Any):
    """One catalogue, loaded once for all that follows (loading it is most of the time each takes): each named
    query's best match first; title matches above description matches; the process's copy of the index answering
    every query as the database does (`tests/search/test_copy.py`); and every query's pages the same products in
    the same order, whether a page comes from the probe of the top of the ranking order or from each tier's
    matches. The database answers but where the copy is compared with it."""
    live = app.state.search_live
    ids = await load(client)
    app.state.search_live = None
    await _best_matches_first(client, ids)
    await _title_matches_above_description_matches(client, ids)
    await answers_alike(client, app, live, ids, monkeypatch)
    app.state.search_live = None
    await _pages_alike_however_read(client, monkeypatch)


async def _best_matches_first(client: httpx.AsyncClient, ids: dict[str, str]) -> None:
    title = {v: k for k, v in ids.items()}
    wrong = []
    for q, expected in QUERIES:
        r = await client.get("/v1/products", params={"q": q, "limit": 5})
        assert r.status_code == 200, r.text
        got = [title.get(p["id"], p["id"]) for p in r.json()["items"]]
        if not got or got[0] != expected:
            wrong.append((q, expected, got))
    assert wrong == [], f"{len(wrong)} of {len(QUERIES)} queries ranked another product first: {wrong}"
    assert len(QUERIES) >= 60 and len(ids) >= 190


async def _title_matches_above_description_matches(client: httpx.AsyncClient, ids: dict[str, str]) -> None:
    found = [p["id"] for p in (await client.get("/v1/products", params={"q": "羽绒服"})).json()["items"]]
    assert found[0] == ids["down"] and ids["scarf"] in found  # the scarf says 羽绒服 in its description only
    assert ids["duvet"] not in found  # 羽绒被 is not 羽绒服
    found = [p["id"] for p in (await client.get("/v1/products", params={"q": "羊毛"})).json()["items"]]
    assert found.index(ids["scarf"]) < found.index(ids["wool_desc"])


async def _pages_alike_however_read(client: httpx.AsyncClient, monkeypatch: Any) -> None:
    # the named queries, and words of many fillers: in titles, categories, pinyin and descriptions
    queries = [q for q, _ in QUERIES] + ["款式", "经典", "日常", "home", "jingdian", "ks", "时尚 抱枕", "款"]
    wide = {q: await _pages(client, q, 50) for q in queries}
    assert sum(len(ids) > 20 for ids in wide.values()) >= 5  # queries that page many times at limit 5 below
    paths: dict[str, int] = {"probe": 0, "tier": 0}
    probe, tier = search_service._probe, search_service._tier

    async def counted_probe(*args: Any) -> Any:
        rows = await probe(*args)
        paths["probe"] += len(rows) == args[-1]  # a full page: the probe answered
        return rows

    async def counted_tier(*args: Any) -> Any:
        paths["tier"] += 1
        return await tier(*args)

    monkeypatch.setattr(search_service, "PROBE_FACTOR", 4)  # the probe sees a few pages of products, not all
    monkeypatch.setattr(search_service, "_probe", counted_probe)
    monkeypatch.setattr(search_service, "_tier", counted_tier)
    for q in queries:
        assert await _pages(client, q, 5) == wide[q], q
    assert paths["probe"] > 0 and paths["tier"] > 0  # both ways were taken


async def test_a_better_tier_beyond_the_top_of_the_ranking_still_comes_first(client: httpx.AsyncClient, app: Any,
                                                                             monkeypatch: Any):
    """The newest products all match in their options; the title match and an option match in another category
    are older than the top the probe looks at. The title match still leads, and a category filter still finds
    the older option match behind the newer ones it removes (the database's reading of them)."""
    app.state.search_live = None
    m = await f.merchant(client)

    def blue_and_white(sku: str) -> list[dict[str, Any]]:
        return [{"sku": sku, "price": 3900, "attributes": {"花色": "青花"}}]

    title = await f.product(client, m, title="青花瓷碗 手绘", category="daily-goods")
    option_old = await f.product(client, m, title="陶瓷碗 家用", category="daily-goods",
                                 variants=blue_and_white("BOWL-OLD"))
    # more than a filtered tier takes at its second try (`_tier`, taking 5 and then 20 here), so the category
    # below ends up filtering all
    newer = [await f.product(client, m, title=f"陶瓷盘 {i}", category="home", variants=blue_and_white(f"PLATE-{i}"))
             for i in range(24)]
    monkeypatch.setattr(search_service, "TAKE_EXTRA", 0)
    everything = [title["id"], *(p["id"] for p in reversed(newer)), option_old["id"]]
    monkeypatch.setattr(search_service, "PROBE_FACTOR", 4)  # the probe sees the 16 newest products of a first page
    assert await _pages(client, "青花", 3) == everything
    r = await client.get("/v1/products", params={"q": "青花", "category": "daily-goods", "limit": 3})
    assert [p["id"] for p in r.json()["items"]] == [title["id"], option_old["id"]]
