"""The pages: their own small application, tried before the API's routes.

Routing walks a list; with the pages behind the API's ~170 routes every page paid for a failed match against
each of them. The pages live in an app of their own behind one route that takes every path except the API's
(`API_PREFIXES`), so a page is matched among the pages' few routes and an API call pays one prefix test.
The console and leader pages come before the storefront's catch-alls.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, NoMatchFound
from starlette.types import Receive, Scope, Send

from app.web import console, leader, storefront
from app.web.pages import render

router = APIRouter(include_in_schema=False)
router.include_router(console.router)
router.include_router(leader.router)
router.include_router(storefront.router)

STATIC_DIR = Path(__file__).parent / "static"
# Paths served by the API app (everything else is a page): the API, its docs, operations.
API_PREFIXES = ("/v1/", "/v1?", "/docs", "/redoc", "/openapi.json", "/static-offline-docs/", "/healthz", "/readyz",
                "/metrics")


class PagesRoute(BaseRoute):
    """Hands every request whose path is not the API's to the pages' app."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = scope.get("path", "")
        if scope["type"] == "http" and path != "/v1" and not path.startswith(API_PREFIXES):
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


def mount_pages(api: FastAPI) -> None:
    """Put the pages first in the API app's routes."""
    api.router.routes.insert(0, PagesRoute(pages_app(api)))
