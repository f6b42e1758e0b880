"""The merchant console: staff sign in (or the owner with the API key); orders, lists, stock, marketing, staff.

Every page and form names one console action; `staff_of` checks it against the one permission table
(`app.merchants.staff.PERMISSIONS`) and returns the person, whose name goes to the audit log with what they did.
"""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote as url_quote

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.catalog import service as catalog_service
from app.catalog.models import Product, Variant
from app.catalog.schemas import ProductCreate
from app.community import service as community_service
from app.community.schemas import GroupBuyIn, PickupPointIn
from app.core import auth
from app.core.auth import Principal
from app.core.clock import SHANGHAI, utcnow
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import DomainError, Forbidden, InvalidInput, NotFound, field_error
from app.inventory import service as inventory_service
from app.inventory.pos import service as pos_service
from app.logistics import carriers
from app.merchants import service as merchants_service
from app.merchants import staff as staff_service
from app.merchants.models import Location, StaffMember
from app.merchants.staff import StaffCtx
from app.orders import cancellation as orders_cancellation
from app.orders import fulfilment as orders_fulfilment
from app.orders.invoices import service as invoices_service
from app.orders.models import Order
from app.orders.returns import service as returns_service
from app.orders.schemas import ReturnReceiptIn
from app.reports import service as reports_service
from app.retail import service as retail_service
from app.retail.campaigns import service as campaigns_service
from app.retail.campaigns.schemas import CampaignIn, CampaignJoin
from app.retail.flash import service as flash_service
from app.retail.flash.schemas import FlashSaleIn
from app.retail.schemas import PromotionIn
from app.trust import rules as trust_rules
from app.trust.audit_log import record_audit
from app.web import charts, console_lists, i18n, lists, order_page
from app.web.pages import (
    TEMPLATES,
    LoginRequired,
    WebRoute,
    check_csrf,
    form_errors,
    lang_of,
    read_cookie,
    redirect,
    render,
    set_cookie,
)
from app.wholesale import service as wholesale_service
from app.wholesale.schemas import BuyerCreate

router = APIRouter(prefix="/console", route_class=WebRoute, include_in_schema=False)

MERCHANT_COOKIE = "mkey"  # the owner signed in with the API key
STAFF_COOKIE = "staff"  # a staff session's random token

TEMPLATES.env.filters["money_cn"] = lambda amount, currency="CNY": i18n.money(amount, currency)
TEMPLATES.env.filters["local_time"] = i18n.local_time

# (path, message key, action): the menu, each entry shown to those who may use it.
NAV: tuple[tuple[str, str, str], ...] = (
    ("/console/", "dashboard", "dashboard.view"), ("/console/orders", "orders", "orders.view"),
    ("/console/shipping", "bulk_shipping", "orders.ship"), ("/console/returns", "returns", "orders.refund"),
    ("/console/delivery", "shipping_templates", "products.edit"),
    ("/console/invoices", "invoices", "orders.refund"),
    ("/console/products", "products", "products.view"), ("/console/catalog/products", "catalog", "products.view"),
    ("/console/stock", "stock", "stock.view"),
    ("/console/customers", "customers", "customers.view"), ("/console/promotions", "promotions", "marketing.manage"),
    ("/console/group-buys", "group_buys", "marketing.manage"), ("/console/campaigns", "campaigns", "marketing.manage"),
    ("/console/flash-sales", "flash_sales", "marketing.manage"),
    ("/console/devices", "devices", "devices.manage"), ("/console/conflicts", "conflicts", "conflicts.manage"),
    ("/console/wholesale", "wholesale", "wholesale.manage"), ("/console/complaints", "complaints", "customers.view"),
    ("/console/ip-cases", "ip_cases", "products.view"),
    ("/console/reports/channel-share", "channel_share", "reports.view"),
    ("/console/payments", "payment_accounts", "payments.manage"), ("/console/webhooks", "webhooks", "webhooks.manage"),
    ("/console/staff", "staff", "staff.manage"),
)


# ---- who is signed in --------------------------------------------------------------------------------------

async def _signed_in(request: Request, session: AsyncSession) -> StaffCtx | None:
    token = read_cookie(request, STAFF_COOKIE)
    if token:
        member = await staff_service.session_member(session, token)
        if member is not None:
            return StaffCtx(merchant_id=member.merchant_id, name=member.name, role=member.role,
                            staff_id=member.id, location_id=member.location_id)
    key = read_cookie(request, MERCHANT_COOKIE)
    if key:
        try:
            principal = await auth.resolve(session, token=key, admin_token=None, secret=request.app.state.secret_key)
        except DomainError:
            principal = None
        if principal is not None and principal.kind == "merchant" and principal.merchant_id:
            return StaffCtx(merchant_id=principal.merchant_id, name=i18n.translate(lang_of(request), "owner_by_key"),
                            role="owner")
    return None


async def staff_of(request: Request, session: AsyncSession, action: str) -> StaffCtx:
    """The signed-in person if their role may do `action` (403 otherwise); the login page when nobody is."""
    ctx = await _signed_in(request, session)
    if ctx is None:
        raise LoginRequired("/console/login")
    if not staff_service.may(ctx.role, action):
        raise Forbidden(i18n.translate(lang_of(request), "not_allowed"))
    request.state.console_user = ctx
    return ctx


def as_merchant(ctx: StaffCtx) -> Principal:
    """What the order core and the other services act with: the shop (the person goes to the audit log)."""
    return Principal(kind="merchant", merchant_id=ctx.merchant_id)


async def audit(session: AsyncSession, ctx: StaffCtx, action: str, target_type: str, target_id: str | None,
                **detail: Any) -> None:
    """The person's action, in the transaction of the change (the service's commit writes both or neither)."""
    await record_audit(session, actor=ctx.actor, action=f"console.{action}", target_type=target_type,
                       target_id=target_id, merchant_id=ctx.merchant_id,
                       after={"name": ctx.name, "role": ctx.role, **detail})


def page(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200) -> Response:
    ctx: StaffCtx | None = getattr(request.state, "console_user", None)
    base: dict[str, Any] = {
        "me": ctx, "nav": NAV, "may": (lambda action: ctx is not None and staff_service.may(ctx.role, action)),
        "zip": zip, "errors": [], "notice": None}
    base.update(context or {})
    return render(request, name, base, status=status)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    check_csrf(request, form)
    return {k: str(v).strip()[:2000] for k, v in form.items() if isinstance(v, str)}


def _fen(value: str | None) -> int | None:
    """Yuan as typed in a form ("12.5", "1,234.50") to fen; None when it is not a number."""
    text = (value or "").replace(",", "").replace("，", "").replace("¥", "").strip()
    try:
        whole, _, part = text.partition(".")
        if not whole.isdigit() or (part and (not part.isdigit() or len(part) > 2)):
            return None
        return int(whole) * 100 + int((part + "00")[:2])
    except ValueError:
        return None


def _local_datetime(value: str | None) -> str | None:
    """A `datetime-local` form value, read as Shanghai time, to RFC 3339."""
    try:
        return datetime.fromisoformat(value or "").replace(tzinfo=SHANGHAI).isoformat()
    except ValueError:
        return None


async def _locations(session: AsyncSession, ctx: StaffCtx) -> list[Location]:
    found = list(await merchants_service.list_locations(session=session, merchant_id=ctx.merchant_id))
    return [loc for loc in found if ctx.at_store(loc.id)]


# ---- sign in, invitations, staff -----------------------------------------------------------------------

@router.get("/login")
async def login_page(request: Request) -> Response:
    return page(request, "console/login.html")


@router.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    """Staff sign in with e-mail or phone, password and (when set up) a TOTP code; the owner may use the API key."""
    values = await _form(request)
    lang = lang_of(request)
    if values.get("api_key"):
        key = values["api_key"][:200]
        principal = None
        with contextlib.suppress(DomainError):
            principal = await auth.resolve(session, token=key, admin_token=None, secret=request.app.state.secret_key)
        if principal is None or principal.kind != "merchant":
            return page(request, "console/login.html", {"errors": [i18n.translate(lang, "wrong_key")]}, status=401)
        response = redirect("/console/")
        set_cookie(response, request, MERCHANT_COOKIE, key, max_age=12 * 3600)
        response.delete_cookie(STAFF_COOKIE, path="/")
        return response
    member = await staff_service.authenticate(session, merchant_id=None, login=values.get("login", "")[:254],
                                              password=values.get("password", "")[:200],
                                              code=values.get("code", "")[:10])
    if member is None:
        return page(request, "console/login.html", {"errors": [i18n.translate(lang, "wrong_login")],
                                                    "login": values.get("login", "")[:254]}, status=401)
    token = await staff_service.open_session(session, member)
    await record_audit(session, actor=f"staff:{member.id}", action="console.sign_in", target_type="staff",
                       target_id=member.id, merchant_id=member.merchant_id, after={"name": member.name,
                                                                                  "role": member.role})
    await session.commit()
    response = redirect("/console/")
    set_cookie(response, request, STAFF_COOKIE, token, max_age=staff_service.SESSION_HOURS * 3600)
    response.delete_cookie(MERCHANT_COOKIE, path="/")
    return response


@router.post("/logout")
async def logout(request: Request, session: SessionDep) -> Response:
    await _form(request)
    token = read_cookie(request, STAFF_COOKIE)
    if token:
        await staff_service.end_session(session, token)
        await session.commit()
    response = redirect("/console/login")
    response.delete_cookie(MERCHANT_COOKIE, path="/")
    response.delete_cookie(STAFF_COOKIE, path="/")
    return response


@router.get("/invite/{token}")
async def invite_page(request: Request, token: str, session: SessionDep) -> Response:
    member = await staff_service.by_invite(session, token)
    return page(request, "console/invite.html", {"member": member, "token": token})


@router.post("/invite/{token}")
async def accept_invite(request: Request, token: str, session: SessionDep) -> Response:
    v = await _form(request)
    try:
        member, secret = await staff_service.accept(session, token=token, password=v.get("password", "")[:200],
                                                    with_totp=v.get("totp") == "on")
    except InvalidInput as exc:
        await session.rollback()
        member = await staff_service.by_invite(session, token)
        return page(request, "console/invite.html", {"member": member, "token": token, "errors": form_errors(exc)},
                    status=422)
    info = await merchants_service.get(session=session, merchant_id=member.merchant_id)
    uri = staff_service.totp_uri(member, info.name if info else "Liutong")
    await record_audit(session, actor=f"staff:{member.id}", action="console.accept_invite", target_type="staff",
                       target_id=member.id, merchant_id=member.merchant_id, after={"name": member.name,
                                                                                  "totp": bool(secret)})
    await session.commit()
    return page(request, "console/invite_done.html", {"member": member, "secret": secret, "uri": uri})


async def _staff_page(request: Request, session: AsyncSession, ctx: StaffCtx, *, errors: list[str] | None = None,
                      invite_link: str | None = None, status: int = 200) -> Response:
    spec, build, _ = console_lists.LISTS["staff"]
    query = lists.read_query(request, spec)
    found = await lists.page(session, spec, build(ctx, query, []), query)
    stores = [loc for loc in await _locations(session, ctx) if loc.kind in ("store", "pickup_point")]
    return page(request, "console/staff.html", {"lst": found, "stores": stores, "roles": staff_service.ROLES,
                                                "errors": errors or [], "invite_link": invite_link}, status=status)


@router.get("/staff")
async def staff_list(request: Request, session: SessionDep) -> Response:
    return await _staff_page(request, session, await staff_of(request, session, "staff.manage"))


@router.post("/staff")
async def invite_staff(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "staff.manage")
    v = await _form(request)
    try:
        member, token = await staff_service.invite(session, merchant_id=ctx.merchant_id, name=v.get("name", ""),
                                                   login=v.get("login", ""), role=v.get("role", ""),
                                                   location_id=v.get("location_id") or None, invited_by=ctx.name)
    except DomainError as exc:
        await session.rollback()
        return await _staff_page(request, session, ctx, errors=form_errors(exc), status=422)
    await audit(session, ctx, "invite_staff", "staff", member.id, staff_name=member.name, staff_role=member.role,
                login=member.login)
    await session.commit()
    link = f"{str(request.base_url).rstrip('/')}/console/invite/{token}"
    return await _staff_page(request, session, ctx, invite_link=link)


@router.post("/staff/{staff_id}/remove")
async def remove_staff(request: Request, staff_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "staff.manage")
    await _form(request)
    if staff_id == ctx.staff_id:
        raise Forbidden(i18n.translate(lang_of(request), "cannot_remove_self"))
    member = await staff_service.remove(session, merchant_id=ctx.merchant_id, staff_id=staff_id)
    await audit(session, ctx, "remove_staff", "staff", member.id, staff_name=member.name)
    await session.commit()
    return redirect("/console/staff")


# ---- dashboard and reports -------------------------------------------------------------------------------

def _period(start: str | None, end: str | None, days: int = 14) -> tuple[date, date]:
    today = utcnow().astimezone(SHANGHAI).date()
    try:
        last = date.fromisoformat(end) if end else today
        first = date.fromisoformat(start) if start else last - timedelta(days=days - 1)
    except ValueError:
        last, first = today, today - timedelta(days=days - 1)
    if first > last or (last - first).days > 366:
        first = last - timedelta(days=days - 1)
    return first, last


async def _share(request: Request, session: AsyncSession, merchant_id: str, first: date, last: date
                 ) -> tuple[dict[str, Any], str]:
    report = await reports_service.channel_share(session, merchant_id=merchant_id, start=first, end=last)
    by_day = {d["date"]: d for d in report["days"]}
    days = [charts.DayBar(label=f"{d:%m-%d}", online=by_day.get(d, {}).get("online_sales", 0),
                          offline=by_day.get(d, {}).get("offline_sales", 0))
            for d in (first + timedelta(days=i) for i in range((last - first).days + 1))]
    lang = lang_of(request)
    svg = charts.channel_bars(days, title=i18n.translate(lang, "channel_share"),
                              online_label=i18n.translate(lang, "online"),
                              offline_label=i18n.translate(lang, "offline"))
    return report, svg


@router.get("/")
async def dashboard(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "dashboard.view")
    report = svg = None
    first, last = _period(None, None, days=30)
    if staff_service.may(ctx.role, "reports.view"):
        report, svg = await _share(request, session, ctx.merchant_id, first, last)
    spec, build, _ = console_lists.LISTS["orders"]
    query = lists.read_query(request, spec)
    query.limit = 10
    recent = await lists.page(session, spec, build(ctx, query, []), query)
    info = await merchants_service.get(session=session, merchant_id=ctx.merchant_id)
    coming = (await trust_rules.awaiting_answer(session=session, merchant_id=ctx.merchant_id)
              if staff_service.may(ctx.role, "rules.answer") else [])
    return page(request, "console/dashboard.html", {"report": report, "svg": svg, "recent": recent.rows,
                                                    "merchant": info, "first": first, "last": last,
                                                    "coming_rules": coming,
                                                    "notice": request.query_params.get("done")})


@router.post("/rules/{version}")
async def answer_rules(request: Request, version: str, session: SessionDep) -> Response:
    """The owner accepts a coming rules version, or refuses it and leaves under the old terms (C7)."""
    ctx = await staff_of(request, session, "rules.answer")
    values = await _form(request)
    accept = values.get("decision") == "accept"
    if values.get("decision") not in ("accept", "refuse"):
        raise field_error("decision", "accept or refuse")
    await audit(session, ctx, "rules.answer", "rule_version", version[:20], decision=values["decision"])
    await trust_rules.decide(session=session, principal=as_merchant(ctx), version=version[:20], accept=accept)
    done = i18n.translate(lang_of(request), "rules_accepted" if accept else "rules_refused")
    return redirect(f"/console/?done={url_quote(done)}")


@router.get("/reports/channel-share")
async def channel_share(request: Request, session: SessionDep, start: str | None = None,
                        end: str | None = None) -> Response:
    ctx = await staff_of(request, session, "reports.view")
    first, last = _period(start, end)
    report, svg = await _share(request, session, ctx.merchant_id, first, last)
    return page(request, "console/channel_share.html", {"report": report, "svg": svg, "first": first, "last": last})


# ---- lists: one route shape for each, and its CSV --------------------------------------------------------

async def list_of(request: Request, session: AsyncSession, name: str, ctx: StaffCtx) -> lists.ListPage:
    spec, build, _ = console_lists.LISTS[name]
    query = lists.read_query(request, spec)
    locations = [(loc.id, loc.name) for loc in await _locations(session, ctx)]
    return await lists.page(session, spec, build(ctx, query, locations), query)


async def _list_context(request: Request, session: AsyncSession, name: str, ctx: StaffCtx) -> dict[str, Any]:
    return {"lst": await list_of(request, session, name, ctx),
            "locations": [(loc.id, loc.name) for loc in await _locations(session, ctx)],
            "list_path": f"/console/{name}"}


@router.get("/{name}/export.csv")
async def export_list(request: Request, name: str, session: SessionDep) -> Response:
    if name not in console_lists.LISTS:
        raise NotFound("list", name)
    spec, build, action = console_lists.LISTS[name]
    ctx = await staff_of(request, session, action)
    query = lists.read_query(request, spec)
    locations = [(loc.id, loc.name) for loc in await _locations(session, ctx)]
    return await lists.export(session, spec, build(ctx, query, locations), query, lang_of(request))


@router.get("/customers")
async def customers(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "customers.view")
    return page(request, "console/list.html", await _list_context(request, session, "customers", ctx))


@router.get("/webhooks")
async def webhooks(request: Request, session: SessionDep) -> Response:
    """Deliveries to the shop's webhook endpoints; filtered to 已放弃, the dead letters."""
    ctx = await staff_of(request, session, "webhooks.manage")
    return page(request, "console/list.html", await _list_context(request, session, "webhooks", ctx))


@router.get("/returns")
async def returns(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "orders.refund")
    return page(request, "console/list.html", await _list_context(request, session, "returns", ctx))


@router.get("/invoices")
async def invoices(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "orders.refund")  # the shop's tax papers: not for a store clerk
    return page(request, "console/list.html", await _list_context(request, session, "invoices", ctx))


@router.get("/ip-cases")
async def ip_cases(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "products.view")
    return page(request, "console/list.html", await _list_context(request, session, "ip-cases", ctx))


@router.get("/complaints")
async def complaints(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "customers.view")  # complaints are about the shop: not for a clerk
    return page(request, "console/list.html", await _list_context(request, session, "complaints", ctx))


# ---- products and stock ----------------------------------------------------------------------------------

async def _products_page(request: Request, session: AsyncSession, ctx: StaffCtx, errors: list[str],
                         status: int = 200) -> Response:
    categories = await catalog_service.list_categories(session=session)
    return page(request, "console/products.html", {**await _list_context(request, session, "products", ctx),
                                                   "categories": categories, "errors": errors}, status=status)


@router.get("/products")
async def products(request: Request, session: SessionDep) -> Response:
    return await _products_page(request, session, await staff_of(request, session, "products.view"), [])


@router.post("/products")
async def create_product(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "products.edit")
    v = await _form(request)
    try:
        body = ProductCreate.model_validate({
            "title": v.get("title"), "category": v.get("category"), "description": v.get("description", ""),
            "status": v.get("status", "active"),
            "variants": [{"sku": v.get("sku"), "price": _fen(v.get("price"))}]})
        await audit(session, ctx, "create_product", "product", None, title=body.title)
        await catalog_service.create_product(session=session, merchant_id=ctx.merchant_id, product_in=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _products_page(request, session, ctx, form_errors(exc), status=422)
    return redirect("/console/products")


async def _stock_page(request: Request, session: AsyncSession, ctx: StaffCtx, errors: list[str],
                      status: int = 200) -> Response:
    return page(request, "console/stock.html", {**await _list_context(request, session, "stock", ctx),
                                                "errors": errors}, status=status)


@router.get("/stock")
async def stock(request: Request, session: SessionDep) -> Response:
    return await _stock_page(request, session, await staff_of(request, session, "stock.view"), [])


@router.post("/stock")
async def set_stock(request: Request, session: SessionDep) -> Response:
    """Set a counted quantity; a clerk counts their own store only."""
    ctx = await staff_of(request, session, "stock.edit")
    v = await _form(request)
    try:
        on_hand = int(v.get("on_hand", ""))
    except ValueError:
        return await _stock_page(request, session, ctx, ["on_hand: a whole number"], status=422)
    location = await merchants_service.get_location(session=session, merchant_id=ctx.merchant_id,
                                                    location_id=v.get("location_id", ""))
    if location is None or not ctx.at_store(location.id):
        return await _stock_page(request, session, ctx, ["location_id: not one of your locations"], status=422)
    if not 0 <= on_hand <= 10**9:
        return await _stock_page(request, session, ctx, ["on_hand: 0 to 1,000,000,000"], status=422)
    sku = v.get("sku", "")[:64]
    try:
        await audit(session, ctx, "count_stock", "stock", f"{sku}@{location.id}", on_hand=on_hand)
        await inventory_service.set_stock_by_sku(session, merchant_id=ctx.merchant_id, location_id=location.id,
                                                 sku=sku, on_hand=on_hand, safety_stock=None, source="console",
                                                 key=f"console:{utcnow().isoformat()}:{sku}")
    except DomainError as exc:
        await session.rollback()
        return await _stock_page(request, session, ctx, form_errors(exc), status=422)
    return redirect("/console/stock")


# ---- orders ----------------------------------------------------------------------------------------------

@router.get("/orders")
async def orders(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "orders.view")
    return page(request, "console/orders.html", await _list_context(request, session, "orders", ctx))


async def _visible_order(session: AsyncSession, ctx: StaffCtx, order_id: str, *, lock: bool = False) -> Order:
    """The shop's order; for a clerk, only a pick-up at their store (others do not exist for them: 404)."""
    order = await session.get(Order, order_id[:40], with_for_update=lock)
    if order is None or order.merchant_id != ctx.merchant_id or (
            ctx.store_bound and not ctx.at_store(order.pickup_location_id)):
        raise NotFound("order", order_id)
    return order


@router.get("/orders/{order_id}")
async def order_detail(request: Request, order_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "orders.view")
    order = await _visible_order(session, ctx, order_id)
    return page(request, "console/order.html", await order_page.context(session, order, lang_of(request)))


@router.get("/orders/{order_id}/invoices/{invoice_id}.pdf")
async def order_invoice_pdf(request: Request, order_id: str, invoice_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "orders.view")
    order = await _visible_order(session, ctx, order_id)
    name, pdf = await invoices_service.pdf_of_order(session, order_id=order.id, invoice_id=invoice_id)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


@router.post("/orders/{order_id}/{action}")
async def order_action(request: Request, order_id: str, action: str, session: SessionDep,
                       settings: SettingsDep) -> Response:
    """Ship, deliver, complete, cancel (refunding what was paid), collect a pick-up, refund some units, or issue
    the invoice the buyer asked for."""
    needs = {"ship": "orders.ship", "deliver": "orders.ship", "complete": "orders.ship", "cancel": "orders.cancel",
             "collect": "orders.collect", "refund": "orders.refund", "return-receive": "orders.refund",
             "return-approve": "orders.refund", "return-reject": "orders.refund", "invoice": "orders.refund"}
    if action not in needs:
        raise NotFound("action", action)
    ctx = await staff_of(request, session, needs[action])
    v = await _form(request)
    order = await _visible_order(session, ctx, order_id)
    merchant = as_merchant(ctx)
    try:
        match action:
            case "ship":
                named, tracking = v.get("carrier", "")[:60], v.get("tracking_no", "")[:60]
                if not named or not tracking:
                    raise InvalidInput("carrier and tracking number", errors=[
                        {"field": "carrier" if not named else "tracking_no", "message": "required"}])
                found = carriers.lookup(named)
                carrier = found.code if found else named  # an unknown name: ship() says which codes there are
                await audit(session, ctx, "ship", "order", order.id, carrier=carrier, tracking_no=tracking)
                await orders_fulfilment.ship(session, principal=merchant, order_id=order.id, carrier=carrier,
                                             tracking_no=tracking)
            case "deliver":
                await audit(session, ctx, "deliver", "order", order.id)
                await orders_fulfilment.deliver(session, principal=merchant, order_id=order.id)
            case "complete":
                await audit(session, ctx, "complete", "order", order.id)
                await orders_fulfilment.complete(session, principal=merchant, order_id=order.id)
            case "cancel":
                reason = v.get("reason", "")[:200] or "cancelled by the merchant"
                await audit(session, ctx, "cancel", "order", order.id, reason=reason, code=v.get("code", "")[:40])
                code = v.get("code", "")[:40] or None
                await orders_cancellation.cancel(session, settings=settings, principal=merchant, order_id=order.id,
                                                 reason=reason, code=code, refund_now=v.get("refund_now") == "1")
            case "collect":
                await _collect(session, ctx, order.id, v.get("pickup_code", "")[:12])
            case "refund":
                lines = order_page.refund_lines(v)
                await audit(session, ctx, "refund", "order", order.id, lines=[list(x) for x in lines],
                            reason=v.get("reason", "")[:200])
                await returns_service.merchant_return(session, settings=settings, principal=merchant,
                                                      order_id=order.id, lines=lines,
                                                      reason=v.get("reason", "")[:200] or "商家退款")
            case "return-receive" | "return-approve" | "return-reject":
                await _return_step(session, settings, ctx, order.id, action, v)
            case "invoice":
                await audit(session, ctx, "invoice", "order", order.id)
                await invoices_service.issue(session, principal=merchant, order_id=order.id)
    except (DomainError, ValidationError) as exc:
        await session.rollback()
        order = await _visible_order(session, ctx, order_id)
        return page(request, "console/order.html", {**await order_page.context(session, order, lang_of(request)),
                                                    "errors": form_errors(exc)}, status=exc.status
                    if isinstance(exc, DomainError) else 422)
    return redirect(f"/console/orders/{order.id}")


async def _collect(session: AsyncSession, ctx: StaffCtx, order_id: str, code: str) -> None:
    """Hand over a pick-up order against its code, by staff at that store (a clerk at their own only)."""
    order = await _visible_order(session, ctx, order_id, lock=True)
    if order.fulfilment.get("type") != "pickup" or not ctx.at_store(order.pickup_location_id):
        raise Forbidden("only staff of the pick-up store hand this order over")
    await audit(session, ctx, "collect", "order", order.id, location_id=order.pickup_location_id)
    await orders_fulfilment.collect_in_tx(session, order=order, code=code)
    await session.commit()


async def _return_step(session: AsyncSession, settings: Any, ctx: StaffCtx, order_id: str, action: str,
                       v: dict[str, str]) -> None:
    return_id = v.get("return_id", "")[:40]
    await audit(session, ctx, action.replace("-", "_"), "order", order_id, return_id=return_id)
    merchant = as_merchant(ctx)
    if action == "return-receive":
        receipt = ReturnReceiptIn(goods_condition=v.get("goods_condition", "as_new"))  # the API's own check
        await returns_service.receive_return(session, principal=merchant, order_id=order_id, return_id=return_id,
                                             goods_condition=receipt.goods_condition)
    elif action == "return-approve":
        await returns_service.approve_return(session, settings=settings, principal=merchant, order_id=order_id,
                                             return_id=return_id)
    else:
        photos = [p for p in v.get("photos", "").split() if p.startswith(("http://", "https://"))][:10]
        await returns_service.reject_return(session, principal=merchant, order_id=order_id, return_id=return_id,
                                            code=v.get("code", "")[:40], photos=photos,
                                            note=v.get("note", "")[:500] or None)


# ---- devices and conflicts -------------------------------------------------------------------------------

async def _devices_page(request: Request, session: AsyncSession, ctx: StaffCtx,
                        new_token: str | None = None) -> Response:
    stores = [loc for loc in await _locations(session, ctx) if loc.kind in ("store", "pickup_point")]
    return page(request, "console/devices.html", {**await _list_context(request, session, "devices", ctx),
                                                  "stores": stores, "new_token": new_token})


@router.get("/devices")
async def devices(request: Request, session: SessionDep) -> Response:
    return await _devices_page(request, session, await staff_of(request, session, "devices.manage"))


@router.post("/devices")
async def add_device(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = await staff_of(request, session, "devices.manage")
    v = await _form(request)
    location = await merchants_service.get_location(session=session, merchant_id=ctx.merchant_id,
                                                    location_id=v.get("location_id", ""))
    if location is None:
        raise NotFound("location", v.get("location_id"))
    await audit(session, ctx, "add_device", "location", location.id, device=v.get("name", "")[:100])
    _, token = await merchants_service.create_device(session=session, location=location,
                                                     name=v.get("name", "")[:100] or "POS",
                                                     sync_lag_minutes=settings.shop_pos_sync_lag_minutes)
    return await _devices_page(request, session, ctx, new_token=token)


@router.get("/conflicts")
async def conflicts(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "conflicts.manage")
    return page(request, "console/conflicts.html", await _list_context(request, session, "conflicts", ctx))


@router.post("/conflicts/{conflict_id}/resolve")
async def resolve_conflict(request: Request, conflict_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "conflicts.manage")
    v = await _form(request)
    resolution = v.get("resolution", "")[:500] or "resolved"
    await audit(session, ctx, "resolve_conflict", "stock_conflict", conflict_id[:40], resolution=resolution)
    await pos_service.resolve_conflict(session, merchant_id=ctx.merchant_id, conflict_id=conflict_id,
                                       resolution=resolution)
    return redirect("/console/conflicts")


# ---- wholesale -------------------------------------------------------------------------------------------

async def _wholesale_page(request: Request, session: AsyncSession, ctx: StaffCtx, *, errors: list[str],
                          new_token: str | None = None, quote: dict[str, Any] | None = None,
                          status: int = 200) -> Response:
    return page(request, "console/wholesale.html", {**await _list_context(request, session, "wholesale", ctx),
                                                    "errors": errors, "new_token": new_token, "quote": quote},
                status=status)


@router.get("/wholesale")
async def wholesale(request: Request, session: SessionDep, quote_id: str | None = None) -> Response:
    ctx = await staff_of(request, session, "wholesale.manage")
    quote = (await wholesale_service.get_quote(session=session, principal=as_merchant(ctx), quote_id=quote_id[:40])
             if quote_id else None)
    return await _wholesale_page(request, session, ctx, errors=[], quote=quote)


@router.post("/wholesale/buyers")
async def add_buyer(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "wholesale.manage")
    v = await _form(request)
    try:
        body = BuyerCreate.model_validate({"name": v.get("name"), "credit_limit": _fen(v.get("credit_limit")) or 0,
                                           "payment_terms_days": v.get("payment_terms_days") or 30})
        await audit(session, ctx, "add_buyer", "buyer", None, buyer=body.name)
        _, token = await wholesale_service.create_buyer(session=session, merchant_id=ctx.merchant_id, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _wholesale_page(request, session, ctx, errors=form_errors(exc), status=422)
    return await _wholesale_page(request, session, ctx, errors=[], new_token=token)


# ---- marketing: group-buys and pickup points, promotions, campaigns --------------------------------------

async def _product_choices(session: AsyncSession, ctx: StaffCtx, q: str, limit: int = 100) -> list[dict[str, Any]]:
    """The shop's variants for a picker: searched by title or SKU, newest first."""
    stmt = (select(Variant.id.label("variant_id"), Variant.sku, Variant.price, Product.id.label("product_id"),
                   Product.title, Product.status)
            .join(Product, Product.id == Variant.product_id).where(Product.merchant_id == ctx.merchant_id))
    if q:
        like = console_lists._like(q)
        stmt = stmt.where((Product.title.ilike(like, escape="\\")) | (Variant.sku.ilike(like, escape="\\")))
    rows = (await session.execute(stmt.order_by(Product.created_at.desc(), Variant.sku).limit(limit))).mappings()
    return [dict(r) for r in rows]


async def _community_page(request: Request, session: AsyncSession, ctx: StaffCtx, *, errors: list[str] | None = None,
                          new_token: str | None = None, status: int = 200) -> Response:
    points = await community_service.list_pickup_points(session=session, merchant_id=ctx.merchant_id)
    pq = request.query_params.get("pq", "")[:100]
    return page(request, "console/group_buys.html", {
        **await _list_context(request, session, "group-buys", ctx), "points": points, "new_token": new_token,
        "choices": await _product_choices(session, ctx, pq), "pq": pq, "errors": errors or []}, status=status)


@router.get("/group-buys")
async def group_buys(request: Request, session: SessionDep) -> Response:
    return await _community_page(request, session, await staff_of(request, session, "marketing.manage"))


@router.post("/group-buys")
async def create_group_buy(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "marketing.manage")
    v = await _form(request)
    try:
        body = GroupBuyIn.model_validate({
            "variant_id": v.get("variant_id"), "price": _fen(v.get("price")),
            "min_quantity": v.get("min_quantity"), "max_quantity": v.get("max_quantity"),
            "closes_at": _local_datetime(v.get("closes_at")), "pickup_date": v.get("pickup_date")})
        await audit(session, ctx, "create_group_buy", "group_buy", None, variant_id=body.variant_id)
        await community_service.create_group_buy(session=session, merchant_id=ctx.merchant_id, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _community_page(request, session, ctx, errors=form_errors(exc), status=422)
    return redirect("/console/group-buys")


@router.post("/pickup-points")
async def create_pickup_point(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "marketing.manage")
    v = await _form(request)
    try:
        body = PickupPointIn.model_validate({
            "name": v.get("name"), "leader_name": v.get("leader_name"), "leader_phone": v.get("leader_phone"),
            "commission_rate": round(float(v.get("commission") or 0) * 100) if v.get("commission", "0").replace(
                ".", "", 1).isdigit() else -1,
            "address": {"name": v.get("leader_name"), "phone": v.get("leader_phone"), "line1": v.get("line1"),
                        "city": v.get("city"), "district": v.get("district") or None,
                        "postal_code": v.get("postal_code"), "country": "CN"}})
        await audit(session, ctx, "create_pickup_point", "pickup_point", None, point=body.name)
        _, token = await community_service.create_pickup_point(session=session, merchant_id=ctx.merchant_id,
                                                                body=body)
        await session.commit()
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _community_page(request, session, ctx, errors=form_errors(exc), status=422)
    return await _community_page(request, session, ctx, new_token=token)


@router.post("/group-buys/{group_buy_id}/close")
async def close_group_buy(request: Request, group_buy_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    ctx = await staff_of(request, session, "marketing.manage")
    await _form(request)
    await audit(session, ctx, "close_group_buy", "group_buy", group_buy_id[:40])
    await community_service.close_group_buy(session=session, settings=settings, merchant_id=ctx.merchant_id,
                                            group_buy_id=group_buy_id)
    return redirect("/console/group-buys")


@router.post("/pickup-points/{point_id}/leader-token")
async def leader_token(request: Request, point_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "marketing.manage")
    await _form(request)
    await audit(session, ctx, "leader_token", "pickup_point", point_id[:40])
    token = await community_service.reissue_leader_token(session=session, merchant_id=ctx.merchant_id,
                                                         pickup_point_id=point_id)
    return await _community_page(request, session, ctx, new_token=token)


def _promotion_body(v: dict[str, str]) -> PromotionIn:
    kind = v.get("kind")
    value: int | None = _fen(v.get("value")) if kind == "amount" else (
        int(v["value"]) if v.get("value", "").isdigit() else None)
    return PromotionIn.model_validate({
        "code": v.get("code"), "kind": kind, "value": value,
        "channels": [c for c in ("online", "store") if v.get(f"ch_{c}") == "on"],
        "starts_at": _local_datetime(v.get("starts_at")), "ends_at": _local_datetime(v.get("ends_at")),
        "usage_limit": int(v["usage_limit"]) if v.get("usage_limit", "").isdigit() else None,
        "description": v.get("description") or None})


async def _promotions_page(request: Request, session: AsyncSession, ctx: StaffCtx, *,
                           errors: list[str] | None = None, editing: Any = None, status: int = 200) -> Response:
    return page(request, "console/promotions.html", {**await _list_context(request, session, "promotions", ctx),
                                                     "errors": errors or [], "editing": editing}, status=status)


@router.get("/promotions")
async def promotions(request: Request, session: SessionDep) -> Response:
    return await _promotions_page(request, session, await staff_of(request, session, "marketing.manage"))


@router.get("/promotions/{promotion_id}")
async def promotion(request: Request, promotion_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "marketing.manage")
    promo = await retail_service.get_promotion(session=session, merchant_id=ctx.merchant_id,
                                               promotion_id=promotion_id[:40])
    return await _promotions_page(request, session, ctx, editing=promo)


@router.post("/promotions")
async def save_promotion(request: Request, session: SessionDep) -> Response:
    """Create a promotion (coupon code), or edit one when the form carries its id."""
    ctx = await staff_of(request, session, "marketing.manage")
    v = await _form(request)
    try:
        body = _promotion_body(v)
        await audit(session, ctx, "edit_promotion" if v.get("id") else "create_promotion", "promotion",
                    v.get("id") or None, code=body.code)
        if v.get("id"):
            await retail_service.update_promotion(session=session, merchant_id=ctx.merchant_id,
                                                  promotion_id=v["id"][:40], body=body)
        else:
            await retail_service.create_promotion(session=session, merchant_id=ctx.merchant_id, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _promotions_page(request, session, ctx, errors=form_errors(exc), status=422)
    return redirect("/console/promotions")


async def _campaigns_page(request: Request, session: AsyncSession, ctx: StaffCtx, errors: list[str],
                          status: int = 200) -> Response:
    pq = request.query_params.get("pq", "")[:100]
    return page(request, "console/campaigns.html", {**await _list_context(request, session, "campaigns", ctx),
                                                    "errors": errors, "choices": await _product_choices(
                                                        session, ctx, pq), "pq": pq}, status=status)


@router.get("/campaigns")
async def campaigns(request: Request, session: SessionDep) -> Response:
    return await _campaigns_page(request, session, await staff_of(request, session, "marketing.manage"), [])


def _picked(request_form: dict[str, str], picked: list[str]) -> list[str]:
    return sorted({p[:40] for p in picked if p})[:200]


@router.post("/campaigns")
async def create_campaign(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "marketing.manage")
    form = await request.form()
    check_csrf(request, form)
    v = {k: str(x).strip()[:2000] for k, x in form.items() if isinstance(x, str)}
    product_ids = _picked(v, [str(x) for x in form.getlist("product_id")])
    try:
        body = CampaignIn.model_validate({
            "slug": v.get("slug"), "title": v.get("title"), "headline": v.get("headline", ""),
            "starts_at": _local_datetime(v.get("starts_at")), "ends_at": _local_datetime(v.get("ends_at")),
            "product_ids": product_ids, "promotion_codes": [c for c in v.get("promotion_codes", "").replace(
                "，", ",").split(",") if c.strip()][:20]})
        await audit(session, ctx, "create_campaign", "campaign", None, slug=body.slug)
        await campaigns_service.create_campaign(session=session, merchant_id=ctx.merchant_id, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _campaigns_page(request, session, ctx, form_errors(exc), status=422)
    return redirect("/console/campaigns")


@router.get("/campaigns/{campaign_id}")
async def campaign(request: Request, campaign_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "marketing.manage")
    pq = request.query_params.get("pq", "")[:100]
    found = await campaigns_service.list_campaigns(session=session, merchant_id=ctx.merchant_id, include_ended=True,
                                                   limit=500)
    item = next((c for c in found if c["id"] == campaign_id), None)
    if item is None:
        raise NotFound("campaign", campaign_id)
    return page(request, "console/campaign.html", {"c": item, "choices": await _product_choices(session, ctx, pq),
                                                   "pq": pq})


@router.post("/campaigns/{campaign_id}/items")
async def join_campaign(request: Request, campaign_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "marketing.manage")
    form = await request.form()
    check_csrf(request, form)
    product_ids = _picked({}, [str(x) for x in form.getlist("product_id")])
    codes = str(form.get("promotion_codes") or "").replace("，", ",")
    try:
        body = CampaignJoin.model_validate({"product_ids": product_ids,
                                            "promotion_codes": [c.strip() for c in codes.split(",") if c.strip()]})
        await audit(session, ctx, "join_campaign", "campaign", campaign_id[:40], products=len(product_ids))
        await campaigns_service.join_campaign(session=session, merchant_id=ctx.merchant_id,
                                              campaign_ref=campaign_id, body=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _campaigns_page(request, session, ctx, form_errors(exc), status=422)
    return redirect("/console/campaigns")


# ---- flash sales (秒杀) -------------------------------------------------------------------------------------

FLASH_PAGE = 20
FLASH_FIELDS = ("variant_id", "price", "quantity", "per_buyer_limit", "starts_at", "ends_at", "campaign_id")
# What the service says (English, for the API) and what the merchant reads beside the field.
_FLASH_SAYS: tuple[tuple[str, str, str], ...] = (
    ("variant_id", "not on sale", "flash_err_variant_off"), ("variant_id", "", "flash_err_variant"),
    ("ends_at", "after starts_at", "flash_err_order"), ("ends_at", "future", "flash_err_past"),
    ("ends_at", "at most", "flash_err_long"), ("per_buyer_limit", "", "flash_err_limit"),
    ("price", "above", "flash_err_price_high"), ("price", "", "flash_err_price"),
    ("quantity", "", "flash_err_quantity"), ("starts_at", "", "flash_err_time"),
    ("campaign_id", "", "flash_err_campaign"),
)


def _flash_errors(exc: DomainError | ValidationError, lang: i18n.Lang) -> tuple[dict[str, str], list[str]]:
    """(Chinese message by form field, messages for the whole form) for what creating the sale refused."""
    if isinstance(exc, ValidationError):
        items = [(str(e["loc"][0]) if e["loc"] else "", str(e["msg"])) for e in exc.errors()]
    elif exc.extra.get("errors"):
        items = [(str(e.get("field", "")), str(e.get("message", ""))) for e in exc.extra["errors"]
                 if isinstance(e, dict)]
    elif exc.extra.get("field") == "quantity":
        return {"quantity": i18n.translate(lang, "flash_err_stock", n=exc.extra.get("available", 0))}, []
    else:
        return {}, form_errors(exc)
    by_field: dict[str, str] = {}
    for field, message in items:
        if field not in FLASH_FIELDS:
            continue
        key = next((k for f, words, k in _FLASH_SAYS if f == field and words in message), None)
        if key is None and field == "ends_at":
            key = "flash_err_time"
        by_field.setdefault(field, i18n.translate(lang, key or "flash_err_time"))
    return by_field, ([] if by_field else form_errors(exc))


async def _flash_page(request: Request, session: AsyncSession, ctx: StaffCtx, *, values: dict[str, str] | None = None,
                      field_errors: dict[str, str] | None = None, errors: list[str] | None = None,
                      status: int = 200) -> Response:
    pq = request.query_params.get("pq", "")[:100]
    raw = request.query_params.get("page", "1")
    page_no = max(1, min(int(raw) if raw.isdigit() else 1, 1000))
    found = await flash_service.list_sales(session=session, merchant_id=ctx.merchant_id,
                                           limit=page_no * FLASH_PAGE + 1)
    sales = found[(page_no - 1) * FLASH_PAGE:page_no * FLASH_PAGE]
    campaigns = await campaigns_service.list_campaigns(session=session, merchant_id=ctx.merchant_id,
                                                       include_ended=False, limit=100)
    return page(request, "console/flash_sales.html", {
        "sales": sales, "page_no": page_no, "has_next": len(found) > page_no * FLASH_PAGE,
        "choices": await _product_choices(session, ctx, pq), "pq": pq, "campaigns": campaigns,
        "values": values or {}, "field_errors": field_errors or {}, "errors": errors or []}, status=status)


@router.get("/flash-sales")
async def flash_sales(request: Request, session: SessionDep) -> Response:
    """The shop's flash sales with their live figures, and the form to create one."""
    return await _flash_page(request, session, await staff_of(request, session, "marketing.manage"))


@router.post("/flash-sales")
async def create_flash_sale(request: Request, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "marketing.manage")
    v = await _form(request)
    lang = lang_of(request)
    field_errors: dict[str, str] = {}
    price = _fen(v.get("price"))
    if not v.get("variant_id"):
        field_errors["variant_id"] = i18n.translate(lang, "flash_err_variant")
    if price is None or price <= 0:
        field_errors["price"] = i18n.translate(lang, "flash_err_price")
    for f in ("quantity", "per_buyer_limit"):
        if not v.get(f, "").isdigit() or int(v[f]) < 1:
            field_errors[f] = i18n.translate(lang, "flash_err_" + ("quantity" if f == "quantity" else "limit_n"))
    starts, ends = _local_datetime(v.get("starts_at")), _local_datetime(v.get("ends_at"))
    if starts is None:
        field_errors["starts_at"] = i18n.translate(lang, "flash_err_time")
    if ends is None:
        field_errors["ends_at"] = i18n.translate(lang, "flash_err_time")
    elif starts is not None and ends <= starts:  # both strings are Shanghai time in one format: they compare
        field_errors["ends_at"] = i18n.translate(lang, "flash_err_order")
    if "quantity" not in field_errors and "per_buyer_limit" not in field_errors and \
            int(v["per_buyer_limit"]) > int(v["quantity"]):
        field_errors["per_buyer_limit"] = i18n.translate(lang, "flash_err_limit")
    if field_errors:
        return await _flash_page(request, session, ctx, values=v, field_errors=field_errors, status=422)
    try:
        body = FlashSaleIn.model_validate({
            "variant_id": v.get("variant_id"), "price": price, "quantity": v.get("quantity"),
            "per_buyer_limit": v.get("per_buyer_limit"), "starts_at": starts, "ends_at": ends,
            "campaign_id": v.get("campaign_id") or None})
        await audit(session, ctx, "create_flash_sale", "flash_sale", None, variant_id=body.variant_id,
                    quantity=body.quantity)
        await flash_service.create_sale(session=session, merchant_id=ctx.merchant_id, body=body,
                                        gate=request.app.state.flash_gate)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        by_field, general = _flash_errors(exc, lang)
        return await _flash_page(request, session, ctx, values=v, field_errors=by_field, errors=general,
                                 status=422 if not isinstance(exc, DomainError) or exc.status < 500 else exc.status)
    return redirect("/console/flash-sales")


__all__ = ["StaffMember", "router", "staff_of"]
