"""Hostile input and secrets: tokens never logged and stored only hashed; SQL injection and oversized
payloads on search and the wholesale CSV are refused cleanly and change nothing."""

from __future__ import annotations

import io
import logging
import sys
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from app.core.logging import configure as configure_logging
from app.db import Base
from app.main import create_app
from tests import factories as f
from tests.conftest import ADMIN_TOKEN, make_settings

INJECTIONS = ["'; DROP TABLE product; --", "\" OR 1=1 --", "%' OR '1'='1", "_%_%", "\\", "x' UNION SELECT * FROM "
              "access_token --", "羽绒服'); DELETE FROM variant; --"]


@pytest.fixture
async def chatty_client(db_url: str, app: Any, monkeypatch: pytest.MonkeyPatch):
    """A second app on the same (emptied) database that logs everything at debug level into `c.log`."""
    buf = io.StringIO()
    original_stderr = sys.stderr
    monkeypatch.setattr(sys, "stderr", buf)  # structlog's printer and logging's stream, as configured at start
    application = create_app(make_settings(db_url, shop_log_level="debug", shop_log_json=True))
    handler = logging.StreamHandler(buf)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as c:
            c.log = buf  # type: ignore[attr-defined]
            yield c
    finally:
        for h in list(root.handlers):
            if getattr(h, "stream", None) is buf:
                root.removeHandler(h)
        root.setLevel(old_level)
        await application.state.engine.dispose()
        monkeypatch.setattr(sys, "stderr", original_stderr)
        configure_logging("warning", json=False)  # as every other test's app configures it


async def _all_rows_as_text(app: Any) -> str:
    parts: list[str] = []
    async with app.state.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                parts.append(" ".join(str(v) for v in row))
    return "\n".join(parts)


async def test_tokens_never_reach_the_logs_or_the_database(chatty_client: httpx.AsyncClient, app: Any):
    client = chatty_client
    s = await f.shop(client, store_on_hand=5)
    till = await f.device(client, s.m, s.store)
    shopper = await f.customer(client)
    buyer = await f.buyer(client, s.m)
    point = await f.pickup_point(client, s.m)
    tokens = {"merchant": s.m.api_key, "device": till["Authorization"][7:], "customer": shopper["Authorization"][7:],
              "buyer": buyer.token, "leader": point["leader_token"], "admin": ADMIN_TOKEN}
    for headers in (s.m.headers, till, shopper, buyer.headers, f.bearer(point["leader_token"]), f.ADMIN):
        for path in ("/v1/locations", "/v1/orders", "/v1/pos/changes", "/v1/wholesale/account",
                     f"/v1/community/pickup-points/{point['id']}/uncollected", "/v1/admin/merchants"):
            assert (await client.get(path, headers=headers)).status_code < 500
    await client.post("/v1/checkout", headers=shopper, json=f.checkout_body([(s.variant_id, 1)]))
    # A wrong token is refused without being echoed back.
    wrong = "sk_live_" + "z" * 40
    r = await client.get("/v1/locations", headers=f.bearer(wrong))
    assert r.status_code == 401 and wrong not in r.text
    tokens["wrong"] = wrong
    logged = client.log.getvalue()  # type: ignore[attr-defined]
    assert "/v1/locations" in logged, "nothing was logged: the check would be empty"
    for kind, token in tokens.items():
        assert token not in logged, f"a {kind} token was logged"
        assert token[-16:] not in logged, f"part of a {kind} token was logged"
    stored = await _all_rows_as_text(app)
    for kind, token in tokens.items():
        assert token not in stored, f"a {kind} token is stored in clear"


async def test_sql_injection_in_search_is_just_text(client: httpx.AsyncClient):
    s = await f.shop(client)
    for q in INJECTIONS:
        r = await client.get("/v1/products", params={"q": q})
        assert r.status_code == 200, (q, r.text)
        assert r.json()["items"] == [], q
    # The tables are still there, with their rows.
    r = await client.get("/v1/products", params={"merchant_id": s.m.id})
    assert [p["id"] for p in r.json()["items"]] == [s.product["id"]]
    assert (await client.get(f"/v1/inventory/{s.sku}", params={"merchant_id": s.m.id})).status_code == 200
    assert (await client.get("/v1/products", params={"q": "x" * 201})).status_code == 422


async def test_oversized_and_hostile_wholesale_csv_is_refused_and_changes_nothing(client: httpx.AsyncClient, app):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    await f.wholesale_product(client, m, wh, sku="RICE-5KG", on_hand=1_000)
    b = await f.buyer(client, m)
    before = await f.levels(app)
    headers = {**b.headers, "Content-Type": "text/csv"}
    big = "sku,quantity\n" + "RICE-5KG,10\n" * (6 * 1024 * 1024 // 12)
    assert len(big) > 6_000_000
    r = await client.post("/v1/wholesale/orders/csv", params={"merchant_id": m.id}, headers=headers, content=big)
    assert r.status_code == 413, r.text[:200]
    for bad in ("sku,quantity\n'; DROP TABLE sales_order; --,10\n", "sku,quantity\nRICE-5KG,10; DELETE FROM x\n",
                "sku,quantity\nRICE-5KG,99999999999999999999\n", "\x00\x01\x02", "sku,quantity\nRICE-5KG\n",
                "sku;quantity\nRICE-5KG;10\n"):
        r = await client.post("/v1/wholesale/orders/csv", params={"merchant_id": m.id}, headers=headers,
                              content=bad.encode())
        assert r.status_code in (400, 422), (bad, r.status_code, r.text[:200])
    # A CSV that is not UTF-8 at all.
    r = await client.post("/v1/wholesale/orders/csv", params={"merchant_id": m.id}, headers=headers,
                          content=b"\xff\xfe\xfa" * 10)
    assert r.status_code in (400, 422), r.text[:200]
    assert await f.levels(app) == before
    orders = await client.get("/v1/orders", headers=m.headers)
    assert orders.status_code == 200 and orders.json()["items"] == []


async def test_oversized_json_bodies_get_413(client: httpx.AsyncClient):
    m = await f.merchant(client)
    body = f.product_body(description="长" * 10)
    body["description"] = "x" * (6 * 1024 * 1024)
    r = await client.post("/v1/products", headers=m.headers, json=body)
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"] == []
