"""Public catalogue reads from a real streaming replica: fresh within the lag bound, the primary when the replica
is down, and never for a checkout."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests import factories as f
from tests.replica.conftest import Replica, replica_client

pytestmark = pytest.mark.scaling

MAX_LAG_S = 2.0  # SHOP_REPLICA_MAX_LAG_SECONDS, its default


async def _listed(client: httpx.AsyncClient, product_id: str) -> bool:
    r = await client.get("/v1/products", params={"limit": 100})
    assert r.status_code == 200, r.text
    return product_id in {p["id"] for p in r.json()["items"]}


async def _ready(client: httpx.AsyncClient) -> dict[str, Any]:
    r = await client.get("/readyz")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def test_a_product_created_on_the_primary_is_listed_from_the_replica_within_the_lag_bound(
        routed: tuple[Any, httpx.AsyncClient]) -> None:
    app, client = routed
    assert (await _ready(client))["reads"] == "replica"
    m = await f.merchant(client)
    product = await f.product(client, m)
    written = time.monotonic()
    before = app.state.reads.replica_connections
    while not await _listed(client, product["id"]):
        assert time.monotonic() - written <= MAX_LAG_S, "not listed within the lag bound"
    assert time.monotonic() - written <= MAX_LAG_S
    assert app.state.reads.replica_connections > before  # the listing was read on the replica
    page = await client.get(f"/products/{product['id']}")  # the shop's product page too
    assert page.status_code == 200 and product["title"] in page.text
    # the merchant reading its own just-written product is answered by the primary
    quiet = app.state.reads.replica_connections
    r = await client.get("/v1/products", params={"merchant_id": m.id}, headers=m.headers)
    assert r.status_code == 200 and product["id"] in {p["id"] for p in r.json()["items"]}
    assert app.state.reads.replica_connections == quiet


async def test_a_checkout_never_reads_the_replica(routed: tuple[Any, httpx.AsyncClient]) -> None:
    app, client = routed
    s = await f.shop(client, on_hand=5)
    while not await _listed(client, s.product["id"]):  # the shopper browses (the replica), bounded by the check
        pass
    reads = app.state.reads
    assert reads.state.usable and reads.replica_connections > 0
    before = reads.replica_connections
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)]))
    assert r.status_code == 201, r.text
    again = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 3)]))
    assert again.status_code == 201, again.text
    sold_out = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]))
    assert sold_out.status_code == 409, sold_out.text  # stock decided on the primary, at once
    assert reads.replica_connections == before


async def test_with_the_replica_stopped_the_listing_answers_from_the_primary(
        app: Any, db_url: str, pg_only: None, own_replica: Replica) -> None:
    application, client = await replica_client(app, db_url, own_replica)
    async with client:
        m = await f.merchant(client)
        product = await f.product(client, m)
        assert (await _ready(client))["reads"] == "replica"
        start = time.monotonic()
        while not await _listed(client, product["id"]):
            assert time.monotonic() - start <= MAX_LAG_S
        own_replica.stop()
        ready = await _ready(client)  # asks the replica afresh
        assert ready["status"] == "ready" and ready["reads"] == "primary" and ready["replica"] == "down", ready
        used = application.state.reads.replica_connections
        later = await f.product(client, m)
        assert await _listed(client, product["id"]) and await _listed(client, later["id"])
        page = await client.get(f"/products/{later['id']}")
        assert page.status_code == 200 and later["title"] in page.text
        assert application.state.reads.replica_connections == used
    await application.state.engine.dispose()
    await application.state.reads.dispose()
