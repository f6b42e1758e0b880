"""Stock levels by CSV: counted quantities per SKU and location, bad rows named, the ledger equal to the levels."""

from __future__ import annotations

from typing import Any

import httpx

from app.inventory import service as inventory_service
from tests import factories as f


async def _import(client: httpx.AsyncClient, m: f.MerchantCtx, text: str, *, apply_good_rows: bool = False,
                  encoding: str = "utf-8") -> dict[str, Any]:
    r = await client.post("/v1/imports/stock", headers={**m.headers, "content-type": "text/csv"},
                          content=text.encode(encoding), params={"apply_good_rows": str(apply_good_rows).lower()})
    assert r.status_code == 202, r.text
    return dict((await client.get(f"/v1/imports/{r.json()['id']}", headers=m.headers)).json())


async def test_counts_by_csv_keep_the_ledger_equal_to_the_levels(client: httpx.AsyncClient, app: Any) -> None:
    m = await f.merchant(client)
    await f.location(client, m, code="WH1")
    await f.location(client, m, kind="store", code="PD")
    await f.product(client, m, skus=("S-1", "S-2"))
    await f.stock(client, m, await f.location(client, m, code="OLD"), "S-1", 5)  # counted before: 5 -> 3
    text = "sku,location,on_hand,safety_stock\nS-1,WH1,100,5\nS-2,WH1,40,\nS-1,PD,12,2\nS-1,OLD,3,\n"
    job = await _import(client, m, text)
    assert job["status"] == "succeeded" and job["applied_rows"] == 4, job
    levels = (await client.get("/v1/inventory/S-1", params={"merchant_id": m.id}, headers=m.headers)).json()
    by_code = {loc["name"]: loc for loc in levels["locations"]}
    assert sum(loc["on_hand"] for loc in levels["locations"]) == 115
    assert sorted(loc["safety_stock"] for loc in by_code.values()) == [0, 2, 5]
    assert await f.levels(app) == await f.ledger(app)
    bad = "sku,location,on_hand\nS-1,WH1,7\nNOPE,WH1,1\nS-2,MARS,1\nS-2,WH1,-3\nS-1,WH1,8\n"
    failed = await _import(client, m, bad, encoding="gbk")
    assert failed["status"] == "failed"
    assert [(e["line"], e["field"]) for e in failed["errors"]] == [(3, "sku"), (4, "location"), (5, "on_hand"),
                                                                   (6, "sku")]
    assert await f.levels(app) == await f.ledger(app)
    partly = await _import(client, m, bad, apply_good_rows=True)
    assert partly["status"] == "succeeded" and partly["applied_rows"] == 1
    async with app.state.sessionmaker() as session:
        assert await inventory_service.rebuild_levels(session) == 0
    export = await client.get("/v1/exports/stock.csv", headers=m.headers)
    lines = export.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "sku,location,on_hand,safety_stock" and "S-1,WH1,7,5" in lines and len(lines) == 5
    again = await _import(client, m, export.content.decode("utf-8-sig"))
    assert again["status"] == "succeeded" and await f.levels(app) == await f.ledger(app)
