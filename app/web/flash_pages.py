"""Flash sales (秒杀) on the shop front: the block on product and campaign pages, and the small checkout page.

The block shows the flash price, the list price struck through, what is left in words and a countdown that runs
on the server's clock: the page carries the milliseconds until the sale opens and ends as the server counted
them, and static/flash.js counts down from the moment the page arrived (and asks the API again, so a page kept
for a moment by the anonymous cache is put right), enabling the button at the opening second.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import DomainError
from app.merchants import service as merchants_service
from app.payments import registry as payments_registry
from app.retail import service as retail_service
from app.retail.flash import service as flash_service
from app.retail.flash.api import limit_attempts
from app.retail.flash.schemas import FlashOrderIn
from app.retail.schemas import DeliveryFulfilment
from app.web import checkout_form, i18n
from app.web import payment as web_payment
from app.web.pages import LANG_COOKIE, YEAR, WebRoute, check_csrf, read_cookie, redirect, render, set_cookie

router = APIRouter(route_class=WebRoute, include_in_schema=False)

REFUSALS = ("sold_out", "limit_reached", "not_started", "ended")


def _ms(later: datetime, now: datetime) -> int:
    return max(0, int((later - now).total_seconds() * 1000))


def block(sale: dict[str, Any]) -> dict[str, Any]:
    """What the page's flash-sale block shows of one sale (a public sale as the service reads it)."""
    now = sale["server_time"]
    return {"id": sale["id"], "title": sale["title"], "status": sale["status"], "product_id": sale["product_id"],
            "variant_id": sale["variant_id"], "sku": sale["sku"],
            "price_text": i18n.money(sale["price"], sale["currency"]),
            "list_text": i18n.money(sale["list_price"], sale["currency"]),
            "remaining_text": sale["remaining_text"], "per_buyer_limit": sale["per_buyer_limit"],
            "starts_at": sale["starts_at"], "ends_at": sale["ends_at"],
            "starts_ms": _ms(sale["starts_at"], now), "ends_ms": _ms(sale["ends_at"], now),
            "open": sale["status"] == "live"}


async def product_blocks(session: AsyncSession, product_id: str) -> list[dict[str, Any]]:
    return [block(s) for s in await flash_service.sales_of_product(session, product_id)]


async def campaign_blocks(session: AsyncSession, campaign_id: str) -> list[dict[str, Any]]:
    return [block(s) for s in await flash_service.sales_of_campaign(session, campaign_id)]


def refusal_words(exc: DomainError, lang: i18n.Lang) -> str | None:
    """The Chinese sentence for a refusal of the sale itself (409 with its code, or 429); None for others."""
    if exc.status == 429:
        return i18n.translate(lang, "flash_busy")
    code = exc.extra.get("code")
    if exc.status == 409 and code in REFUSALS:
        return i18n.translate(lang, f"flash_{code}")
    return None


async def _stores(session: AsyncSession, merchant_id: str) -> list[Any]:
    return [loc for loc in await merchants_service.list_locations(session=session, merchant_id=merchant_id)
            if loc.kind in ("store", "pickup_point")]


async def _page(request: Request, session: AsyncSession, sale_id: str, customer_id: str, values: dict[str, str],
                field_errors: dict[str, str], errors: list[str], status: int = 200) -> Response:
    sale = await flash_service.get_sale(session=session, sale_id=sale_id)
    settings = request.app.state.settings
    book = await retail_service.address_book(session=session, customer_id=customer_id)
    return render(request, "flash_checkout.html", {
        "sale": sale, "flash": block(sale), "stores": await _stores(session, sale["merchant_id"]),
        "address_book": book, "book_base": f"/flash/{sale['id']}",
        "payment_options": payments_registry.offered(settings, "retail"),
        "sandboxed": web_payment.SANDBOXED if settings.shop_payments_sandbox else (),
        "hold_minutes": settings.shop_flash_hold_minutes, "values": values, "errors": errors,
        "field_errors": field_errors, "provinces": checkout_form.PROVINCES,
        "key": values.get("key") or secrets.token_urlsafe(16)}, status=status)


@router.get("/flash/{sale_id}")
async def flash_checkout_page(request: Request, sale_id: str, session: SessionDep) -> Response:
    """The flash checkout: a signed-in customer only (anyone else signs in first and comes back)."""
    from app.web.storefront import customer_of  # here: the storefront imports this module for its blocks

    principal = await customer_of(request, session)
    if principal is None or not principal.subject_id:
        return redirect(f"/account/login?next=/flash/{sale_id[:40]}")
    values = {"fulfilment": "delivery", "payment_method": "cod", "country": "CN", "quantity": "1"}
    book = await retail_service.address_book(session=session, customer_id=principal.subject_id)
    wanted = request.query_params.get("address")
    chosen = next((a for a in book if a["id"] == wanted), book[0] if book else None)
    if chosen:
        values.update({k: str(chosen.get(k) or "") for k in checkout_form.ADDRESS_FIELDS})
        values["address_id"] = str(chosen["id"])
    return await _page(request, session, sale_id[:40], principal.subject_id, values, {}, [])


def _body(values: dict[str, str]) -> FlashOrderIn:
    fulfilment: dict[str, Any]
    if values.get("fulfilment") == "pickup":
        fulfilment = {"type": "pickup", "location_id": values.get("location_id", "")}
    else:
        fulfilment = {"type": "delivery", "address": {
            k: values.get(k) or None for k in ("name", "phone", "line1", "district", "city", "province",
                                               "postal_code", "country")}}
    return FlashOrderIn.model_validate({"quantity": values.get("quantity") or "1", "fulfilment": fulfilment,
                                        "payment_method": values.get("payment_method", "cod")})


@router.post("/flash/{sale_id}")
async def flash_checkout(request: Request, sale_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    """Places the flash order through the same service as the API, then on to the order page (or to pay)."""
    from app.web.storefront import ORDERS, PAYMENT, customer_of

    sale_id = sale_id[:40]
    form = await request.form()
    check_csrf(request, form)
    principal = await customer_of(request, session)
    if principal is None or not principal.subject_id:
        return redirect(f"/account/login?next=/flash/{sale_id}")
    lang = i18n.pick(request.cookies.get(LANG_COOKIE))
    values = {k: str(v).strip()[:200] for k, v in form.items() if isinstance(v, str)}
    values["country"] = "CN"
    field_errors = checkout_form.page_checks(values, guest=False, lang=lang)
    if not values.get("quantity", "1").isdigit() or not 1 <= int(values.get("quantity", "1")) <= 99:
        field_errors["quantity"] = i18n.translate(lang, "bad_quantity", max=99)
    if field_errors:
        return await _page(request, session, sale_id, principal.subject_id, values, field_errors, [], status=422)
    try:
        body = _body(values)
        attempts = await limit_attempts(request, settings, principal.subject_id)
        _, out = await flash_service.buy(session=session, settings=settings, gate=request.app.state.flash_gate,
                                         principal=principal, sale_id=sale_id, body=body,
                                         idempotency_key=values.get("key") or None, attempts=attempts)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        words = refusal_words(exc, lang) if isinstance(exc, DomainError) else None
        if words is not None:
            by_field: dict[str, str] = {}
            general = [words]
        else:
            by_field, general = checkout_form.api_errors(exc, lang)
        status = exc.status if isinstance(exc, DomainError) and exc.status in (409, 429) else 422
        return await _page(request, session, sale_id, principal.subject_id, values, by_field, general,
                           status=status)
    if isinstance(body.fulfilment, DeliveryFulfilment):
        await retail_service.remember_address(session=session, customer_id=principal.subject_id,
                                              address=body.fulfilment.address.model_dump(exclude_none=True))
    order_id = str(out["id"])
    known = [i for i in (read_cookie(request, ORDERS) or "").split(",") if i and i != order_id]
    response = redirect(f"/orders/{order_id}?placed=1")
    set_cookie(response, request, ORDERS, ",".join([order_id, *known][:20]), max_age=YEAR)
    if out.get("payment") and out["payment"].get("client_secret"):
        set_cookie(response, request, PAYMENT, out["payment"]["client_secret"], max_age=3600)
    return web_payment.after_checkout(request, response, out)
