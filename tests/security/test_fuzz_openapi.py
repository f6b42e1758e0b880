"""Property-based fuzzing of the whole OpenAPI schema (schemathesis): no 5xx, no status code the operation does not
declare, every response matches its schema.

The app runs in this process (uvicorn on a thread, 127.0.0.1, a free port) on a fresh, migrated SQLite file,
seeded with a verified merchant and an active, stocked product so that some generated calls succeed. Every
operation is called with the admin token and again with the merchant's key; the operations of shoppers, tills and
wholesale buyers a third time with their own tokens, so generated input gets past authentication and reaches
validation and the services. Each (operation, caller) pair is a test of its own, so a parallel run spreads them;
a worker builds its own server and database (`live_app`), so nothing is shared with other tests. Examples are
bounded (FUZZ_MAX_EXAMPLES, 25 by default) and derandomised, so a run is reproducible.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from app.main import create_app
from tests import factories as f
from tests.conftest import ADMIN_TOKEN, make_settings, sqlite_copy

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))  # raise it locally for a deeper hunt


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _seed(base: str) -> dict[str, str]:
    with httpx.Client(base_url=base, timeout=30) as api:
        def ok(r: httpx.Response) -> dict[str, Any]:
            assert r.status_code < 300, r.text
            return dict(r.json())

        m = ok(api.post("/v1/merchants", json={"name": "模糊测试商户", "kind": "enterprise",
                                                "licence_no": "91350100M000100Y43", "contact_email": "f@example.com"}))
        ok(api.post(f"/v1/admin/merchants/{m['id']}/verify", headers=f.ADMIN))
        headers = f.bearer(m["api_key"])
        loc = ok(api.post("/v1/locations", headers=headers, json={
            "code": "WH1", "name": "仓库", "kind": "warehouse", "address": f.address()}))
        p = ok(api.post("/v1/products", headers=headers, json=f.product_body(skus=("FUZZ-1",))))
        ok(api.put(f"/v1/locations/{loc['id']}/stock/FUZZ-1", headers=headers, json={"on_hand": 1_000}))
        store = ok(api.post("/v1/locations", headers=headers, json={
            "code": "ST1", "name": "门店", "kind": "store", "address": f.address()}))
        device = ok(api.post(f"/v1/locations/{store['id']}/devices", headers=headers, json={"name": "till"}))
        buyer = ok(api.post("/v1/wholesale/buyers", headers=headers, json={"name": "批发客户"}))
        customers = {}
        for name in ("customer", "closing"):
            email = f"fuzz-{name}@example.com"
            ok(api.post("/v1/customers", json={"email": email, "password": "s3cret-pass", "name": "李四"}))
            customers[name] = ok(api.post("/v1/auth/token", data={"username": email, "password": "s3cret-pass"}))
        return {"admin": ADMIN_TOKEN, "merchant": m["api_key"], "device": device["token"], "buyer": buyer["token"],
                "customer": customers["customer"]["access_token"], "closing": customers["closing"]["access_token"],
                "product_id": p["id"]}


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Iterator[dict[str, Any]]:
    url = sqlite_copy(sqlite_template, tmp_path_factory.mktemp("fuzz") / "shop.db")
    app = create_app(make_settings(url))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    thread.start()
    for _ in range(500):  # waiting for the server to start, not a timing assertion
        if server.started:
            break
        time.sleep(0.02)
    assert server.started, "the server did not start"
    base = f"http://127.0.0.1:{port}"
    seeded = _seed(base)
    yield {"app": app, "base": base, **seeded}
    server.should_exit = True
    thread.join(timeout=30)


# The schema is the app's own; building the app opens no database connection.
schema = schemathesis.openapi.from_dict(create_app(make_settings("sqlite+aiosqlite:///:memory:")).openapi())


CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
FUZZ_SETTINGS = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                         suppress_health_check=list(HealthCheck))
# Operations whose callers are neither the admin nor a merchant, by the token each is called with the third time.
OWN_CALLERS = {
    "device": r"^/v1/pos/",
    "buyer": r"^/v1/wholesale/(orders|quotes|account)",
    "closing": r"^/v1/me/close$",  # a customer of its own: closing kills its token
    "customer": r"^/v1/(carts|checkout|complaints|community/group-buys/\{)",
}


def _own_caller(path: str) -> str:
    return next(caller for caller, pattern in OWN_CALLERS.items() if re.match(pattern, path))


def _call(case: Any, live_app: dict[str, Any], caller: str) -> None:
    case.call_and_validate(base_url=live_app["base"], headers={"Authorization": f"Bearer {live_app[caller]}"},
                           checks=CHECKS)


@pytest.mark.fuzz
@pytest.mark.parametrize("caller", ["admin", "merchant"])
@schema.parametrize()
@FUZZ_SETTINGS
def test_api_never_fails_and_matches_its_schema(case: Any, caller: str, live_app: dict[str, Any]) -> None:
    _call(case, live_app, caller)


# A parameter, even of one value, gives each operation's test an id of its own: pytest builds an item's id from its
# parametrisation, and without one all of schemathesis's items here would share one id (tests/conftest.py refuses
# a collection with such twins: they cannot be run apart, and some pytest-xdist schedulers run only one of them).
@pytest.mark.fuzz
@pytest.mark.parametrize("caller", ["own"])
@schema.include(path_regex="|".join(OWN_CALLERS.values())).parametrize()
@FUZZ_SETTINGS
def test_api_as_its_own_callers_never_fails(case: Any, caller: str, live_app: dict[str, Any]) -> None:
    _call(case, live_app, _own_caller(case.path))
