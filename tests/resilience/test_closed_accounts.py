"""A closed customer account's tokens die at once in every process: two `shop serve` processes on one PostgreSQL
database, the account closed through one, its token refused (401) by both for carts, complaints and orders."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import factories as f
from tests.conftest import _empty_tables
from tests.servers import Server, free_port


@pytest.fixture
def servers(pg_url: str) -> Iterator[tuple[Server, Server]]:
    asyncio.run(_empty_tables(pg_url))
    one, two = Server(pg_url, free_port()), Server(pg_url, free_port())
    try:
        one.start()
        two.start()
        yield one, two
    finally:
        one.stop()
        two.stop()


def _ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code < 300, r.text
    return dict(r.json())


def test_a_closed_accounts_token_is_refused_by_every_process(servers: tuple[Server, Server]):
    one, two = servers
    with httpx.Client(base_url=one.base, timeout=30) as api:
        m = _ok(api.post("/v1/merchants", json={"name": "关店测试", "kind": "enterprise",
                                                 "licence_no": "91350100M000100Y43", "contact_email": "c@example.com"}))
        _ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers=f.ADMIN))
        h = f.bearer(m["api_key"])
        wh = _ok(api.post("/v1/locations", headers=h, json={"code": "WH", "name": "仓", "kind": "warehouse",
                                                            "address": f.address()}))
        p = _ok(api.post("/v1/products", headers=h, json=f.product_body(skus=("CLOSE-1",))))
        _ok(api.put(f"/v1/locations/{wh['id']}/stock/CLOSE-1", headers=h, json={"on_hand": 5}))
        _ok(api.post("/v1/customers", json={"email": "leaving@example.com", "password": "s3cret-pass",
                                            "name": "王五"}))
        # Two sessions of the same shopper: closing through one kills both.
        tokens = [_ok(api.post("/v1/auth/token", data={"username": "leaving@example.com",
                                                       "password": "s3cret-pass"}))["access_token"]
                  for _ in range(2)]
        buyer = f.bearer(tokens[0])
        order = _ok(api.post("/v1/checkout", headers=buyer,
                             json=f.checkout_body([(p["variants"][0]["id"], 1)], email=None)))["orders"][0]
        # Both processes know the token before the account is closed.
        for server in (one, two):
            assert httpx.get(f"{server.base}/v1/orders/{order['id']}", headers=buyer).status_code == 200

    assert httpx.post(f"{two.base}/v1/me/close", headers=buyer).status_code == 200

    complaint = {"target_type": "merchant", "target_id": m["id"], "reason": "再试一次"}
    for server in (one, two):
        for token in tokens:
            headers = f.bearer(token)
            with httpx.Client(base_url=server.base, timeout=30, headers=headers) as api:
                answers = [api.post("/v1/carts"), api.post("/v1/complaints", json=complaint),
                           api.get(f"/v1/orders/{order['id']}"), api.post("/v1/me/close"),
                           api.post("/v1/checkout", json=f.checkout_body([(p["variants"][0]["id"], 1)], email=None))]
            assert [r.status_code for r in answers] == [401] * len(answers), [r.text for r in answers]
    # Nothing was re-created for the closed account: the merchant still sees one order only.
    orders = httpx.get(f"{one.base}/v1/orders", headers=h).json()
    assert [o["id"] for o in orders["items"]] == [order["id"]]
