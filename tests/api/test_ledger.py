"""Stock levels can always be rebuilt from the ledger of movements."""

import httpx
from sqlalchemy import update

from app.inventory import service as inventory_service
from app.inventory.models import StockLevel
from tests import factories as f


async def test_levels_rebuilt_from_the_ledger_match_and_repair(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10, store_on_hand=4)
    headers = await f.customer(client)
    r = await client.post("/v1/checkout", headers=headers, json=f.checkout_body([(s.variant_id, 3)], email=None))
    order = r.json()["orders"][0]
    await client.post(f"/v1/orders/{order['id']}/shipments", headers=s.m.headers,
                      json={"carrier": "ZTO", "tracking_no": "731234567890"})
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 10)]))  # 7 + 3: split over both
    await client.post(f"/v1/orders/{r.json()['orders'][0]['id']}/cancel", headers=s.m.headers)
    await f.stock(client, s.m, s.store, s.sku, 9)
    async with app.state.sessionmaker() as session:
        assert await inventory_service.rebuild_levels(session) == 0
        await session.commit()
        await session.execute(update(StockLevel).where(StockLevel.location_id == s.warehouse["id"])
                              .values(on_hand=999, reserved=5))
        await session.commit()
    async with app.state.sessionmaker() as session:
        assert await inventory_service.rebuild_levels(session) == 1
        await session.commit()
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (7, 0)
    assert (await f.levels(app))[(s.store["id"], s.variant_id)] == (9, 0)
    assert await f.levels(app) == await f.ledger(app)
