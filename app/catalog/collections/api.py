from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from app.catalog import moderation
from app.catalog.collections import service
from app.catalog.collections.schemas import CollectionIn, CollectionOut, CollectionPatch, CollectionProductsIn
from app.catalog.schemas import ProductPage
from app.core.deps import MerchantDep, OptionalPrincipal, SessionDep, SettingsDep
from app.core.errors import field_error
from app.core.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1/collections", tags=["collections"])


def _viewer(principal: OptionalPrincipal) -> str | None:
    return principal.merchant_id if principal and principal.kind == "merchant" else None


@router.post("", status_code=201, response_model=CollectionOut)
async def create_collection(body: CollectionIn, merchant: MerchantDep, session: SessionDep,
                            settings: SettingsDep) -> CollectionOut:
    """A manual collection (`product_ids` in the order shown) or one by rule (category, price range, keyword)."""
    return CollectionOut.model_validate(await service.create_collection(
        session=session, merchant_id=merchant.tenant, body=body, policy=moderation.policy_from(settings)))


@router.get("", response_model=Page[CollectionOut])
async def list_collections(
    session: SessionDep, principal: OptionalPrincipal,
    merchant_id: Annotated[str | None, Query(max_length=40, description="Whose (default: the caller's own)")] = None,
    limit: LimitQuery = 50, cursor: CursorQuery = None,
) -> Page[CollectionOut]:
    """A merchant's collections, newest first: public for an active merchant, its own for a merchant's key."""
    viewer = _viewer(principal)
    whose = merchant_id or viewer
    if whose is None:
        raise field_error("merchant_id", "required without a merchant key")
    items, last = await service.list_collections(session=session, merchant_id=whose, viewer_merchant_id=viewer,
                                                 before=decode_cursor(cursor), limit=limit)
    return Page(items=[CollectionOut.model_validate(c) for c in items],
                next_cursor=encode_cursor(last) if last else None)


@router.get("/{collection_id}", response_model=CollectionOut)
async def get_collection(collection_id: str, session: SessionDep, principal: OptionalPrincipal) -> CollectionOut:
    """Public when its merchant is active; `product_count` counts what the caller sees."""
    return CollectionOut.model_validate(await service.get_collection(
        session=session, collection_id=collection_id, viewer_merchant_id=_viewer(principal)))


@router.patch("/{collection_id}", response_model=CollectionOut)
async def update_collection(collection_id: str, body: CollectionPatch, merchant: MerchantDep, session: SessionDep,
                            settings: SettingsDep) -> CollectionOut:
    return CollectionOut.model_validate(await service.update_collection(
        session=session, merchant_id=merchant.tenant, collection_id=collection_id, patch=body,
        policy=moderation.policy_from(settings)))


@router.delete("/{collection_id}", status_code=204, response_class=Response)
async def delete_collection(collection_id: str, merchant: MerchantDep, session: SessionDep) -> Response:
    """The grouping goes; its products stay."""
    await service.delete_collection(session=session, merchant_id=merchant.tenant, collection_id=collection_id)
    return Response(status_code=204)


@router.get("/{collection_id}/products", response_model=ProductPage)
async def collection_products(collection_id: str, session: SessionDep, principal: OptionalPrincipal,
                              limit: LimitQuery = 50, cursor: CursorQuery = None) -> ProductPage:
    """The products on sale in it (public), in the merchant's order (manual) or newest first (rule)."""
    items, last = await service.products_page(session=session, collection_id=collection_id,
                                              viewer_merchant_id=_viewer(principal), after=decode_cursor(cursor),
                                              limit=limit)
    return ProductPage.model_validate({"items": items, "next_cursor": encode_cursor(last) if last else None})


@router.post("/{collection_id}/products", response_model=CollectionOut)
async def add_products(collection_id: str, body: CollectionProductsIn, merchant: MerchantDep,
                       session: SessionDep) -> CollectionOut:
    """Add products at the end of a manual collection (ones already in it keep their place)."""
    return CollectionOut.model_validate(await service.add_products(
        session=session, merchant_id=merchant.tenant, collection_id=collection_id, product_ids=body.product_ids))


@router.delete("/{collection_id}/products/{product_id}", status_code=204, response_class=Response)
async def remove_product(collection_id: str, product_id: str, merchant: MerchantDep, session: SessionDep) -> Response:
    await service.remove_product(session=session, merchant_id=merchant.tenant, collection_id=collection_id,
                                 product_id=product_id)
    return Response(status_code=204)
