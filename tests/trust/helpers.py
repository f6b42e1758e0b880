"""Builders for the trust tests, through the public API."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories as f


async def order_for(client: httpx.AsyncClient, shop: f.Shop, customer: dict[str, str], *,
                    quantity: int = 1) -> dict[str, Any]:
    r = await client.post("/v1/checkout", headers=customer,
                          json=f.checkout_body([(shop.variant_id, quantity)], email=None))
    assert r.status_code == 201, r.text
    return dict(r.json()["orders"][0])


async def ship_and_deliver(client: httpx.AsyncClient, shop: f.Shop, order_id: str) -> dict[str, Any]:
    s = await client.post(f"/v1/orders/{order_id}/shipments", headers=shop.m.headers,
                          json={"carrier": "SF", "tracking_no": "SF1234567890123"})
    assert s.status_code == 201, s.text
    d = await client.post(f"/v1/orders/{order_id}/deliver", headers=shop.m.headers)
    assert d.status_code == 200, d.text
    return dict(d.json())


async def delivered_order(client: httpx.AsyncClient, shop: f.Shop | None = None,
                          customer: dict[str, str] | None = None) -> tuple[f.Shop, dict[str, str], dict[str, Any]]:
    shop = shop or await f.shop(client, on_hand=20)
    customer = customer or await f.customer(client)
    order = await order_for(client, shop, customer)
    return shop, customer, await ship_and_deliver(client, shop, order["id"])
