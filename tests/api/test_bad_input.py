"""Bad input gets a 4xx problem naming the field, never a 500, and writes nothing."""

import httpx
import pytest
from sqlalchemy import func, select

from app.catalog.models import Product, Variant
from app.core.models import OutboxEvent
from tests import factories as f


async def _counts(app) -> tuple[int, int, int]:
    async with app.state.sessionmaker() as s:
        return (await s.scalar(select(func.count()).select_from(Product)) or 0,
                await s.scalar(select(func.count()).select_from(Variant)) or 0,
                await s.scalar(select(func.count()).select_from(OutboxEvent)) or 0)


def _with(**changes):
    body = f.product_body(skus=("OK-1",))
    for path, value in changes.items():
        target = body
        keys = path.split("__")
        for k in keys[:-1]:
            target = target[int(k)] if k.isdigit() else target[k]
        target[keys[-1]] = value
    return body


CASES = [
    ("wrong type", _with(title=123), "title"),
    ("negative price", _with(variants__0__price=-1), "variants.0.price"),
    ("float price", _with(variants__0__price=19.99), "variants.0.price"),
    ("price as string", _with(variants__0__price="abc"), "variants.0.price"),
    ("unknown category", _with(category="weapons"), "category"),
    ("unknown status", _with(status="published"), "status"),
    ("empty title", _with(title=""), "title"),
    ("no variants", _with(variants=[]), "variants"),
    ("bad sku", _with(variants__0__sku="has space"), "variants.0.sku"),
    ("bad currency", _with(variants__0__currency="RMB1"), "variants.0.currency"),
    ("unknown field", _with(colour="red"), "colour"),
    ("tiers out of order", _with(variants__0__wholesale={"moq": 1, "pack_size": 1, "tiers": [
        {"min_qty": 10, "unit_price": 1}, {"min_qty": 5, "unit_price": 2}]}), "variants.0.wholesale"),
    ("zero pack size", _with(variants__0__wholesale={"moq": 1, "pack_size": 0, "tiers": []}),
     "variants.0.wholesale.pack_size"),
]


@pytest.mark.parametrize(("case", "body", "field"), CASES, ids=[c[0] for c in CASES])
async def test_invalid_product_is_rejected_with_the_field(client: httpx.AsyncClient, app, case, body, field):
    m = await f.merchant(client)
    before = await _counts(app)
    r = await client.post("/v1/products", headers=m.headers, json=body)
    assert r.status_code == 422, r.text
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert field in [e["field"] for e in problem["errors"]], problem
    assert await _counts(app) == before


async def test_missing_fields_are_named(client: httpx.AsyncClient):
    m = await f.merchant(client)
    r = await client.post("/v1/products", headers=m.headers, json={"title": "x"})
    assert r.status_code == 422
    assert {"category", "variants"} <= {e["field"] for e in r.json()["errors"]}


async def test_broken_json_and_wrong_media(client: httpx.AsyncClient, app):
    m = await f.merchant(client)
    before = await _counts(app)
    for content in (b"{bad", b"", b"[1,2", "{\"title\": \"\u7f8a\"".encode()):
        r = await client.post("/v1/products", headers={**m.headers, "content-type": "application/json"},
                              content=content)
        assert 400 <= r.status_code < 500, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post("/v1/products", headers={**m.headers, "content-type": "text/plain"}, content=b"hi")
    assert 400 <= r.status_code < 500
    assert await _counts(app) == before


async def test_ten_megabyte_body_is_refused(client: httpx.AsyncClient, app):
    m = await f.merchant(client)
    before = await _counts(app)
    huge = b'{"title": "' + b"x" * (10 * 1024 * 1024) + b'"}'
    r = await client.post("/v1/products", headers={**m.headers, "content-type": "application/json"}, content=huge)
    assert r.status_code == 413
    assert r.json()["status"] == 413

    async def stream():
        for _ in range(10):
            yield b"x" * (1024 * 1024)

    r = await client.post("/v1/merchants", headers={"content-type": "application/json"}, content=stream())
    assert r.status_code == 413
    assert await _counts(app) == before


async def test_bad_query_parameters(client: httpx.AsyncClient):
    for params in ({"limit": 0}, {"limit": 501}, {"limit": "many"}, {"category": "nope"}, {"q": "x" * 201}):
        r = await client.get("/v1/products", params=params)
        assert r.status_code == 422, params
        assert r.json()["errors"][0]["field"] == next(iter(params))


async def test_bad_sign_up(client: httpx.AsyncClient):
    r = await client.post("/v1/merchants", json={"name": "x", "kind": "company", "licence_no": "1",
                                                  "contact_email": "not-an-email"})
    assert r.status_code == 422
    assert {"kind", "contact_email"} <= {e["field"] for e in r.json()["errors"]}


async def test_unknown_routes_and_methods_are_problems(client: httpx.AsyncClient):
    r = await client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.delete("/v1/products")
    assert r.status_code == 405 and r.json()["status"] == 405
