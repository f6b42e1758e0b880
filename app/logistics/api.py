"""Delivery routes: carriers (public), shipping templates and the delivery promise (merchant), an order's
tracking, and the aggregators' tracking pushes."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response

from app.core.deps import AnyPrincipalDep, MerchantDep, SessionDep, SettingsDep
from app.core.pagination import Page
from app.logistics import carriers, service
from app.logistics.schemas import (
    CarrierOut,
    DeliveryPromiseIn,
    DeliveryPromiseOut,
    PushAnswer,
    ShippingTemplateIn,
    ShippingTemplateOut,
    TrackingOut,
)

router = APIRouter(prefix="/v1", tags=["delivery"])

_FORM = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
    "schema": {"type": "object", "properties": {"param": {"type": "string"}, "sign": {"type": "string"}},
               "required": ["param", "sign"]}}}}}


@router.get("/carriers", response_model=Page[CarrierOut])
async def list_carriers() -> Page[CarrierOut]:
    """The carriers orders ship with, and the tracking numbers each one prints."""
    return Page(items=[CarrierOut(code=c.code, name=c.name, name_en=c.name_en, tracking_pattern=c.pattern,
                                  example=c.example) for c in carriers.CARRIERS])


@router.post("/shipping-templates", status_code=201, response_model=ShippingTemplateOut)
async def create_template(body: ShippingTemplateIn, merchant: MerchantDep, session: SessionDep) -> ShippingTemplateOut:
    """A shipping template (运费模板); attach it to products with their `shipping_template_id`."""
    row = await service.create_template(session=session, merchant_id=merchant.tenant, body=body)
    return ShippingTemplateOut.model_validate(service.template_out(row))


@router.get("/shipping-templates", response_model=Page[ShippingTemplateOut])
async def list_templates(merchant: MerchantDep, session: SessionDep) -> Page[ShippingTemplateOut]:
    rows = await service.list_templates(session=session, merchant_id=merchant.tenant)
    return Page(items=[ShippingTemplateOut.model_validate(service.template_out(r)) for r in rows])


@router.get("/shipping-templates/{template_id}", response_model=ShippingTemplateOut)
async def get_template(template_id: str, merchant: MerchantDep, session: SessionDep) -> ShippingTemplateOut:
    row = await service.get_template(session=session, merchant_id=merchant.tenant, template_id=template_id)
    return ShippingTemplateOut.model_validate(service.template_out(row))


@router.put("/shipping-templates/{template_id}", response_model=ShippingTemplateOut)
async def replace_template(template_id: str, body: ShippingTemplateIn, merchant: MerchantDep,
                           session: SessionDep) -> ShippingTemplateOut:
    """Replace the template's rules; placed orders keep what they were charged."""
    row = await service.replace_template(session=session, merchant_id=merchant.tenant, template_id=template_id,
                                         body=body)
    return ShippingTemplateOut.model_validate(service.template_out(row))


@router.delete("/shipping-templates/{template_id}", status_code=204, response_class=Response)
async def delete_template(template_id: str, merchant: MerchantDep, session: SessionDep) -> Response:
    """Delete a template no product uses (409 otherwise)."""
    await service.delete_template(session=session, merchant_id=merchant.tenant, template_id=template_id)
    return Response(status_code=204)


@router.get("/delivery-promise", response_model=DeliveryPromiseOut)
async def get_promise(merchant: MerchantDep, session: SessionDep) -> DeliveryPromiseOut:
    """What the merchant promises: dispatch within hours of payment (48 by default), delivery days after that."""
    hours, days = await service.get_promise(session, merchant_id=merchant.tenant)
    return DeliveryPromiseOut(ship_within_hours=hours, delivery_days=days)


@router.put("/delivery-promise", response_model=DeliveryPromiseOut)
async def set_promise(body: DeliveryPromiseIn, merchant: MerchantDep, session: SessionDep) -> DeliveryPromiseOut:
    """Change the promise for orders placed from now on."""
    hours, days = await service.set_promise(session=session, merchant_id=merchant.tenant, body=body)
    return DeliveryPromiseOut(ship_within_hours=hours, delivery_days=days)


@router.get("/orders/{order_id}/tracking", response_model=TrackingOut, tags=["orders"])
async def order_tracking(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> TrackingOut:
    """The parcel's journey as the carrier reported it, newest first."""
    return TrackingOut.model_validate(await service.tracking(session, principal=principal, order_id=order_id))


@router.post("/logistics/{provider}/push", response_model=PushAnswer, openapi_extra=_FORM, responses={
    400: {"description": "Signature or content wrong: nothing stored"},
    404: {"description": "No such aggregator, or it is not configured here"}})
async def tracking_push(provider: str, request: Request, session: SessionDep, settings: SettingsDep) -> PushAnswer:
    """A tracking aggregator's push (Kuaidi100's subscription push: form fields `param` and `sign`)."""
    raw = (await request.body()).decode("utf-8", "replace")
    outcome = await service.record_push(session, settings=settings, provider=provider,
                                        form=dict(parse_qsl(raw, keep_blank_values=True)))
    message = "成功" if outcome == "recorded" else "no parcel with this tracking number here"
    return PushAnswer(result=True, returnCode="200", message=message)
