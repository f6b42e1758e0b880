"""Text no database can store (a NUL character, an unpaired surrogate) is refused wherever it comes in: 400 for
a path or header, 422 naming the query parameter or body field; nothing is written, and the next request works."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db import Base
from tests import factories as f

NUL = "a\x00b"
SURROGATE = "a\ud800b"


async def _rows(app: Any) -> int:
    async with app.state.sessionmaker() as s:
        return sum([await s.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables])


def _json(body: Any) -> bytes:
    """JSON as any client writes it: non-ASCII escaped, so an unpaired surrogate goes out as `\\ud800`."""
    import json

    return json.dumps(body).encode()


def _assert_names(r: httpx.Response, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert field in [e["field"] for e in r.json()["errors"]], r.text


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
async def test_bad_text_in_bodies_is_named_and_changes_nothing(client: httpx.AsyncClient, app: Any, bad: str):
    s = await f.shop(client)
    shopper = await f.customer(client)
    before = await _rows(app)
    json_headers = {"Content-Type": "application/json"}
    cases: list[tuple[str, str, dict[str, str], Any, str]] = [
        ("POST", "/v1/merchants", {}, {"name": bad, "kind": "enterprise", "licence_no": "91350100M000100Y43",
                                       "contact_email": "x@example.com"}, "name"),
        ("POST", "/v1/customers", {}, {"email": "n@example.com", "password": "s3cret-pass", "name": bad}, "name"),
        ("POST", "/v1/products", s.m.headers, f.product_body(title=bad), "title"),
        ("POST", "/v1/products", s.m.headers, f.product_body(variants=[
            {"sku": "T-1", "price": 100, "attributes": {bad: "L"}}]), f"variants.0.attributes.{bad[0]}"),
        ("POST", "/v1/locations", s.m.headers, {"code": "X1", "name": "店", "kind": "store",
                                                "address": f.address(line1=bad)}, "address.line1"),
        ("POST", "/v1/complaints", shopper, {"target_type": "merchant", "target_id": s.m.id, "reason": bad},
         "reason"),
        ("POST", "/v1/wholesale/buyers", s.m.headers, {"name": bad}, "name"),
        ("POST", "/v1/checkout", {}, f.checkout_body([(s.variant_id, 1)], fulfilment={
            "type": "delivery", "address": f.address(name=bad)}), "fulfilment.address.name"),
        ("POST", "/v1/checkout", {"Idempotency-Key": "k-1"}, f.checkout_body([(s.variant_id, 1)], email=None) | {
            "email": f"{bad}@example.com"}, "email"),
    ]
    for method, path, headers, body, field in cases:
        r = await client.request(method, path, headers={**headers, **json_headers}, content=_json(body))
        if field.startswith("variants.0.attributes."):  # a key is named as far as it can be printed
            assert r.status_code == 422, r.text
            assert r.json()["errors"][0]["field"].startswith("variants.0.attributes."), r.text
            continue
        _assert_names(r, 422, field)
    if bad == NUL:  # a form cannot carry an unpaired surrogate: its bytes are read as UTF-8
        token = await client.post("/v1/auth/token", data={"username": bad, "password": "s3cret-pass"})
        _assert_names(token, 422, "username")
    assert await _rows(app) == before
    assert (await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]))).status_code == 201


async def test_nul_in_paths_queries_and_headers(client: httpx.AsyncClient, app: Any):
    s = await f.shop(client)
    before = await _rows(app)
    _assert_names(await client.get("/v1/products", params={"q": NUL}), 422, "q")
    _assert_names(await client.get("/v1/products", params={"q": "羽绒", "category": NUL}), 422, "category")
    for path in ("/v1/merchants/mer_%00", "/v1/carts/cart_%00", "/v1/orders/ord_%00", "/v1/products/p%00",
                 "/v1/inventory/SKU%00"):
        _assert_names(await client.get(path, headers=s.m.headers), 400, "path")
    r = await client.post("/v1/checkout", headers={"Idempotency-Key": "k\x00"},
                          json=f.checkout_body([(s.variant_id, 1)]))
    _assert_names(r, 400, "idempotency-key")
    assert await _rows(app) == before
    found = await client.get("/v1/products", params={"q": "羽绒"})
    assert found.status_code == 200 and found.json()["items"]
