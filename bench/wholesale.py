"""Benchmark: server time of wholesale batch orders (1,000 and 10,000 lines) on PostgreSQL.

Fresh PostgreSQL database -> ``shop migrate`` -> a merchant, a warehouse and a buyer through the API ->
a set-based seed of N wholesale variants (moq 10, pack 5, three volume tiers) with stock ->
(1) the service-level core of an order, timed alone: every line checked and priced (catalogue, tiers,
buyer prices, locked stock read) and reserved set-based (conditional UPDATE, allocations, ledger rows),
then rolled back; (2) ``POST /v1/wholesale/orders`` with 1,000 and 10,000 lines, ``partial`` (with 37 bad
lines scattered
through it, like the acceptance test) and ``all_or_nothing`` (all good), timed in-process: the app runs
in this process behind an ASGI transport, so the figure is the server's own time (parse, price,
validate, reserve, insert, commit, serialise) without a network or a client in the way.

    .venv/bin/python bench/wholesale.py                  # 3 rounds per size
    .venv/bin/python bench/wholesale.py --rounds 5

Exit status 1 if any order failed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import time
from typing import Any

import httpx
from harness import PgDatabase, install_sigterm_handler, log, migrate, print_table

from app.catalog.models import PriceTier, Product, Variant
from app.config import Settings
from app.core.clock import utcnow
from app.core.ids import new_id
from app.inventory import bulk
from app.inventory import service as inventory_service
from app.inventory.service import LineNeed
from app.main import create_app
from app.wholesale import service
from app.wholesale.models import Buyer

TARGET = "≤ 1.5 s (10,000 lines)"
SIZES = (1_000, 10_000)
TIERS = ((1, 1_000), (50, 900), (100, 800))
BAD_EVERY = 270  # 37 bad lines in 10,000


async def _seed(app: Any, merchant_id: str, location_id: str, n: int) -> list[str]:
    now = utcnow()
    skus = [f"B{i:06d}" for i in range(n)]
    ids = {s: new_id("var") for s in skus}
    product_id = new_id("prd")
    async with app.state.sessionmaker() as session:
        await session.execute(Product.__table__.insert().values(
            id=product_id, merchant_id=merchant_id, title="散装大米 Bulk rice", description="", category="agri",
            status="active", search_text="bulk rice", created_at=now, updated_at=now))
        await session.execute(Variant.__table__.insert(), [
            {"id": ids[s], "product_id": product_id, "merchant_id": merchant_id, "sku": s, "price": 1_200,
             "currency": "CNY", "attributes": {}, "wholesale": True, "moq": 10, "pack_size": 5, "created_at": now}
            for s in skus])
        await session.execute(PriceTier.__table__.insert(), [
            {"id": new_id("tier"), "variant_id": ids[s], "min_qty": q, "unit_price": p}
            for s in skus for q, p in TIERS])
        await inventory_service.load_counts(session, merchant_id=merchant_id, source="bench",
                                            counts=[(location_id, ids[s], 10**8) for s in skus])
        await session.commit()
    return skus


async def _price_validate_reserve(app: Any, buyer_id: str, lines: list[dict[str, Any]]) -> float:
    """The core of an order without the order rows: check and price every line (locking the stock rows),
    then reserve them set-based with allocations and ledger rows; rolled back so stock stays as it was."""
    request = [service.RequestLine(i + 1, f"lines.{i}", ln["sku"], ln["quantity"]) for i, ln in enumerate(lines)]
    async with app.state.sessionmaker() as session:
        buyer = await session.get(Buyer, buyer_id)
        started = time.perf_counter()
        outcome = await service._evaluate(session, buyer=buyer, lines=request, mode="all_or_nothing", lock=True,
                                          quoted=None)
        await bulk.reserve_order(session, merchant_id=buyer.merchant_id, order_id=new_id("ord"),
                                 lines=[LineNeed(ln.variant_id, ln.sku, ln.quantity) for ln in outcome.accepted],
                                 stock=outcome.stock)
        await session.flush()
        elapsed = time.perf_counter() - started
        assert len(outcome.accepted) == len(lines), outcome.errors[:3]
        await session.rollback()
    return elapsed


def _lines(skus: list[str], n: int, offset: int, bad: bool) -> list[dict[str, Any]]:
    lines = []
    for i in range(n):
        sku = skus[(offset + i) % len(skus)]
        qty = 10 + 5 * (i % 30)
        if bad and i % BAD_EVERY == 13:
            qty = 12  # not a pack multiple
        lines.append({"sku": sku, "quantity": qty})
    return lines


async def run(db_url: str, rounds: int) -> tuple[list[tuple[str, str, str, str]], bool]:
    settings = Settings(database_url=db_url, shop_admin_token="bench-admin", shop_background_jobs=False,
                        shop_log_level="warning", shop_log_json=False, shop_max_body_bytes=20 * 1024 * 1024,
                        shop_secret_key="bench-" + "x" * 32)
    app = create_app(settings)
    ok = True
    rows: list[tuple[str, str, str, str]] = []
    cmd = f".venv/bin/python bench/wholesale.py --rounds {rounds}"
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=transport, base_url="http://bench", timeout=120) as client:
        r = await client.post("/v1/merchants", json={"name": "批发商", "kind": "enterprise",
                                                     "licence_no": "91350100M000100Y43",
                                                     "contact_email": "bench@example.com"})
        merchant = r.json()
        await client.post(f"/v1/admin/merchants/{merchant['id']}/verify",
                          headers={"Authorization": "Bearer bench-admin"})
        mh = {"Authorization": f"Bearer {merchant['api_key']}"}
        loc = (await client.post("/v1/locations", headers=mh, json={
            "code": "WH1", "name": "总仓", "kind": "warehouse", "address": {
                "name": "仓库", "phone": "13800138000", "line1": "1 号", "city": "上海", "postal_code": "200000",
                "country": "CN"}})).json()
        buyer = (await client.post("/v1/wholesale/buyers", headers=mh, json={
            "name": "采购公司", "credit_limit": 10**12, "payment_terms_days": 30})).json()
        bh = {"Authorization": f"Bearer {buyer['token']}"}
        started = time.perf_counter()
        skus = await _seed(app, merchant["id"], loc["id"], 20_000)
        log("seeded", variants=len(skus), seconds=round(time.perf_counter() - started, 2))
        offset = 0
        for n in SIZES:
            phase: list[float] = []
            for _ in range(rounds + 1):
                phase.append(await _price_validate_reserve(app, buyer["id"], _lines(skus, n, offset, bad=False)))
                offset += n
            measured = phase[1:] or phase
            rows.append((f"{n:,} lines priced, validated and reserved (service level, median of {len(measured)})",
                         f"{statistics.median(measured):.3f} s (min {min(measured):.3f})",
                         TARGET if n == 10_000 else "-", cmd))
            log("phase", lines=n, seconds=[round(t, 3) for t in phase])
        for n in SIZES:
            for mode in ("all_or_nothing", "partial"):
                times: list[float] = []
                for _ in range(rounds + 1):  # the first round warms up caches and is not counted
                    body = {"merchant_id": merchant["id"], "mode": mode, "payment": "terms",
                            "lines": _lines(skus, n, offset, bad=mode == "partial")}
                    offset += n
                    t0 = time.perf_counter()
                    resp = await client.post("/v1/wholesale/orders", json=body,
                                             headers={**bh, "Idempotency-Key": secrets.token_hex(8)})
                    elapsed = time.perf_counter() - t0
                    if resp.status_code != 201:
                        ok = False
                        log("order.failed", status=resp.status_code, body=resp.text[:300])
                        continue
                    out = resp.json()
                    times.append(elapsed)
                    log("order", lines=n, mode=mode, accepted=out["accepted"], rejected=out["rejected"],
                        seconds=round(elapsed, 3))
                measured = times[1:] or times
                label = f"POST /v1/wholesale/orders {n:,} lines, {mode}"
                extra = ", 37 bad" if mode == "partial" and n == 10_000 else ""
                rows.append((f"{label}{extra} (median of {len(measured)})",
                             f"{statistics.median(measured):.3f} s (min {min(measured):.3f})",
                             TARGET if n == 10_000 else "-", cmd))
    return rows, ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    install_sigterm_handler()
    os.environ.setdefault("SHOP_LOG_LEVEL", "warning")
    with PgDatabase() as db:
        migrate(db.url)
        rows, ok = asyncio.run(run(db.url, args.rounds))
    print_table("Wholesale batch orders (server time, PostgreSQL, in-process)", rows)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
