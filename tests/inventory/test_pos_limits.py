"""A till cannot push stock past what a level may hold: the event that would cross the cap is rejected with its
reason, the rest of the upload applies, and the till goes on syncing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from app.core.clock import utcnow
from app.inventory.schemas import MAX_ON_HAND
from tests import factories as f


def _receipts(prefix: str, count: int, quantity: int) -> list[dict[str, Any]]:
    at = (utcnow() + timedelta(seconds=5)).isoformat()  # after the counted stock below
    return [f.pos_event(f"{prefix}-{i:05d}", "receive", "CAP-1", quantity, at) for i in range(count)]


async def test_receipts_stop_at_the_cap_and_the_till_keeps_syncing(client: httpx.AsyncClient, app: Any):
    m = await f.merchant(client)
    store = await f.location(client, m, kind="store")
    await f.product(client, m, skus=("CAP-1",))
    await f.stock(client, m, store, "CAP-1", 109)
    till = await f.device(client, m, store)
    answers = []
    for n in range(3):  # each upload alone would add a cap's worth
        r = await client.post("/v1/pos/events", headers=till, json={"events": _receipts(f"u{n}", 10_000, 100_000)})
        assert r.status_code == 200, r.text[:300]
        answers.append(r.json()["results"])
    first = answers[0]
    assert [x["status"] for x in first[:9_999]] == ["applied"] * 9_999
    assert first[9_999]["status"] == "rejected" and "on_hand would exceed" in first[9_999]["error"]
    assert all(x["status"] == "rejected" for x in answers[1] + answers[2])
    expected = 109 + 9_999 * 100_000
    assert expected <= MAX_ON_HAND
    levels = await f.levels(app)
    assert levels[(store["id"], next(v for (loc, v) in levels if loc == store["id"]))] == (expected, 0)
    assert await f.ledger(app) == {k: v for k, v in levels.items() if v != (0, 0)}

    # The till syncs on: a sale applies, and so does a receipt that fits again.
    later = (utcnow() + timedelta(seconds=10)).isoformat()
    r = await client.post("/v1/pos/events", headers=till, json={"events": [
        f.pos_event("s-1", "sale", "CAP-1", 100_000, later), f.pos_event("r-1", "receive", "CAP-1", 50_000, later)]})
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["applied", "applied"]
    stock = await client.get("/v1/inventory/CAP-1", headers=m.headers, params={"merchant_id": m.id})
    assert stock.status_code == 200
    assert stock.json()["locations"][0]["on_hand"] == expected - 50_000
