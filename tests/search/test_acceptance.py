"""Ranking and recall on a fixed catalogue (tests/search/catalogue.py): every query's known best match comes
first, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories as f
from tests.search.catalogue import NAMED, QUERIES, Item, fillers


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


async def test_every_query_finds_its_best_match_first(client: httpx.AsyncClient):
    ids = await load(client)
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


async def test_title_matches_rank_above_description_matches(client: httpx.AsyncClient):
    ids = await load(client)
    found = [p["id"] for p in (await client.get("/v1/products", params={"q": "羽绒服"})).json()["items"]]
    assert found[0] == ids["down"] and ids["scarf"] in found  # the scarf says 羽绒服 in its description only
    assert ids["duvet"] not in found  # 羽绒被 is not 羽绒服
    found = [p["id"] for p in (await client.get("/v1/products", params={"q": "羊毛"})).json()["items"]]
    assert found.index(ids["scarf"]) < found.index(ids["wool_desc"])
