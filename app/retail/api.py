from __future__ import annotations

import re
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm
from starlette.responses import Response

from app.core import bodies, params
from app.core.deps import (
    IDEMPOTENCY_KEY,
    CustomerDep,
    MerchantDep,
    OptionalPrincipal,
    SessionDep,
    SettingsDep,
    principal_of,
    unit_of_work,
)
from app.core.pagination import Page
from app.retail import service
from app.retail.models import Promotion
from app.retail.schemas import (
    AccountClosed,
    CartItemIn,
    CartOut,
    CheckoutIn,
    CheckoutOut,
    CustomerCreate,
    CustomerOut,
    PromotionIn,
    PromotionOut,
    TokenOut,
)
from app.retail.tills import service as till_service

router = APIRouter(prefix="/v1", tags=["retail"])


def _promotion_out(p: Promotion, store_uses: int = 0) -> PromotionOut:
    data = {c: getattr(p, c) for c in ("id", "merchant_id", "code", "kind", "value", "starts_at", "ends_at",
                                        "usage_limit", "used_count", "created_at", "description")}
    data["channels"] = p.channels["channels"]
    data["redemptions_store"] = store_uses
    data["redemptions_online"] = max(p.used_count - store_uses, 0)
    return PromotionOut.model_validate(data)


@router.post("/customers", status_code=201, response_model=CustomerOut, tags=["customers"])
async def register(body: CustomerCreate, session: SessionDep) -> CustomerOut:
    customer = await service.register(session=session, email=body.email, password=body.password, name=body.name,
                                      consents=body.consents)
    return CustomerOut.model_validate(customer)


@router.post("/auth/token", response_model=TokenOut, tags=["customers"])
async def token(form: Annotated[OAuth2PasswordRequestForm, Depends()], request: Request, session: SessionDep,
                settings: SettingsDep) -> TokenOut:
    """OAuth2 password grant: `username` is the e-mail address."""
    access, expires = await service.issue_token(session=session, settings=settings,
                                                secret=request.app.state.secret_key, email=form.username,
                                                password=form.password)
    return TokenOut(access_token=access, expires_in=expires)


@router.post("/carts", status_code=201, response_model=CartOut)
async def create_cart(session: SessionDep, principal: OptionalPrincipal) -> CartOut:
    return CartOut.model_validate(await service.create_cart(session=session, principal=principal))


@router.get("/carts/{cart_id}", response_model=CartOut)
async def get_cart(cart_id: str, session: SessionDep, principal: OptionalPrincipal) -> CartOut:
    return CartOut.model_validate(await service.get_cart(session=session, principal=principal, cart_id=cart_id))


@router.post("/carts/{cart_id}/items", response_model=CartOut)
async def add_item(cart_id: str, body: CartItemIn, session: SessionDep, principal: OptionalPrincipal) -> CartOut:
    cart = await service.add_item(session=session, principal=principal, cart_id=cart_id, variant_id=body.variant_id,
                                  quantity=body.quantity)
    return CartOut.model_validate(cart)


@router.delete("/carts/{cart_id}/items/{variant_id}", response_model=CartOut)
async def remove_item(cart_id: str, variant_id: str, session: SessionDep, principal: OptionalPrincipal) -> CartOut:
    cart = await service.remove_item(session=session, principal=principal, cart_id=cart_id, variant_id=variant_id)
    return CartOut.model_validate(cart)


_PHONE = re.compile(r"Mobile|Android|iPhone|iPad|MicroMessenger|HarmonyOS", re.IGNORECASE)


def device_of(user_agent: str | None) -> str:
    """`phone` for a phone's browser (the providers' phone pages: Alipay's wap pay, WeChat Pay's H5), else
    `desktop` (Alipay's page pay, WeChat Pay's QR code)."""
    return "phone" if user_agent and _PHONE.search(user_agent) else "desktop"


@router.post("/checkout", status_code=201, response_model=CheckoutOut,
             openapi_extra={**params.openapi_parameters(IDEMPOTENCY_KEY), **bodies.openapi_body(CheckoutIn)})
async def checkout(request: Request) -> Response:
    """Reserve stock and create one order per merchant (409 naming every short SKU; nothing reserved then)."""
    # The platform's busiest write takes no FastAPI parameters or dependencies (see `principal_of` and
    # `app.core.params`): the same header, session, caller and body, read in the same order, for less CPU.
    idempotency_key = IDEMPOTENCY_KEY.read(request)
    async with unit_of_work(request) as session:
        principal = await principal_of(request, session, request.headers.get("authorization"))
        body = bodies.parse(CheckoutIn, await request.body())
        status, out = await service.checkout(session=session, settings=request.app.state.settings,
                                             principal=principal, body=body, idempotency_key=idempotency_key,
                                             device=device_of(request.headers.get("user-agent")),
                                             client_ip=request.client.host if request.client else None)
    return Response(orjson.dumps(out), status_code=status, media_type="application/json")


@router.post("/promotions", status_code=201, response_model=PromotionOut)
async def create_promotion(body: PromotionIn, merchant: MerchantDep, session: SessionDep) -> PromotionOut:
    return _promotion_out(await service.create_promotion(session=session, merchant_id=merchant.tenant, body=body))


@router.get("/promotions", response_model=Page[PromotionOut])
async def list_promotions(merchant: MerchantDep, session: SessionDep) -> Page[PromotionOut]:
    """The merchant's promotions; `used_count` counts online and store uses, split in `redemptions_*`."""
    listed = await till_service.promotions_with_store_uses(session, merchant_id=merchant.tenant)
    return Page(items=[_promotion_out(p, store_uses) for p, store_uses in listed])


@router.post("/me/close", response_model=AccountClosed, tags=["customers"])
async def close_account(customer: CustomerDep, session: SessionDep, settings: SettingsDep) -> AccountClosed:
    """Close your account: profile data is deleted at once; your orders are kept under legal hold."""
    out = await service.close_account(session=session, customer_id=str(customer.subject_id),
                                      hold_years=settings.shop_legal_hold_years)
    return AccountClosed.model_validate(out)
