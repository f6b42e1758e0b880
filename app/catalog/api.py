from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.catalog import moderation, options, service, work
from app.catalog.schemas import (
    BulkEdit,
    BulkEditOut,
    CategoryOut,
    CategorySlug,
    DuplicateIn,
    OptionsPut,
    ProductCreate,
    ProductOut,
    ProductPage,
    ProductPatch,
    VariantOut,
)
from app.catalog.search import service as search_service
from app.core.auth import Principal
from app.core.cache import PageCache
from app.core.deps import (
    AuthorizationHeader,
    MerchantDep,
    OptionalPrincipal,
    ReadSessionDep,
    SessionDep,
    SettingsDep,
    principal_of,
    unit_of_work,
)
from app.core.errors import NotFound, field_error
from app.core.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor
from app.db import session_scope

router = APIRouter(prefix="/v1", tags=["catalog"])


def _json(body: object, status: int = 200) -> Response:
    """Serialise service dicts directly (they are built to the response schema)."""
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.post("/products", status_code=201, response_model=ProductOut)
async def create_product(body: ProductCreate, merchant: MerchantDep, session: SessionDep,
                         settings: SettingsDep) -> Response:
    """Listings with prohibited words are held (`pending_review`); forbidden clauses get a 422."""
    product = await service.create_product(session=session, merchant_id=merchant.tenant, product_in=body,
                                           policy=moderation.policy_from(settings))
    return _json(product, 201)


@router.patch("/products/{product_id}", response_model=ProductOut)
async def update_product(product_id: str, body: ProductPatch, merchant: MerchantDep,
                         session: SessionDep, settings: SettingsDep) -> Response:
    product = await service.update_product(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                           patch=body, policy=moderation.policy_from(settings))
    return _json(product)


@router.post("/products/bulk-edit", response_model=BulkEditOut)
async def bulk_edit(body: BulkEdit, merchant: MerchantDep, session: SessionDep, settings: SettingsDep) -> Response:
    """Status (`archived` included), category and/or price by percentage (rounded half up to the fen) for up to
    500 of the merchant's products, in one transaction: one bad id (named `product_ids.N`) changes nothing."""
    return _json(await work.bulk_edit(session=session, merchant_id=merchant.tenant, body=body,
                                      policy=moderation.policy_from(settings)))


@router.post("/products/{product_id}/duplicate", status_code=201, response_model=ProductOut)
async def duplicate_product(product_id: str, merchant: MerchantDep, session: SessionDep, settings: SettingsDep,
                            body: DuplicateIn | None = None) -> Response:
    """A draft copy with every SKU + `sku_suffix` (default `-COPY`), the same options, prices and pictures."""
    return _json(await work.duplicate_product(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                              body=body or DuplicateIn(), policy=moderation.policy_from(settings)),
                 201)


@router.get("/products/{product_id}", response_model=ProductOut)
async def get_product(product_id: str, session: SessionDep, reads: ReadSessionDep,
                      principal: OptionalPrincipal) -> Response:
    """Public when active and its merchant is active; the owner also sees drafts."""
    viewer = principal.merchant_id if principal and principal.kind == "merchant" else None
    return _json(await service.get_product(session=session if principal else reads, product_id=product_id,
                                           viewer_merchant_id=viewer))


@router.put("/products/{product_id}/options", response_model=ProductOut)
async def set_options(product_id: str, body: OptionsPut, merchant: MerchantDep, session: SessionDep) -> Response:
    """Replace the options (颜色, 尺码 ...): a new value brings the variants it makes, priced from `fill`."""
    return _json(await service.set_options(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                           body=body))


@router.get("/products/{product_id}/variant", response_model=VariantOut)
async def pick_variant(product_id: str, session: SessionDep, reads: ReadSessionDep, principal: OptionalPrincipal,
                       option: Annotated[list[str], Query(max_length=3, description="`name:value`, once per option, "
                                                          "e.g. `颜色:红色`")]) -> Response:
    """The variant a shopper picked by its option values (with its pictures)."""
    chosen: dict[str, str] = {}
    for i, pair in enumerate(option):
        name, sep, value = pair.partition(":")
        if not sep or not name or not value or len(pair) > 100:
            raise field_error(f"option.{i}", "write it as name:value")
        chosen[name] = value
    viewer = principal.merchant_id if principal and principal.kind == "merchant" else None
    product = await service.get_product(session=session if principal else reads, product_id=product_id,
                                        viewer_merchant_id=viewer)
    variant = options.pick(product["variants"], chosen)
    if variant is None:
        raise NotFound("variant with those options")
    return _json(variant)


SortQuery = Literal["relevance", "price_asc", "price_desc", "newest", "sales", "credit"]
MoneyQuery = Annotated[int | None, Query(ge=0, le=10**12, description="fen; the product's lowest variant price")]


def _facet_names(facets: str | None) -> tuple[str, ...]:
    if not facets:
        return ()
    names = tuple(dict.fromkeys(n.strip() for n in facets.split(",") if n.strip()))
    for name in names:
        option = name.removeprefix("option.")
        if name not in search_service.FACETS and not (name.startswith("option.") and 0 < len(option) <= 40
                                                      and '"' not in option):
            raise field_error("facets", f"unknown facet {name[:50]!r}: use category, price, merchant or option.<name>")
    if len(names) > 6:
        raise field_error("facets", "at most 6 facets")
    return names


def _option_filters(option: list[str]) -> tuple[tuple[str, str], ...]:
    chosen: dict[str, str] = {}
    for i, pair in enumerate(option):
        name, sep, value = pair.partition(":")
        if not sep or not name or not value or len(pair) > 100 or '"' in name:
            raise field_error(f"option.{i}", "write it as name:value")
        chosen[name] = value
    return tuple(chosen.items())


@router.get("/products", response_model=ProductPage)
async def list_products(
    request: Request,
    q: Annotated[str | None, Query(max_length=200, description="Words, pinyin or initials, a SKU or barcode")] = None,
    category: CategorySlug | None = None,
    merchant_id: Annotated[str | None, Query(max_length=40)] = None,
    sort: Annotated[SortQuery | None, Query(description="`relevance` (the default with `q`; else `newest`); "
                                        "`credit`: the seller's credit score, highest first")] = None,
    personalized: Annotated[bool, Query(description="Results are never personalised: the same query gives everyone "
                                        "the same results, so `false` (the non-personalised option, C12) changes "
                                        "nothing")] = False,
    facets: Annotated[str | None, Query(max_length=300, description="e.g. `category,price,merchant,option.颜色`")
                      ] = None,
    price_min: MoneyQuery = None,
    price_max: MoneyQuery = None,
    option: Annotated[list[str] | None, Query(max_length=3, description="`name:value` filters, e.g. `颜色:红色`")
                      ] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    authorization: AuthorizationHeader = None,
) -> Response:
    """Public listing and search. With `q`: best matches first (a SKU or barcode, then matches in the title,
    then in options, category or pinyin, then anywhere; within those, in stock first, then 30-day sales).
    Without `q`: newest first. `facets` adds counts per value over every match. Nothing is personalised or paid
    for: every item has `is_ad: false`.

    Anonymous pages are kept for `SHOP_CATALOG_CACHE_SECONDS` (see app/core/cache.py).
    """
    # The shoppers' hottest route: like the checkout it resolves its caller and opens its session itself, not
    # through FastAPI's dependencies (a large part of its CPU), and an anonymous request opens only the session of
    # public reads (on the replica while it keeps up: a moment old), a signed-in one the primary's.
    before = decode_cursor(cursor)
    if price_min is not None and price_max is not None and price_min > price_max:
        raise field_error("price_max", "must not be below price_min")
    refine = service.Refinements(sort=sort, facets=_facet_names(facets), price_min=price_min, price_max=price_max,
                                 options=_option_filters(option or []))

    async def respond(session: AsyncSession, principal: Principal | None) -> Response:
        viewer = principal.merchant_id if principal and principal.kind == "merchant" else None
        # Shoppers are answered from the process's copy of the index where it can; a merchant or the operator sees
        # its own writes at once, through the database.
        live = request.app.state.search_live if principal is None or principal.kind == "customer" else None

        async def page() -> bytes:
            items, last, found = await service.list_products_json(
                session=session, q=q, category=category, merchant_id=merchant_id, viewer_merchant_id=viewer,
                before=before, limit=limit, refine=refine, live=live)
            tail = b',"facets":' + orjson.dumps(found) if found is not None else b""
            return (b'{"items":' + items + b',"next_cursor":' + orjson.dumps(encode_cursor(last) if last else None)
                    + tail + b"}")

        pages: PageCache = request.app.state.catalog_cache
        if principal is None and pages.enabled:
            return Response(await pages.get_or_compute(request.url.query, page), media_type="application/json")
        return Response(await page(), media_type="application/json")

    if authorization is not None:
        async with unit_of_work(request) as session:
            return await respond(session, await principal_of(request, session, authorization))
    async with session_scope(await request.app.state.reads.factory()) as reads:
        return await respond(reads, None)


@router.get("/categories", response_model=list[CategoryOut])
async def list_categories(session: ReadSessionDep) -> list[CategoryOut]:
    return [CategoryOut.model_validate(c) for c in await service.list_categories(session=session)]
