"""`shop serve --workers 2` against a database that allows few connections: the pools are sized to fit (and a
SHOP_DB_POOL_SIZE that cannot fit is warned about as it starts), and a burst of concurrent checkouts through two
such servers gets orders, 409s or 503s with Retry-After, never a 500."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.cli import size_pools
from tests import factories as f
from tests.conftest import make_settings
from tests.limited_pg import limited_database
from tests.servers import Server, free_port

LIMIT = 8  # connections the database lets the servers' role hold
STOCK = 40
BUYERS = 150


@pytest.fixture
def limited_url(pg_url: str) -> Iterator[str]:  # pg_url: PostgreSQL answers (or the test skips, or fails in CI)
    with limited_database(LIMIT) as url:
        yield url


def _server(url: str, log: Path, **env: str | None) -> Server:
    # Sized by `shop serve` itself unless the test says otherwise; requests wait briefly, so a burst meets 503s.
    server = Server(url, free_port(), args=["--workers", "2"], log_path=log)
    server.set_env({"SHOP_DB_POOL_SIZE": None, "SHOP_DB_POOL_TIMEOUT": "0.5", **env})
    return server


def _seed(base: str) -> str:
    with httpx.Client(base_url=base, timeout=30) as api:
        def ok(r: httpx.Response) -> dict[str, Any]:
            assert r.status_code < 300, r.text
            return dict(r.json())

        m = ok(api.post("/v1/merchants", json={"name": "抢购商户", "kind": "enterprise",
                                                "licence_no": "91350100M000100Y43", "contact_email": "b@example.com"}))
        ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers=f.ADMIN))
        h = f.bearer(m["api_key"])
        wh = ok(api.post("/v1/locations", headers=h, json={"code": "WH", "name": "仓", "kind": "warehouse",
                                                           "address": f.address()}))
        p = ok(api.post("/v1/products", headers=h, json=f.product_body(skus=("BURST-1",))))
        ok(api.put(f"/v1/locations/{wh['id']}/stock/BURST-1", headers=h, json={"on_hand": STOCK}))
        return str(p["variants"][0]["id"])


def test_a_burst_through_two_servers_gets_answers_or_503s(limited_url: str, tmp_path: Path):
    one, two = _server(limited_url, tmp_path / "one.log"), _server(limited_url, tmp_path / "two.log")
    try:
        one.start()
        two.start()
        variant_id = _seed(one.base)

        async def burst() -> list[httpx.Response]:
            limits = httpx.Limits(max_connections=BUYERS)
            async with httpx.AsyncClient(timeout=60, limits=limits) as client:
                return await asyncio.gather(*(client.post(
                    f"{(one if i % 2 else two).base}/v1/checkout", headers={"Idempotency-Key": f"burst-{i}"},
                    json=f.checkout_body([(variant_id, 1)], email=f"b{i}@example.com")) for i in range(BUYERS)))

        answers = asyncio.run(burst())
    finally:
        one.stop()
        two.stop()
    statuses = [r.status_code for r in answers]
    assert set(statuses) <= {201, 409, 503}, sorted(set(statuses))
    assert statuses.count(201) <= STOCK
    assert all(r.headers.get("retry-after") for r in answers if r.status_code == 503)
    # Each server shared out what the database allows (8, less one kept free) between its two workers.
    assert "database pool: 2 worker(s) x 3 connections (this server may hold 7)" in one.output()
    assert "Traceback" not in one.output() + two.output()


def test_a_pool_size_that_cannot_fit_is_warned_about(limited_url: str, capsys: pytest.CaptureFixture[str]):
    settings = make_settings(limited_url, shop_db_pool_size=20)
    assert size_pools(settings, workers=2) == 20  # as asked, but said to be wrong
    printed = capsys.readouterr()
    assert "warning: 2 workers x 20 connections = 40, but the database allows this server 7" in printed.err
    assert size_pools(make_settings(limited_url, shop_db_pool_size=None), workers=2) == 3
    assert not capsys.readouterr().err
