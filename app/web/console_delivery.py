"""The console's delivery settings: shipping templates (运费模板) and the delivery promise.

A template is edited the way Chinese merchants know it from the big platforms: count by piece, weight or volume, a
first unit and each further unit, remote provinces (新疆, 西藏 ...) priced apart, provinces not delivered to, and
free shipping from an amount or a number of pieces. Products take a template on their own page (API field
`shipping_template_id`); the checkout prices each order by it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.deps import SessionDep
from app.core.errors import DomainError
from app.core.money import yuan_to_fen
from app.logistics import rules
from app.logistics import service as logistics_service
from app.logistics.schemas import DeliveryPromiseIn, ShippingTemplateIn
from app.merchants.staff import StaffCtx
from app.web.console import audit, page, staff_of
from app.web.pages import WebRoute, check_csrf, form_errors, redirect

router = APIRouter(prefix="/console/delivery", route_class=WebRoute, include_in_schema=False)

ACTION = "products.edit"


def fen(value: str) -> int | None:
    """Yuan as typed ("8", "12.50", "1,299") to fen; None when blank or not an amount (the schema names it)."""
    try:
        return yuan_to_fen(value.replace(",", "").replace("，", "").replace("¥", "")) if value else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 10 else None


def template_body(form: Any) -> ShippingTemplateIn:
    """The template form as the API's body (money typed in yuan; provinces ticked)."""
    def one(name: str) -> str:
        return str(form.get(name) or "").strip()[:100]

    rate = {"first": _int(one("first")), "first_fee": fen(one("first_fee")),
            "each": _int(one("each")) or 1, "each_fee": fen(one("each_fee")) or 0}
    remote = [str(p)[:20] for p in form.getlist("remote")][:34]
    regions = [{"provinces": remote, "first": rate["first"], "first_fee": fen(one("remote_first_fee")),
                "each": rate["each"], "each_fee": fen(one("remote_each_fee")) or 0}] if remote else []
    return ShippingTemplateIn.model_validate({
        "name": one("name"), "basis": one("basis") or "piece", "rate": rate, "regions": regions,
        "excluded_provinces": [str(p)[:20] for p in form.getlist("excluded")][:34],
        "free_over_amount": fen(one("free_over_amount")) if one("free_over_amount") else None,
        "free_over_count": _int(one("free_over_count")) if one("free_over_count") else None})


async def _page(request: Request, session: AsyncSession, ctx: StaffCtx, *, errors: list[str] | None = None,
                status: int = 200) -> Response:
    templates = [logistics_service.template_out(t) for t in
                 await logistics_service.list_templates(session=session, merchant_id=ctx.merchant_id)]
    hours, days = await logistics_service.get_promise(session, merchant_id=ctx.merchant_id)
    return page(request, "console/delivery.html", {
        "templates": templates, "provinces": rules.PROVINCES, "remote_default": rules.REMOTE_PROVINCES,
        "ship_within_hours": hours, "delivery_days": days, "errors": errors or []}, status=status)


@router.get("")
async def delivery(request: Request, session: SessionDep) -> Response:
    return await _page(request, session, await staff_of(request, session, ACTION))


@router.post("/templates")
async def create_template(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, ACTION)
    form = await request.form()
    check_csrf(request, form)
    try:
        body = template_body(form)
        await audit(session, ctx, "create_shipping_template", "shipping_template", None, name=body.name)
        await logistics_service.create_template(session=session, merchant_id=ctx.merchant_id, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _page(request, session, ctx, errors=form_errors(exc), status=422)
    return redirect("/console/delivery")


@router.post("/templates/{template_id}/delete")
async def delete_template(request: Request, template_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, ACTION)
    check_csrf(request, await request.form())
    try:
        await audit(session, ctx, "delete_shipping_template", "shipping_template", template_id[:40])
        await logistics_service.delete_template(session=session, merchant_id=ctx.merchant_id,
                                                template_id=template_id[:40])
    except DomainError as exc:
        await session.rollback()
        return await _page(request, session, ctx, errors=form_errors(exc), status=exc.status)
    return redirect("/console/delivery")


@router.post("/promise")
async def set_promise(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, ACTION)
    form = await request.form()
    check_csrf(request, form)
    try:
        body = DeliveryPromiseIn.model_validate({"ship_within_hours": _int(form.get("ship_within_hours")),
                                                 "delivery_days": _int(form.get("delivery_days"))})
        await audit(session, ctx, "set_delivery_promise", "merchant", ctx.merchant_id, **body.model_dump())
        await logistics_service.set_promise(session=session, merchant_id=ctx.merchant_id, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _page(request, session, ctx, errors=form_errors(exc), status=422)
    return redirect("/console/delivery")
