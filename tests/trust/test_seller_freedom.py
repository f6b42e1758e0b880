"""A seller chooses its own courier (ECL art. 35): whichever of the carriers it ships with is taken and shown to the
buyer; the platform prefers none."""

from __future__ import annotations

import httpx

from tests import factories as f
from tests.trust.helpers import order_for


async def test_a_seller_ships_with_a_carrier_of_its_own_choosing(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=10)
    buyer = await f.customer(client)
    carriers = (await client.get("/v1/carriers")).json()["items"]
    for carrier in (carriers[-1], carriers[len(carriers) // 2]):  # not the first on the list: any one will do
        order = await order_for(client, shop, buyer)
        r = await client.post(f"/v1/orders/{order['id']}/shipments", headers=shop.m.headers,
                              json={"carrier": carrier["code"], "tracking_no": carrier["example"]})
        assert r.status_code == 201, r.text
        seen = (await client.get(f"/v1/orders/{order['id']}", headers=buyer)).json()
        assert [(s["carrier"], s["tracking_no"]) for s in seen["shipments"]] == [(carrier["code"], carrier["example"])]
