"""Prefiltered routers answer exactly as the routers they wrap: matches, path parameters, 405 and 404."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI

from app.core.routing import Prefiltered, literal_starts


def _app() -> FastAPI:
    first, second = APIRouter(prefix="/v1"), APIRouter(prefix="/v1")

    @first.get("/products/{product_id}")
    async def product(product_id: str) -> dict[str, str]:
        return {"product": product_id}

    @second.post("/checkout")
    async def checkout() -> dict[str, str]:
        return {"checkout": "ok"}

    @second.get("/files/{name:path}")
    async def files(name: str) -> dict[str, str]:
        return {"file": name}

    app = FastAPI()
    for router in (first, second):
        app.include_router(Prefiltered(router))
    return app


def test_literal_starts_are_the_paths_up_to_their_first_parameter() -> None:
    router = APIRouter(prefix="/v1")
    router.add_api_route("/products/{product_id}/media", lambda: None)
    router.add_api_route("/checkout", lambda: None, methods=["POST"])
    assert literal_starts(router) == ("/v1/checkout", "/v1/products/")


async def test_prefiltered_routers_match_as_fastapi_does() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t") as c:
        assert (await c.get("/v1/products/p1")).json() == {"product": "p1"}
        assert (await c.post("/v1/checkout")).json() == {"checkout": "ok"}
        assert (await c.get("/v1/files/a/b.txt")).json() == {"file": "a/b.txt"}
        assert (await c.get("/v1/checkout")).status_code == 405  # the path matches, the method does not
        assert (await c.get("/v1/nothing")).status_code == 404
        assert (await c.get("/v1/product")).status_code == 404
