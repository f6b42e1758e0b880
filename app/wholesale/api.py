from __future__ import annotations

import hashlib
from typing import Annotated

import orjson
from fastapi import APIRouter, Body, Query, Request
from starlette.responses import Response

from app.core import bodies, idempotency
from app.core.deps import AnyPrincipalDep, BuyerDep, IdempotencyKey, MerchantDep, SessionDep, SettingsDep
from app.core.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor
from app.wholesale import service
from app.wholesale.schemas import (
    BuyerCreate,
    BuyerCreated,
    BuyerOut,
    BuyerPricesIn,
    BuyerPricesOut,
    BuyerTokenOut,
    Mode,
    PaymentKind,
    QuoteAcceptIn,
    QuoteCreate,
    QuoteOut,
    QuoteResponseIn,
    ReorderIn,
    WholesaleOrderIn,
    WholesaleOrderOut,
)

router = APIRouter(prefix="/v1/wholesale", tags=["wholesale"])

_CSV_BODY = {"requestBody": {"required": True, "content": {"text/csv": {
    "schema": {"type": "string"}, "example": "sku,quantity\r\nRICE-5KG,120\r\n\"TEA-GREEN\",40\r\n"}}}}


def _json(status: int, body: object) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


@router.post("/buyers", status_code=201, response_model=BuyerCreated)
async def create_buyer(body: BuyerCreate, merchant: MerchantDep, session: SessionDep) -> BuyerCreated:
    """Register a business buyer (credit limit in fen, net payment days); returns its first buyer token, once."""
    buyer, token = await service.create_buyer(session=session, merchant_id=merchant.tenant, body=body)
    return BuyerCreated(id=buyer.id, token=token)


@router.get("/buyers", response_model=Page[BuyerOut])
async def list_buyers(merchant: MerchantDep, session: SessionDep, limit: LimitQuery = 50,
                      cursor: CursorQuery = None) -> Page[BuyerOut]:
    items, last = await service.list_buyers(session=session, merchant_id=merchant.tenant,
                                            after=decode_cursor(cursor), limit=limit)
    return Page(items=[BuyerOut.model_validate(i) for i in items], next_cursor=encode_cursor(last) if last else None)


@router.get("/buyers/{buyer_id}", response_model=BuyerOut)
async def get_buyer(buyer_id: str, merchant: MerchantDep, session: SessionDep) -> BuyerOut:
    """A buyer with its credit: limit, used (unpaid terms orders) and open."""
    return BuyerOut.model_validate(await service.get_buyer(session=session, merchant_id=merchant.tenant,
                                                           buyer_id=buyer_id))


@router.get("/account", response_model=BuyerOut)
async def own_account(buyer: BuyerDep, session: SessionDep) -> BuyerOut:
    """Buyer: its own account with the merchant — credit limit, unpaid terms orders, open credit, terms."""
    return BuyerOut.model_validate(await service.own_credit(session=session, principal=buyer))


@router.post("/buyers/{buyer_id}/tokens", status_code=201, response_model=BuyerTokenOut)
async def issue_buyer_token(buyer_id: str, merchant: MerchantDep, session: SessionDep,
                            label: Annotated[str, Query(max_length=200)] = "") -> BuyerTokenOut:
    """Another token for the same buyer company (one per purchasing clerk)."""
    token = await service.issue_buyer_token(session=session, merchant_id=merchant.tenant, buyer_id=buyer_id,
                                            label=label)
    return BuyerTokenOut(buyer_id=buyer_id, token=token)


@router.put("/buyers/{buyer_id}/prices", response_model=BuyerPricesOut)
async def set_buyer_prices(buyer_id: str, body: BuyerPricesIn, merchant: MerchantDep,
                           session: SessionDep) -> BuyerPricesOut:
    """Replace the buyer's own price list (per SKU, tiered by `min_qty`); it overrides the variant's tiers."""
    out = await service.set_prices(session=session, merchant_id=merchant.tenant, buyer_id=buyer_id,
                                   prices=body.prices)
    return BuyerPricesOut.model_validate(out)


@router.post("/orders", status_code=201, response_model=WholesaleOrderOut,
             openapi_extra=bodies.openapi_body(WholesaleOrderIn))
async def place_order(request: Request, buyer: BuyerDep, session: SessionDep, settings: SettingsDep,
                      idempotency_key: IdempotencyKey = None) -> Response:
    """A batch order of up to 10,000 lines. `all_or_nothing`: 422 listing every bad line (row, SKU, reason) and
    nothing ordered; `partial`: the good lines are ordered and the bad ones listed as `rejected`.
    The same SKU on two rows is reported (`duplicate_sku`), not merged. A retry under the same Idempotency-Key
    sends the same bytes."""
    raw = await request.body()  # validated from the bytes (`bodies`); the key's fingerprint is their digest
    body = bodies.parse(WholesaleOrderIn, raw)
    order = service.OrderRequest(
        merchant_id=body.merchant_id, mode=body.mode, payment=body.payment,
        lines=service.json_lines([(ln.sku, ln.quantity) for ln in body.lines]), source="json",
        fingerprint=idempotency.request_hash("wholesale-order", hashlib.sha256(raw).hexdigest()),
        ship_to=body.ship_to.model_dump(exclude_none=True) if body.ship_to else None)
    status, out = await service.place_order(session=session, settings=settings, principal=buyer, request=order,
                                            idempotency_key=idempotency_key)
    return _json(status, out)


@router.post("/orders/csv", status_code=201, response_model=WholesaleOrderOut, openapi_extra=_CSV_BODY)
async def place_csv_order(request: Request, buyer: BuyerDep, session: SessionDep, settings: SettingsDep,
                          merchant_id: Annotated[str, Query(min_length=1, max_length=40)],
                          mode: Mode = "all_or_nothing", payment: PaymentKind = "terms",
                          idempotency_key: IdempotencyKey = None) -> Response:
    """The same order as a `text/csv` body with the header `sku,quantity` (BOM, CRLF, blank lines and quoted
    fields are fine). Rows are the file's line numbers; an unreadable file is a 400 naming the line."""
    raw = await request.body()
    order = service.OrderRequest(
        merchant_id=merchant_id, mode=mode, payment=payment, lines=service.csv_lines(raw), source="csv",
        fingerprint=idempotency.request_hash("wholesale-order-csv", merchant_id, mode, payment, raw.hex()))
    status, out = await service.place_order(session=session, settings=settings, principal=buyer, request=order,
                                            idempotency_key=idempotency_key)
    return _json(status, out)


@router.post("/orders/{order_id}/reorder", status_code=201, response_model=WholesaleOrderOut)
async def reorder(order_id: str, buyer: BuyerDep, session: SessionDep, settings: SettingsDep,
                  body: Annotated[ReorderIn | None, Body()] = None,
                  idempotency_key: IdempotencyKey = None) -> Response:
    """Repeat an earlier wholesale order at today's prices (default `partial`, same payment method)."""
    opts = body or ReorderIn()
    status, out = await service.reorder(session=session, settings=settings, principal=buyer, order_id=order_id,
                                        mode=opts.mode, payment=opts.payment, idempotency_key=idempotency_key)
    return _json(status, out)


@router.post("/quotes", status_code=201, response_model=QuoteOut)
async def request_quote(body: QuoteCreate, buyer: BuyerDep, session: SessionDep) -> QuoteOut:
    """Ask the merchant for prices (request for quotation)."""
    out = await service.request_quote(session=session, principal=buyer, merchant_id=body.merchant_id,
                                      lines=[(ln.sku, ln.quantity) for ln in body.lines])
    return QuoteOut.model_validate(out)


@router.get("/quotes/{quote_id}", response_model=QuoteOut)
async def get_quote(quote_id: str, principal: AnyPrincipalDep, session: SessionDep) -> QuoteOut:
    return QuoteOut.model_validate(await service.get_quote(session=session, principal=principal, quote_id=quote_id))


@router.post("/quotes/{quote_id}/respond", response_model=QuoteOut)
async def respond_quote(quote_id: str, body: QuoteResponseIn, merchant: MerchantDep, session: SessionDep) -> QuoteOut:
    """The merchant prices every line and says until when the prices hold."""
    out = await service.respond_quote(session=session, principal=merchant, quote_id=quote_id,
                                      prices=[(ln.sku, ln.unit_price) for ln in body.lines],
                                      valid_until=body.valid_until)
    return QuoteOut.model_validate(out)


@router.post("/quotes/{quote_id}/accept", status_code=201, response_model=WholesaleOrderOut)
async def accept_quote(quote_id: str, buyer: BuyerDep, session: SessionDep, settings: SettingsDep,
                       body: Annotated[QuoteAcceptIn | None, Body()] = None,
                       idempotency_key: IdempotencyKey = None) -> Response:
    """An order at the quoted prices; an expired quote cannot be accepted (409)."""
    status, out = await service.accept_quote(session=session, settings=settings, principal=buyer,
                                             quote_id=quote_id, payment=(body or QuoteAcceptIn()).payment,
                                             idempotency_key=idempotency_key)
    return _json(status, out)
