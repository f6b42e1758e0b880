"""A seller chooses its own courier (ECL art. 35): any carrier it names is taken and shown to the buyer."""

from __future__ import annotations

import httpx

from tests import factories as f
from tests.trust.helpers import order_for


async def test_a_seller_ships_with_a_carrier_of_its_own_choosing(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client)
    buyer = await f.customer(client)
    order = await order_for(client, shop, buyer)
    r = await client.post(f"/v1/orders/{order['id']}/shipments", headers=shop.m.headers,
                          json={"carrier": "福州同城闪送合作社", "tracking_no": "TC-0001"})
    assert r.status_code == 201, r.text
    seen = (await client.get(f"/v1/orders/{order['id']}", headers=buyer)).json()
    assert [(s["carrier"], s["tracking_no"]) for s in seen["shipments"]] == [("福州同城闪送合作社", "TC-0001")]
