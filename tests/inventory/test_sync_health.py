"""Till sync health: a store whose till is out of touch offers none of its stock online until it syncs."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from app.core import clock
from tests import factories as f

LAG = timedelta(minutes=30)  # SHOP_POS_SYNC_LAG_MINUTES default


@pytest.fixture(autouse=True)
def _clock():
    yield
    clock.reset()


async def store_only_shop(client: httpx.AsyncClient, store_on_hand: int = 5) -> f.Shop:
    """Stock only at the store (the warehouse is empty): online orders ship from the store."""
    return await f.shop(client, on_hand=0, store_on_hand=store_on_hand)


async def online_available(client: httpx.AsyncClient, s: f.Shop, *, owner: bool = False) -> dict[str, int]:
    r = await client.get(f"/v1/inventory/{s.sku}", params={"merchant_id": s.m.id},
                         headers=s.m.headers if owner else {})
    assert r.status_code == 200, r.text
    return {loc["location_id"]: loc["available"] for loc in r.json()["locations"]}


async def store_sync(client: httpx.AsyncClient, s: f.Shop) -> dict[str, object]:
    r = await client.get(f"/v1/locations/{s.store['id']}", headers=s.m.headers)
    assert r.status_code == 200, r.text
    return dict(r.json()["sync"])


async def test_a_silent_till_holds_back_its_stores_stock_until_it_syncs(client: httpx.AsyncClient):
    s = await store_only_shop(client, store_on_hand=5)
    till = await f.device(client, s.m, s.store)
    assert (await client.get("/v1/pos/changes", headers=till)).status_code == 200  # the till syncs now
    assert (await online_available(client, s))[s.store["id"]] == 5
    sync = await store_sync(client, s)
    assert sync["tills"] == 1 and sync["last_synced_at"] and sync["online_stock_held"] is False

    clock.travel(LAG + timedelta(minutes=1))  # the till has gone quiet (it may be selling offline)
    assert (await online_available(client, s))[s.store["id"]] == 0
    owner_view = (await client.get(f"/v1/inventory/{s.sku}", params={"merchant_id": s.m.id},
                                   headers=s.m.headers)).json()
    store = next(loc for loc in owner_view["locations"] if loc["location_id"] == s.store["id"])
    assert store["on_hand"] == 5 and store["available"] == 0 and store["online_stock_held"] is True
    assert (await store_sync(client, s))["online_stock_held"] is True
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]))
    assert r.status_code == 409, r.text  # nothing to promise: the store's stock is held back
    pickup = f.checkout_body([(s.variant_id, 1)], fulfilment={"type": "pickup", "location_id": s.store["id"]})
    assert (await client.post("/v1/checkout", json=pickup)).status_code == 409

    # The till comes back and uploads what it sold meanwhile: the rest is offered online again.
    sold = f.pos_event("offline-sale-1", "sale", s.sku, 2,
                       (clock.utcnow() - timedelta(minutes=10)).isoformat().replace("+00:00", "Z"))
    r = await client.post("/v1/pos/events", headers=till, json={"events": [sold]})
    assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text
    assert (await online_available(client, s))[s.store["id"]] == 3
    assert (await store_sync(client, s))["online_stock_held"] is False
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 3)]))
    assert r.status_code == 201, r.text


async def test_a_till_registered_but_never_synced_counts_as_out_of_touch_after_the_lag(
        client: httpx.AsyncClient):
    s = await store_only_shop(client, store_on_hand=4)
    await f.device(client, s.m, s.store)
    assert (await online_available(client, s))[s.store["id"]] == 4
    clock.travel(LAG + timedelta(minutes=1))
    assert (await online_available(client, s))[s.store["id"]] == 0
    sync = await store_sync(client, s)
    assert sync["last_synced_at"] is None and sync["online_stock_held"] is True


async def test_a_revoked_till_and_a_store_without_tills_hold_nothing_back(client: httpx.AsyncClient):
    s = await store_only_shop(client, store_on_hand=3)
    assert (await client.get(f"/v1/locations/{s.store['id']}", headers=s.m.headers)).json()["sync"] is None
    till = await f.device(client, s.m, s.store)
    devices = (await client.get(f"/v1/locations/{s.store['id']}/devices", headers=s.m.headers)).json()["items"]
    clock.travel(LAG + timedelta(minutes=1))
    assert (await online_available(client, s))[s.store["id"]] == 0
    r = await client.post(f"/v1/devices/{devices[0]['id']}/revoke", headers=s.m.headers)
    assert r.status_code == 200, r.text
    assert (await online_available(client, s))[s.store["id"]] == 3  # a lost till no longer holds the store
    assert (await client.get("/v1/pos/changes", headers=till)).status_code == 401


async def test_safety_stock_is_held_back_from_online_sale(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=10)
    r = await client.put(f"/v1/locations/{s.warehouse['id']}/stock/{s.sku}", headers=s.m.headers,
                         json={"on_hand": 10, "safety_stock": 3})
    assert r.status_code == 200 and r.json()["available"] == 7, r.text
    assert (await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 8)]))).status_code == 409
    assert (await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 7)]))).status_code == 201
