"""Search box suggestions, merchants' synonyms and dictionary words, the operator's zero-result list.
(Searching itself is `GET /v1/products?q=`, app/catalog/api.py.)"""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response

from app.catalog.search import service
from app.catalog.search.schemas import (
    DictionaryOut,
    DictionaryPut,
    MissPage,
    SuggestionsOut,
    SynonymsOut,
    SynonymsPut,
)
from app.core.deps import AdminDep, MerchantDep, SessionDep
from app.core.errors import field_error
from app.core.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor

router = APIRouter(prefix="/v1", tags=["search"])


@router.get("/search/suggest", response_model=SuggestionsOut)
async def suggest(request: Request, q: Annotated[str, Query(max_length=40)] = "") -> Response:
    """Up to 10 title words starting with `q`, or whose pinyin or pinyin initials do (`yur`, `yrf` → 羽绒服); a new
    word within SHOP_SUGGEST_REFRESH_SECONDS of the listing that brought it."""
    # Asked on every keystroke: answered from memory (app/catalog/search/suggestions.py), and the body written
    # directly (the model above documents it), without the response model's validation and encoding.
    state = request.app.state
    return Response(orjson.dumps({"suggestions": await state.suggestions.lookup(state.reads.factory, q)}),
                    media_type="application/json")


@router.get("/search/synonyms", response_model=SynonymsOut)
async def get_synonyms(merchant: MerchantDep, session: SessionDep) -> SynonymsOut:
    return SynonymsOut(groups=await service.merchant_synonyms(session, merchant.tenant))


@router.put("/search/synonyms", response_model=SynonymsOut)
async def put_synonyms(body: SynonymsPut, merchant: MerchantDep, session: SessionDep) -> SynonymsOut:
    """Replace the merchant's synonym groups; they apply to its own products from the next search on (the
    platform's list applies to every product)."""
    return SynonymsOut(groups=await service.set_merchant_synonyms(session, merchant.tenant, body.groups))


@router.get("/search/dictionary", response_model=DictionaryOut)
async def get_dictionary(merchant: MerchantDep, session: SessionDep) -> DictionaryOut:
    return DictionaryOut(words=await service.merchant_dictionary(session, merchant.tenant))


@router.put("/search/dictionary", response_model=DictionaryOut)
async def put_dictionary(body: DictionaryPut, merchant: MerchantDep, session: SessionDep) -> DictionaryOut:
    """Replace the merchant's own words (brands, product names); its products are re-indexed with them before
    this answers."""
    return DictionaryOut(words=await service.set_merchant_dictionary(session, merchant.tenant, body.words))


@router.get("/admin/search/misses", response_model=MissPage)
async def list_misses(admin: AdminDep, session: SessionDep, limit: LimitQuery = 50,
                      cursor: CursorQuery = None) -> MissPage:
    """Searches that found nothing, most frequent first, each with a "did you mean" when a title word is near."""
    position = decode_cursor(cursor)
    if position is not None and not position.isdigit():
        raise field_error("cursor", "not a valid cursor")
    offset = int(position or 0)
    items, more = await service.misses(session, offset=offset, limit=limit)
    return MissPage.model_validate({"items": items,
                                    "next_cursor": encode_cursor(str(offset + limit)) if more else None})
