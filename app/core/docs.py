"""ReDoc at /redoc from fastapi-offline's bundled copy, like Swagger UI at /docs: nothing from another host.

The bundle draws the Redocly logo from Redocly's CDN; the script is served here with that one address pointed at
the package's own favicon, so the page loads nothing from elsewhere (tests/web/test_shopper_browser.py blocks every
other host)."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html
from starlette.responses import HTMLResponse, Response

STATIC = "/static-offline-docs"  # where FastAPIOffline mounts its bundled files
REMOTE_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"


@cache
def _redoc_js() -> bytes:
    source = (files("fastapi_offline") / "static" / "redoc.standalone.js").read_text(encoding="utf-8")
    return source.replace(REMOTE_LOGO, f"{STATIC}/favicon.png").encode()


def install(app: FastAPI) -> None:
    """/redoc and its script (build the app with `redoc_url=None`)."""

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} - ReDoc",
                              redoc_js_url="/redoc.js", with_google_fonts=False,
                              redoc_favicon_url=f"{STATIC}/favicon.png")

    @app.get("/redoc.js", include_in_schema=False)
    async def redoc_js() -> Response:
        return Response(_redoc_js(), media_type="text/javascript", headers={"Cache-Control": "public, max-age=3600"})
