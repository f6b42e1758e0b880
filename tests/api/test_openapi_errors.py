"""The OpenAPI document declares the errors every operation can answer, as the problem documents they are."""

from __future__ import annotations

from typing import Any

import httpx

from tests import factories as f

SHARED = {"400", "401", "403", "404", "409", "413", "422", "429", "503"}
WITH_A_BODY = {"408", "415"}


async def test_every_operation_declares_its_problems(client: httpx.AsyncClient):
    spec = (await client.get("/openapi.json")).json()
    problem = spec["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    operations = [(path, method, op) for path, item in spec["paths"].items() for method, op in item.items()]
    assert len(operations) > 100
    for path, method, op in operations:
        declared = set(op["responses"])
        expected = SHARED | (WITH_A_BODY if "requestBody" in op else set())
        assert expected <= declared, (method, path, sorted(expected - declared))
        for status in expected:
            content = op["responses"][status]["content"]
            assert content == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}, (
                method, path, status)
        assert "Retry-After" in op["responses"]["429"]["headers"]


def _matches_problem(body: dict[str, Any], status: int) -> None:
    assert isinstance(body["type"], str) and isinstance(body["title"], str) and isinstance(body["detail"], str)
    assert body["status"] == status
    for error in body.get("errors", []):
        assert isinstance(error["field"], str) and isinstance(error["message"], str)


async def test_the_problems_answered_are_the_problems_declared(client: httpx.AsyncClient):
    m = await f.merchant(client)
    answers = [
        (await client.get("/v1/locations"), 401),
        (await client.get("/v1/locations", headers=f.bearer("sk_" + "x" * 43)), 401),
        (await client.get("/v1/admin/merchants", headers=m.headers), 403),
        (await client.get("/v1/orders/ord_nothing", headers=m.headers), 404),
        (await client.post("/v1/products", headers=m.headers, json={"title": ""}), 422),
    ]
    for response, status in answers:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        _matches_problem(response.json(), status)
