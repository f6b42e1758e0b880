"""The merchant console: log in with the API key; products, stock, orders, devices, conflicts, B2B, community."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.catalog import service as catalog_service
from app.catalog.schemas import ProductCreate
from app.community import service as community_service
from app.core import auth
from app.core.auth import Principal
from app.core.clock import SHANGHAI, utcnow
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import DomainError, NotFound
from app.inventory import service as inventory_service
from app.inventory.pos import service as pos_service
from app.merchants import service as merchants_service
from app.orders import access as orders_access
from app.orders import cancellation as orders_cancellation
from app.orders import fulfilment as orders_fulfilment
from app.orders import views as orders_views
from app.reports import service as reports_service
from app.retail.campaigns import service as campaigns_service
from app.retail.campaigns.schemas import CampaignIn, CampaignJoin
from app.web import charts, i18n, reads
from app.web.pages import LoginRequired, WebRoute, check_csrf, form_errors, read_cookie, redirect, render, set_cookie
from app.wholesale import service as wholesale_service
from app.wholesale.schemas import BuyerCreate

router = APIRouter(prefix="/console", route_class=WebRoute, include_in_schema=False)

MERCHANT_COOKIE = "mkey"


async def merchant_of(request: Request, session: AsyncSession) -> Principal:
    """The merchant whose API key is in the signed HttpOnly cookie; LoginRequired otherwise."""
    key = read_cookie(request, MERCHANT_COOKIE)
    if key:
        try:
            principal = await auth.resolve(session, token=key, admin_token=None, secret=request.app.state.secret_key)
        except DomainError:
            principal = None
        if principal is not None and principal.kind == "merchant":
            return principal
    raise LoginRequired("/console/login")


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    check_csrf(request, form)
    return {k: str(v).strip()[:2000] for k, v in form.items() if isinstance(v, str)}


def _fen(value: str | None) -> int | None:
    """Yuan as typed in a form ("12.5") to fen; None when it is not a number."""
    try:
        return round(float(value or "") * 100)
    except ValueError:
        return None


@router.get("/login")
async def login_page(request: Request) -> Response:
    return render(request, "console/login.html", {"errors": []})


@router.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    values = await _form(request)
    key = values.get("api_key", "")[:200]
    principal = None
    with contextlib.suppress(DomainError):
        principal = await auth.resolve(session, token=key, admin_token=None, secret=request.app.state.secret_key)
    if principal is None or principal.kind != "merchant":
        return render(request, "console/login.html", {"errors": [i18n.translate(
            i18n.pick(request.cookies.get("lang")), "wrong_key")]}, status=401)
    response = redirect("/console/")
    set_cookie(response, request, MERCHANT_COOKIE, key, max_age=12 * 3600)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    await _form(request)
    response = redirect("/console/login")
    response.delete_cookie(MERCHANT_COOKIE, path="/")
    return response


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    today = utcnow().astimezone(SHANGHAI).date()
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=13)
    except ValueError:
        last, first = today, today - timedelta(days=13)
    return first, last


async def _share(request: Request, session: AsyncSession, merchant_id: str, first: date, last: date
                 ) -> tuple[dict[str, Any], str]:
    report = await reports_service.channel_share(session, merchant_id=merchant_id, start=first, end=last)
    by_day = {d["date"]: d for d in report["days"]}
    days = [charts.DayBar(label=f"{d:%m-%d}", online=by_day.get(d, {}).get("online_sales", 0),
                          offline=by_day.get(d, {}).get("offline_sales", 0))
            for d in (first + timedelta(days=i) for i in range((last - first).days + 1))]
    lang = i18n.pick(request.cookies.get("lang"))
    svg = charts.channel_bars(days, title=i18n.translate(lang, "channel_share"),
                              online_label=i18n.translate(lang, "online"),
                              offline_label=i18n.translate(lang, "offline"))
    return report, svg


@router.get("/")
async def dashboard(request: Request, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    first, last = _period(None, None)
    report, svg = await _share(request, session, merchant.tenant, first, last)
    orders, _ = await orders_access.list_for(session, principal=merchant, status=None, channel=None, before=None,
                                              limit=10)
    info = await merchants_service.get(session=session, merchant_id=merchant.tenant)
    return render(request, "console/dashboard.html", {"report": report, "svg": svg, "orders": orders,
                                                      "merchant": info, "first": first, "last": last})


@router.get("/reports/channel-share")
async def channel_share(request: Request, session: SessionDep, start: str | None = None,
                        end: str | None = None) -> Response:
    merchant = await merchant_of(request, session)
    first, last = _period(start, end)
    report, svg = await _share(request, session, merchant.tenant, first, last)
    return render(request, "console/channel_share.html", {"report": report, "svg": svg, "first": first,
                                                          "last": last})


# ---- products and stock ----------------------------------------------------------------------------------

async def _products_page(request: Request, session: AsyncSession, merchant: Principal, errors: list[str],
                         status: int = 200) -> Response:
    products, _ = await catalog_service.list_products(session=session, q=None, category=None,
                                                      merchant_id=merchant.tenant, viewer_merchant_id=merchant.tenant,
                                                      before=None, limit=100)
    categories = await catalog_service.list_categories(session=session)
    return render(request, "console/products.html", {"products": products, "categories": categories,
                                                     "errors": errors}, status=status)


@router.get("/products")
async def products(request: Request, session: SessionDep) -> Response:
    return await _products_page(request, session, await merchant_of(request, session), [])


@router.post("/products")
async def create_product(request: Request, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    v = await _form(request)
    try:
        body = ProductCreate.model_validate({
            "title": v.get("title"), "category": v.get("category"), "description": v.get("description", ""),
            "status": v.get("status", "active"),
            "variants": [{"sku": v.get("sku"), "price": _fen(v.get("price"))}]})
        await catalog_service.create_product(session=session, merchant_id=merchant.tenant, product_in=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _products_page(request, session, merchant, form_errors(exc), status=422)
    return redirect("/console/products")


async def _stock_page(request: Request, session: AsyncSession, merchant: Principal, errors: list[str],
                      status: int = 200) -> Response:
    locations = await merchants_service.list_locations(session=session, merchant_id=merchant.tenant)
    return render(request, "console/stock.html", {
        "levels": await reads.stock_table(session, merchant_id=merchant.tenant), "locations": locations,
        "errors": errors}, status=status)


@router.get("/stock")
async def stock(request: Request, session: SessionDep) -> Response:
    return await _stock_page(request, session, await merchant_of(request, session), [])


@router.post("/stock")
async def set_stock(request: Request, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    v = await _form(request)
    try:
        on_hand = int(v.get("on_hand", ""))
    except ValueError:
        return await _stock_page(request, session, merchant, ["on_hand: a whole number"], status=422)
    location = await merchants_service.get_location(session=session, merchant_id=merchant.tenant,
                                                    location_id=v.get("location_id", ""))
    if location is None or not 0 <= on_hand <= 10**9:
        return await _stock_page(request, session, merchant, ["location_id / on_hand"], status=422)
    try:
        await inventory_service.set_stock_by_sku(session, merchant_id=merchant.tenant, location_id=location.id,
                                                 sku=v.get("sku", "")[:64], on_hand=on_hand, safety_stock=None,
                                                 source="console",
                                                 key=f"console:{utcnow().isoformat()}:{v.get('sku', '')[:64]}")
    except DomainError as exc:
        await session.rollback()
        return await _stock_page(request, session, merchant, form_errors(exc), status=422)
    return redirect("/console/stock")


# ---- orders ----------------------------------------------------------------------------------------------

@router.get("/orders")
async def orders(request: Request, session: SessionDep, status: str | None = None) -> Response:
    merchant = await merchant_of(request, session)
    found, _ = await orders_access.list_for(session, principal=merchant, status=status or None, channel=None,
                                             before=None, limit=100)
    return render(request, "console/orders.html", {"orders": found, "status": status or ""})


@router.get("/orders/{order_id}")
async def order_detail(request: Request, order_id: str, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    order = await orders_access.get_visible(session, principal=merchant, order_id=order_id)
    return render(request, "console/order.html", {"order": await orders_views.view(session, order=order)})


@router.post("/orders/{order_id}/{action}")
async def order_action(request: Request, order_id: str, action: str, session: SessionDep,
                       settings: SettingsDep) -> Response:
    """Ship, deliver, complete, or cancel (which refunds what was paid)."""
    merchant = await merchant_of(request, session)
    v = await _form(request)
    match action:
        case "ship":
            await orders_fulfilment.ship(session, principal=merchant, order_id=order_id,
                                      carrier=v.get("carrier", "")[:60] or "-",
                                      tracking_no=v.get("tracking_no", "")[:60] or "-")
        case "deliver":
            await orders_fulfilment.deliver(session, principal=merchant, order_id=order_id)
        case "complete":
            await orders_fulfilment.complete(session, principal=merchant, order_id=order_id)
        case "cancel":
            await orders_cancellation.cancel(session, settings=settings, principal=merchant, order_id=order_id,
                                        reason=v.get("reason", "")[:200] or "cancelled by the merchant")
        case _:
            raise NotFound("action", action)
    return redirect(f"/console/orders/{order_id}")


# ---- devices and conflicts -------------------------------------------------------------------------------

async def _devices_page(request: Request, session: AsyncSession, merchant: Principal,
                        new_token: str | None = None) -> Response:
    locations = [loc for loc in await merchants_service.list_locations(session=session, merchant_id=merchant.tenant)
                 if loc.kind in ("store", "pickup_point")]
    devices = {loc.id: await merchants_service.list_devices(session=session, location=loc) for loc in locations}
    return render(request, "console/devices.html", {"locations": locations, "devices": devices,
                                                    "new_token": new_token})


@router.get("/devices")
async def devices(request: Request, session: SessionDep) -> Response:
    return await _devices_page(request, session, await merchant_of(request, session))


@router.post("/devices")
async def add_device(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    merchant = await merchant_of(request, session)
    v = await _form(request)
    location = await merchants_service.get_location(session=session, merchant_id=merchant.tenant,
                                                    location_id=v.get("location_id", ""))
    if location is None:
        raise NotFound("location", v.get("location_id"))
    _, token = await merchants_service.create_device(session=session, location=location,
                                                     name=v.get("name", "")[:100] or "POS",
                                                     sync_lag_minutes=settings.shop_pos_sync_lag_minutes)
    return await _devices_page(request, session, merchant, new_token=token)


@router.get("/conflicts")
async def conflicts(request: Request, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    found, _ = await pos_service.list_conflicts(session, merchant_id=merchant.tenant, status=None, after=None,
                                                limit=100)
    return render(request, "console/conflicts.html", {"conflicts": found})


@router.post("/conflicts/{conflict_id}/resolve")
async def resolve_conflict(request: Request, conflict_id: str, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    v = await _form(request)
    await pos_service.resolve_conflict(session, merchant_id=merchant.tenant, conflict_id=conflict_id,
                                       resolution=v.get("resolution", "")[:500] or "resolved")
    return redirect("/console/conflicts")


# ---- wholesale -------------------------------------------------------------------------------------------

async def _wholesale_page(request: Request, session: AsyncSession, merchant: Principal, *, errors: list[str],
                          new_token: str | None = None, quote: dict[str, Any] | None = None,
                          status: int = 200) -> Response:
    buyers, _ = await wholesale_service.list_buyers(session=session, merchant_id=merchant.tenant, after=None,
                                                    limit=200)
    return render(request, "console/wholesale.html", {"buyers": buyers, "errors": errors, "new_token": new_token,
                                                      "quote": quote}, status=status)


@router.get("/wholesale")
async def wholesale(request: Request, session: SessionDep, quote_id: str | None = None) -> Response:
    merchant = await merchant_of(request, session)
    quote = (await wholesale_service.get_quote(session=session, principal=merchant, quote_id=quote_id[:40])
             if quote_id else None)
    return await _wholesale_page(request, session, merchant, errors=[], quote=quote)


@router.post("/wholesale/buyers")
async def add_buyer(request: Request, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    v = await _form(request)
    try:
        body = BuyerCreate.model_validate({"name": v.get("name"), "credit_limit": _fen(v.get("credit_limit")) or 0,
                                           "payment_terms_days": v.get("payment_terms_days") or 30})
        _, token = await wholesale_service.create_buyer(session=session, merchant_id=merchant.tenant, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _wholesale_page(request, session, merchant, errors=form_errors(exc), status=422)
    return await _wholesale_page(request, session, merchant, errors=[], new_token=token)


# ---- community -------------------------------------------------------------------------------------------

async def _community_page(request: Request, session: AsyncSession, merchant: Principal,
                          new_token: str | None = None) -> Response:
    group_buys, _ = await community_service.list_group_buys(session=session, merchant_id=merchant.tenant,
                                                            status=None, before=None, limit=100)
    points = await community_service.list_pickup_points(session=session, merchant_id=merchant.tenant)
    return render(request, "console/group_buys.html", {"group_buys": group_buys, "points": points,
                                                       "new_token": new_token})


@router.get("/group-buys")
async def group_buys(request: Request, session: SessionDep) -> Response:
    return await _community_page(request, session, await merchant_of(request, session))


@router.post("/group-buys/{group_buy_id}/close")
async def close_group_buy(request: Request, group_buy_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    merchant = await merchant_of(request, session)
    await _form(request)
    await community_service.close_group_buy(session=session, settings=settings, merchant_id=merchant.tenant,
                                            group_buy_id=group_buy_id)
    return redirect("/console/group-buys")


@router.post("/pickup-points/{point_id}/leader-token")
async def leader_token(request: Request, point_id: str, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    await _form(request)
    token = await community_service.reissue_leader_token(session=session, merchant_id=merchant.tenant,
                                                         pickup_point_id=point_id)
    return await _community_page(request, session, merchant, new_token=token)


# ---- festival campaigns ----------------------------------------------------------------------------------

def _ids(value: str | None) -> list[str]:
    return [x.strip() for x in (value or "").replace("，", ",").split(",") if x.strip()][:200]


def _local_datetime(value: str | None) -> str | None:
    """A `datetime-local` form value, read as Shanghai time, to RFC 3339."""
    try:
        return datetime.fromisoformat(value or "").replace(tzinfo=SHANGHAI).isoformat()
    except ValueError:
        return None


async def _campaigns_page(request: Request, session: AsyncSession, merchant: Principal, errors: list[str],
                          status: int = 200) -> Response:
    found = await campaigns_service.list_campaigns(session=session, merchant_id=merchant.tenant,
                                                   include_ended=True, limit=100)
    return render(request, "console/campaigns.html", {"campaigns": found, "errors": errors,
                                                      "merchant_id": merchant.tenant}, status=status)


@router.get("/campaigns")
async def campaigns(request: Request, session: SessionDep) -> Response:
    return await _campaigns_page(request, session, await merchant_of(request, session), [])


@router.post("/campaigns")
async def create_campaign(request: Request, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    v = await _form(request)
    try:
        body = CampaignIn.model_validate({
            "slug": v.get("slug"), "title": v.get("title"), "headline": v.get("headline", ""),
            "starts_at": _local_datetime(v.get("starts_at")), "ends_at": _local_datetime(v.get("ends_at")),
            "product_ids": _ids(v.get("product_ids")), "promotion_codes": _ids(v.get("promotion_codes"))})
        await campaigns_service.create_campaign(session=session, merchant_id=merchant.tenant, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _campaigns_page(request, session, merchant, form_errors(exc), status=422)
    return redirect("/console/campaigns")


@router.post("/campaigns/{campaign_id}/items")
async def join_campaign(request: Request, campaign_id: str, session: SessionDep) -> Response:
    merchant = await merchant_of(request, session)
    v = await _form(request)
    try:
        body = CampaignJoin.model_validate({"product_ids": _ids(v.get("product_ids")),
                                            "promotion_codes": _ids(v.get("promotion_codes"))})
        await campaigns_service.join_campaign(session=session, merchant_id=merchant.tenant,
                                              campaign_ref=campaign_id, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _campaigns_page(request, session, merchant, form_errors(exc), status=422)
    return redirect("/console/campaigns")
