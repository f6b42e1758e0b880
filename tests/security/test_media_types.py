"""JSON operations take `application/json` only (415 otherwise): a form on any web site can post `text/plain`
cross-site without a CORS preflight, and must not place an order. Uploads keep their own types."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import func, select

from app.orders.models import Order
from tests import factories as f


async def _orders(app: Any) -> int:
    async with app.state.sessionmaker() as s:
        return await s.scalar(select(func.count()).select_from(Order)) or 0


async def test_json_operations_refuse_other_media_types(client: httpx.AsyncClient, app: Any):
    s = await f.shop(client)
    till = await f.device(client, s.m, s.store)
    checkout = json.dumps(f.checkout_body([(s.variant_id, 1)])).encode()
    for content_type in ("text/plain", "text/plain;charset=UTF-8", "application/xml",
                         "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
        headers = {"Content-Type": content_type} if content_type else {}
        r = await client.post("/v1/checkout", headers=headers, content=checkout)
        assert r.status_code == 415, (content_type, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    assert await _orders(app) == 0
    plain = {"Content-Type": "text/plain"}
    for path, headers, body in (
            ("/v1/products", s.m.headers, f.product_body()),
            ("/v1/merchants", {}, {"name": "x", "kind": "enterprise", "licence_no": "91350100M000100Y43",
                                   "contact_email": "x@example.com"}),
            ("/v1/pos/events", till, {"events": [f.pos_event("e1", "sale", s.sku, 1, "2026-11-27T00:00:00Z")]})):
        r = await client.post(path, headers={**headers, **plain}, content=json.dumps(body).encode())
        assert r.status_code == 415, (path, r.text)

    # JSON with its charset, the token form, a CSV upload and a body-less POST are what they always were.
    ok = await client.post("/v1/checkout", headers={"Content-Type": "application/json; charset=utf-8"},
                           content=checkout)
    assert ok.status_code == 201, ok.text
    shopper = await f.customer(client)  # POST /v1/customers (JSON) and /v1/auth/token (a form)
    assert (await client.post("/v1/carts", headers=shopper)).status_code == 201
    b = await f.buyer(client, s.m)
    csv = await client.post("/v1/wholesale/orders/csv", params={"merchant_id": s.m.id},
                            headers={**b.headers, "Content-Type": "text/csv"}, content=b"sku,quantity\nNOPE,1\n")
    assert csv.status_code == 422 and csv.json()["errors"], csv.text
