"""The pages: their own small application, tried before the API's routes.

Routing walks a list; with the pages behind the API's ~170 routes every page paid for a failed match against
each of them. The pages live in an app of their own behind one route that takes every path whose first segment
is not one of the API's (/v1, /media, /docs ...), so a page is matched among the pages' few routes and an API
call pays one set lookup. The console and leader pages come before the storefront's catch-alls.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from app.web import (
    collection_pages,
    console,
    console_catalog,
    console_delivery,
    console_payments,
    flash_pages,
    ip_pages,
    leader,
    legal,
    payment,
    shipping,
    storefront,
)
from app.web.pages import render

router = APIRouter(include_in_schema=False)
router.include_router(shipping.router)
router.include_router(console_delivery.router)
router.include_router(console.router)
router.include_router(console_payments.router)
router.include_router(leader.router)
router.include_router(payment.router)
router.include_router(console_catalog.router)
router.include_router(collection_pages.router)
router.include_router(ip_pages.router)
router.include_router(flash_pages.router)
router.include_router(legal.router)
router.include_router(storefront.router)

STATIC_DIR = Path(__file__).parent / "static"
class PagesRoute(BaseRoute):
    """Hands every request whose path is not the API's to the pages' app."""

    def __init__(self, app: FastAPI, api_segments: frozenset[str]) -> None:
        self.app = app
        self.api_segments = api_segments

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] == "http" and scope.get("path", "/").split("/", 2)[1] not in self.api_segments:
            return Match.FULL, {}
        return Match.NONE, {}

    def url_path_for(self, name: str, /, **path_params: object) -> URLPath:
        raise NoMatchFound(name, path_params)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def pages_app(api: FastAPI) -> FastAPI:
    """The pages' app, sharing the API app's state (settings, database, secret key)."""
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
    app.state = api.state
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(StarletteHTTPException)
    async def page_error(request: Request, exc: StarletteHTTPException) -> Response:
        return render(request, "error.html", {"messages": [str(exc.detail)], "status": exc.status_code},
                      status=exc.status_code)

    return app


def mount_pages(api: FastAPI, api_routers: Sequence[APIRouter]) -> None:
    """Put the pages first in the API app's routes. The API's paths are those of `api_routers` (as included) and
    of the routes the app declares itself (docs, health)."""
    paths = [str(getattr(r, "path", "")) for r in api.router.routes]
    paths += [a.prefix + str(getattr(r, "path", "")) for a in api_routers for r in a.routes]
    segments = frozenset(_first_segment(p) for p in paths) - {""}
    overlap = segments & {_first_segment(str(getattr(r, "path", ""))) for r in router.routes}
    if overlap:  # a page and an API route under the same first segment would hide one of them
        raise RuntimeError(f"pages and API routes share {sorted(overlap)}")
    api.router.routes.insert(0, PagesRoute(pages_app(api), segments))


def _first_segment(path: str) -> str:
    return path.split("/", 2)[1] if path.startswith("/") else ""
