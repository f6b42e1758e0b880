"""Anonymous shop pages kept for a moment (`SHOP_PAGE_CACHE_SECONDS`, 1 s by default; 0 turns it off).

A browser without cookies sees the same home, search, category, product and shop pages as every other such
browser, except for its form token. Such a page is rendered once with a placeholder where the token goes; each
request gets the cached bytes with a fresh session id (cookie) and that session's token put in. A commit that
changes the catalogue empties the cache (app/core/cache.py); stock and prices shown are at most that old, and
the cart and checkout always read the database.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request
from starlette.responses import Response

from app.core.cache import PageCache
from app.web import security

PLACEHOLDER = "csrf-placeholder-c4f1e0b9"  # never a real token (those are URL-safe base64 MACs)


def for_anonymous(request: Request) -> bool:
    cache: PageCache | None = getattr(request.app.state, "page_cache", None)
    return bool(cache and cache.enabled and request.method == "GET" and not request.headers.get("cookie"))


async def serve(request: Request, build: Callable[[], Awaitable[Response]]) -> Response:
    """The page from `build`, through the cache when the browser has no cookies."""
    if not for_anonymous(request):
        return await build()
    cache: PageCache = request.app.state.page_cache
    key = f"{request.headers.get('host', '')}{request.url.path}?{request.url.query}"

    async def compute() -> bytes:
        request.state.csrf_placeholder = True
        response = await build()
        if response.status_code != 200:
            raise _NotCacheable(response)
        return bytes(response.body)

    try:
        body = await cache.get_or_compute(key, compute)
    except _NotCacheable as exc:
        return _personal(request, bytes(exc.response.body), exc.response.status_code, exc.response)
    return _personal(request, body, 200, None)


class _NotCacheable(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


def _personal(request: Request, body: bytes, status: int, original: Response | None) -> Response:
    """The page with this browser's own session id and form token."""
    from app.web.pages import SID_COOKIE

    sid = security.new_sid()
    token = security.csrf_token(request.app.state.secret_key, sid)
    response = Response(body.replace(PLACEHOLDER.encode(), token.encode()), status_code=status,
                        media_type="text/html; charset=utf-8")
    if original is not None:
        for name, value in original.headers.items():
            if name.lower() not in ("content-length", "content-type", "set-cookie"):
                response.headers[name] = value
    response.set_cookie(SID_COOKIE, sid, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                        path="/")
    return response
