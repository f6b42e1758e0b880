"""The storefront's page of a merchant's collection (/collections/{id}): its products on sale, pictures first,
page by page. A minimal page; the storefront's own grid and filters may take it over."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.catalog.collections import service as collections_service
from app.core.deps import SessionDep
from app.core.pagination import decode_cursor, encode_cursor
from app.web import console_catalog  # noqa: F401  (registers the `cny` filter: ¥7,890.00)
from app.web.pages import WebRoute, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 24


@router.get("/collections/{collection_id}")
async def collection_page(request: Request, collection_id: str, session: SessionDep) -> Response:
    collection = await collections_service.get_collection(session=session, collection_id=collection_id[:40],
                                                          viewer_merchant_id=None)
    cursor = request.query_params.get("cursor")
    products, last = await collections_service.products_page(
        session=session, collection_id=collection["id"], viewer_merchant_id=None,
        after=decode_cursor(cursor) if cursor else None, limit=PAGE)
    return render(request, "collection.html", {
        "collection": collection, "products": products,
        "next_url": f"/collections/{collection['id']}?cursor={encode_cursor(last)}" if last else None})
