from __future__ import annotations

import time
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core import auth, bodies, params
from app.core.auth import Principal, SignedCustomer
from app.core.deps import (
    IDEMPOTENCY_KEY,
    MerchantDep,
    SessionDep,
    principal_of,
    unit_of_work,
)
from app.core.errors import DomainError, TooManyRequests
from app.core.http import domain_problem
from app.core.logging import get_logger
from app.core.pagination import Page
from app.core.params import PathParam
from app.core.ratelimit import address_key
from app.retail.flash import service
from app.retail.flash.schemas import (
    FlashOrderIn,
    FlashOrderOut,
    FlashSaleCreated,
    FlashSaleIn,
    FlashSaleOut,
    FlashSaleStats,
)

log = get_logger("app.flash")
router = APIRouter(prefix="/v1/flash-sales", tags=["flash sales"])


@router.post("", status_code=201, response_model=FlashSaleCreated)
async def create_flash_sale(body: FlashSaleIn, merchant: MerchantDep, session: SessionDep,
                            request: Request) -> FlashSaleCreated:
    """A flash sale of one variant: its units are held from free stock now and go back when it ends."""
    return FlashSaleCreated.model_validate(await service.create_sale(
        session=session, merchant_id=merchant.tenant, body=body, gate=request.app.state.flash_gate))


@router.get("", response_model=Page[FlashSaleStats])
async def list_flash_sales(merchant: MerchantDep, session: SessionDep,
                           limit: Annotated[int, Query(ge=1, le=200)] = 50) -> Page[FlashSaleStats]:
    """The merchant's flash sales, newest first, with their live figures (taken, paid, released)."""
    items = await service.list_sales(session=session, merchant_id=merchant.tenant, limit=limit)
    return Page(items=[FlashSaleStats.model_validate(i) for i in items])


@router.get("/{sale_id}", response_model=FlashSaleOut)
async def get_flash_sale(sale_id: str, session: SessionDep, request: Request) -> FlashSaleOut:
    """Public: the price, what is left in words (还剩 3 件 / 已抢光) and the countdown, on the server's clock."""
    return FlashSaleOut.model_validate(await service.get_sale(session=session, sale_id=sale_id,
                                                              factory=request.app.state.sessionmaker))


@router.get("/{sale_id}/stats", response_model=FlashSaleStats)
async def flash_sale_stats(sale_id: str, merchant: MerchantDep, session: SessionDep) -> FlashSaleStats:
    """The merchant's live view of one sale."""
    return FlashSaleStats.model_validate(await service.sale_stats(session=session, merchant_id=merchant.tenant,
                                                                  sale_id=sale_id))


_SALE_ID = PathParam("sale_id")


@router.post("/{sale_id}/orders", status_code=201, response_model=FlashOrderOut,
             openapi_extra={**params.openapi_parameters(_SALE_ID, IDEMPOTENCY_KEY),
                            **bodies.openapi_body(FlashOrderIn)},
             responses={409: {"description": "Refused: `code` is sold_out, limit_reached, not_started or ended"}})
async def order_flash_sale(request: Request) -> Response:
    """A signed-in customer's order at the flash price (held for a few minutes until paid). 409 with a `code`
    when refused; 429 when the buyer (or the address) sends too many attempts, or has one in flight."""
    # The rush's route, nearly all of whose answers are refusals. It takes no FastAPI parameters or dependencies
    # (the same path parameter, header, session, caller and body, read and checked in the same order, for less
    # CPU: `app.core.params`), and it answers a refusal itself rather than unwinding it through the middleware
    # to the exception handler.
    settings: Settings = request.app.state.settings
    sale_id = _SALE_ID.read(request)
    idempotency_key = IDEMPOTENCY_KEY.read(request)
    authorization = request.headers.get("authorization")
    try:
        async with unit_of_work(request) as session:
            customer, signed = await flash_buyer(request, session, authorization)
            body = bodies.parse(FlashOrderIn, await request.body())
            attempts = await limit_attempts(request, settings, str(customer.subject_id))
            status, out = await service.buy(session=session, settings=settings, gate=request.app.state.flash_gate,
                                            principal=customer, sale_id=sale_id, body=body,
                                            idempotency_key=idempotency_key, signed=signed, attempts=attempts,
                                            factory=request.app.state.sessionmaker)
    except DomainError as exc:
        return domain_problem(request, exc)
    return Response(orjson.dumps(out), status_code=status, media_type="application/json")


async def flash_buyer(request: Request, session: AsyncSession, authorization: str | None
                      ) -> tuple[Principal, SignedCustomer | None]:
    """The signed-in customer. A signed access token is read from its signature alone here: whether it was revoked
    is asked of the database only for an attempt the gate lets through (`service.buy`), so that the rush's many
    refused attempts are answered without the database. Any other token is resolved as usual."""
    scheme, _, token = (authorization or "").partition(" ")
    signed = (auth.signed_customer(token=token.strip(), secret=request.app.state.secret_key)
              if scheme.lower() == "bearer" else None)
    if signed is not None:
        request.state.principal = signed.principal
        return signed.principal, signed
    return auth.require(await principal_of(request, session, authorization), "customer"), None


async def limit_attempts(request: Request, settings: Settings, customer_id: str) -> list[tuple[str, int]]:
    """429 when the buyer, or the address, sends more attempts a second than allowed (the pages use it too).
    With the Redis gate, the gate counts them in its admission, in the same round trip: returned for `buy`."""
    attempts = [(f"c:{customer_id}", settings.shop_flash_customer_per_second),
                (f"a:{address_key(request.scope.get('client'))}", settings.shop_flash_address_per_second)]
    if request.app.state.flash_gate is not None:
        return attempts
    for who, per_second in attempts:
        await _limit(request, per_second, f"flash:{who}")
    return []


async def _limit(request: Request, per_second: int, key: str) -> None:
    if not per_second:
        return
    try:
        count = await request.app.state.flash_counter.hit(key, int(time.time()))
    except Exception as exc:  # the counters' Redis is down: the sale's own rules still hold in the database
        log.warning("flash_rate_limit_unavailable", error=str(exc))
        return
    if count > per_second:
        raise TooManyRequests("too many attempts; try again in a second")
