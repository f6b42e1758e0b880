"""Acceptance: a 10,000-line order with 37 bad lines scattered through it (every kind of line error)."""

import httpx
from sqlalchemy import func, select

from app.inventory.models import StockLevel
from app.orders.models import Order
from tests import factories as f
from tests.wholesale import seed

N = 10_000
BAD = [13 + 269 * k for k in range(37)]  # 0-based positions, scattered from the top to the bottom
KINDS = ["unknown_sku", "below_moq", "not_pack_multiple", "out_of_stock", "not_for_wholesale"]


def _quantity(i: int) -> int:
    return 10 + 5 * (i % 30)  # 10 .. 155: every tier is reached somewhere


async def _reserved(app) -> int:
    async with app.state.sessionmaker() as s:
        return int(await s.scalar(select(func.coalesce(func.sum(StockLevel.reserved), 0))))


async def test_ten_thousand_lines_with_37_bad_ones(client: httpx.AsyncClient, app):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    b = await f.buyer(client, m, credit_limit=2 * 10**9)
    skus = [f"W{i:05d}" for i in range(N)]
    kind_of = {i: KINDS[k % len(KINDS)] for k, i in enumerate(BAD)}
    await seed.catalogue(app, merchant_id=m.id, location_id=wh["id"], skus=skus,
                         not_wholesale={skus[i] for i, k in kind_of.items() if k == "not_for_wholesale"},
                         on_hand={skus[i]: 3 for i, k in kind_of.items() if k == "out_of_stock"})
    lines = []
    for i, sku in enumerate(skus):
        kind = kind_of.get(i)
        qty = {"below_moq": 5, "not_pack_multiple": 12}.get(kind or "", _quantity(i))
        lines.append({"sku": f"NO-SUCH-{i}" if kind == "unknown_sku" else sku, "quantity": qty})
    body = {"merchant_id": m.id, "mode": "all_or_nothing", "payment": "terms", "lines": lines}

    refused = await client.post("/v1/wholesale/orders", headers={**b.headers, "Idempotency-Key": "big-1"}, json=body)
    assert refused.status_code == 422, refused.text[:500]
    problem = refused.json()
    assert problem["type"].endswith("/order-lines-rejected")
    assert [(e["row"], e["code"]) for e in problem["errors"]] == [(i + 1, kind_of[i]) for i in BAD]
    assert all(e["field"] == f"lines.{e['row'] - 1}" and e["message"] for e in problem["errors"])
    assert await _reserved(app) == 0
    async with app.state.sessionmaker() as s:
        assert await s.scalar(select(func.count()).select_from(Order)) == 0

    body["mode"] = "partial"
    placed = await client.post("/v1/wholesale/orders", headers={**b.headers, "Idempotency-Key": "big-2"}, json=body)
    assert placed.status_code == 201, placed.text[:500]
    out = placed.json()
    assert (out["accepted"], out["rejected"]) == (N - 37, 37)
    rejected = [(ln["row"], ln["error_code"]) for ln in out["lines"] if ln["status"] == "rejected"]
    assert rejected == [(i + 1, kind_of[i]) for i in BAD]
    good = [i for i in range(N) if i not in kind_of]
    order = out["order"]
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in order["lines"]] == [
        (skus[i], _quantity(i), seed.tier_price(_quantity(i))) for i in good]
    assert order["total"] == sum(_quantity(i) * seed.tier_price(_quantity(i)) for i in good)
    assert await _reserved(app) == sum(_quantity(i) for i in good)
    assert await f.levels(app) == await f.ledger(app)
