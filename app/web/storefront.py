"""The shop front: browse, search, product, cart, checkout, order page, customer account."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.catalog import service as catalog_service
from app.core import auth
from app.core.auth import Principal
from app.core.clock import utcnow
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Conflict, DomainError, NotFound
from app.inventory import service as inventory_service
from app.merchants import service as merchants_service
from app.orders import access as orders_access
from app.orders import views as orders_views
from app.orders.models import Order
from app.orders.returns import service as orders_returns
from app.payments import registry as payments_registry
from app.retail import service as retail_service
from app.retail.api import device_of
from app.retail.campaigns import rules as campaign_rules
from app.retail.campaigns import service as campaigns_service
from app.retail.schemas import CheckoutIn, CustomerCreate
from app.trust import reviews as trust_reviews
from app.trust.schemas import ReviewIn
from app.web import i18n
from app.web import payment as web_payment
from app.web.pages import (
    LANG_COOKIE,
    YEAR,
    WebRoute,
    check_csrf,
    form_errors,
    read_cookie,
    redirect,
    render,
    set_cookie,
)

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CART, ORDERS, CUSTOMER, PAYMENT = "cart", "orders", "cust", "pay"
PAGE_SIZE = 24


def _safe_next(value: str | None) -> str:
    return value if value and value.startswith("/") and not value.startswith("//") else "/"


async def customer_of(request: Request, session: AsyncSession) -> Principal | None:
    """The signed-in customer (the access token kept in an HttpOnly cookie), or None."""
    token = read_cookie(request, CUSTOMER)
    if not token:
        return None
    try:
        principal = await auth.resolve(session, token=token, admin_token=None, secret=request.app.state.secret_key)
    except DomainError:
        return None
    return principal if principal.kind == "customer" else None


async def _categories(session: AsyncSession, lang: str) -> list[dict[str, str]]:
    return [{"slug": c.slug, "name": c.name_zh if lang == "zh" else c.name_en}
            for c in await catalog_service.list_categories(session=session)]


@router.get("/lang/{code}")
async def switch_lang(code: str, next: str | None = None) -> Response:
    response = redirect(_safe_next(next))
    response.set_cookie(LANG_COOKIE, i18n.pick(code), max_age=YEAR, samesite="lax", path="/")
    return response


@router.get("/")
async def home(request: Request, session: SessionDep, category: str | None = None) -> Response:
    lang = i18n.pick(request.cookies.get(LANG_COOKIE))
    products, _ = await catalog_service.list_products(session=session, q=None, category=category, merchant_id=None,
                                                      viewer_merchant_id=None, before=None, limit=PAGE_SIZE)
    campaigns = await campaigns_service.list_campaigns(session=session, merchant_id=None, include_ended=False,
                                                       limit=5)
    return render(request, "home.html", {"categories": await _categories(session, lang), "products": products,
                                         "category": category, "campaigns": campaigns})


@router.get("/campaigns/{slug}")
async def campaign_page(request: Request, slug: str, session: SessionDep) -> Response:
    """A festival campaign's landing page with its countdown, products and coupon codes."""
    campaign = await campaigns_service.get_campaign(session=session, campaign_ref=slug[:60])
    target = campaign_rules.countdown_target(starts_at=campaign["starts_at"], ends_at=campaign["ends_at"],
                                             now=utcnow())
    return render(request, "campaign.html", {"campaign": campaign, "until": target.isoformat() if target else None})


@router.get("/search")
async def search(request: Request, session: SessionDep, q: str = "", category: str | None = None) -> Response:
    q = q.strip()[:100]
    products: list[dict[str, Any]] = []
    if q or category:
        products, _ = await catalog_service.list_products(session=session, q=q or None, category=category,
                                                          merchant_id=None, viewer_merchant_id=None, before=None,
                                                          limit=PAGE_SIZE)
    return render(request, "search.html", {"q": q, "products": products})


@router.get("/products/{product_id}")
async def product_page(request: Request, product_id: str, session: SessionDep) -> Response:
    product = await catalog_service.get_product(session=session, product_id=product_id, viewer_merchant_id=None)
    stock = {v["id"]: await _availability(session, product["merchant_id"], v["sku"]) for v in product["variants"]}
    return render(request, "product.html", {"product": product, "stock": stock,
                                            "added": request.query_params.get("added") == "1"})


async def _availability(session: AsyncSession, merchant_id: str, sku: str) -> dict[str, Any]:
    return await inventory_service.public_availability(session, sku=sku, merchant_id=merchant_id,
                                                       viewer_merchant_id=None)


@router.post("/cart/items")
async def add_to_cart(request: Request, session: SessionDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    variant_id = str(form.get("variant_id", ""))[:40]
    try:
        quantity = max(1, min(int(str(form.get("quantity", "1"))), 10_000))
    except ValueError:
        quantity = 1
    principal = await customer_of(request, session)
    cart_id = read_cookie(request, CART)
    cart = None
    if cart_id:
        try:
            cart = await retail_service.add_item(session=session, principal=principal, cart_id=cart_id,
                                                 variant_id=variant_id, quantity=quantity)
        except (NotFound, Conflict):  # the cart is gone or was checked out: start a new one
            await session.rollback()
            cart = None
    if cart is None:
        created = await retail_service.create_cart(session=session, principal=principal)
        cart = await retail_service.add_item(session=session, principal=principal, cart_id=created["id"],
                                             variant_id=variant_id, quantity=quantity)
    back = _safe_next(str(form.get("next", "")) or None)
    response = redirect(back + ("&" if "?" in back else "?") + "added=1" if back != "/" else "/cart")
    set_cookie(response, request, CART, cart["id"], max_age=30 * 24 * 3600)
    return response


@router.post("/cart/remove")
async def remove_from_cart(request: Request, session: SessionDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    cart_id = read_cookie(request, CART)
    if cart_id:
        await retail_service.remove_item(session=session, principal=await customer_of(request, session),
                                         cart_id=cart_id, variant_id=str(form.get("variant_id", ""))[:40])
    return redirect("/cart")


async def _cart(request: Request, session: AsyncSession, principal: Principal | None) -> dict[str, Any] | None:
    cart_id = read_cookie(request, CART)
    if not cart_id:
        return None
    try:
        cart = await retail_service.get_cart(session=session, principal=principal, cart_id=cart_id)
    except NotFound:
        return None
    return cart if cart["status"] == "open" else None


@router.get("/cart")
async def cart_page(request: Request, session: SessionDep) -> Response:
    cart = await _cart(request, session, await customer_of(request, session))
    return render(request, "cart.html", {"cart": cart})


async def _pickup_stores(session: AsyncSession, cart: dict[str, Any] | None) -> list[Any]:
    merchants = {i["merchant_id"] for i in (cart or {}).get("items", [])}
    if len(merchants) != 1:
        return []
    return [loc for loc in await merchants_service.list_locations(session=session, merchant_id=merchants.pop())
            if loc.kind in ("store", "pickup_point")]


async def _checkout_page(request: Request, session: AsyncSession, principal: Principal | None,
                         values: dict[str, str], errors: list[str], status: int = 200) -> Response:
    cart = await _cart(request, session, principal)
    if cart is None or not cart["items"]:
        return redirect("/cart")
    return render(request, "checkout.html", {
        "cart": cart, "stores": await _pickup_stores(session, cart), "signed_in": principal is not None,
        "payment_options": payments_registry.offered(request.app.state.settings, "retail"),
        "sandboxed": web_payment.SANDBOXED if request.app.state.settings.shop_payments_sandbox else (),
        "values": values, "errors": errors, "key": values.get("key") or secrets.token_urlsafe(16)}, status=status)


@router.get("/checkout")
async def checkout_page(request: Request, session: SessionDep) -> Response:
    return await _checkout_page(request, session, await customer_of(request, session),
                                {"fulfilment": "pickup", "payment_method": "cod", "country": "CN"}, [])


def checkout_body(cart_id: str, values: dict[str, str], *, guest: bool) -> CheckoutIn:
    """The API's checkout request built from the form (validated by the same schema)."""
    fulfilment: dict[str, Any]
    if values.get("fulfilment") == "pickup":
        fulfilment = {"type": "pickup", "location_id": values.get("location_id", "")}
    else:
        fulfilment = {"type": "delivery", "address": {
            k: values.get(k) or None for k in ("name", "phone", "line1", "district", "city", "province",
                                               "postal_code", "country")}}
    return CheckoutIn.model_validate({
        "cart_id": cart_id, "email": values.get("email") or None if guest else None, "fulfilment": fulfilment,
        "payment_method": values.get("payment_method", "cod"), "coupon_code": values.get("coupon_code") or None,
        "confirm_return_exclusions": values.get("confirm_return_exclusions") == "1"})


@router.post("/checkout")
async def checkout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    values = {k: str(v).strip()[:200] for k, v in form.items() if isinstance(v, str)}
    principal = await customer_of(request, session)
    cart_id = read_cookie(request, CART)
    if not cart_id:
        return redirect("/cart")
    try:
        body = checkout_body(cart_id, values, guest=principal is None)
        _, out = await retail_service.checkout(session=session, settings=settings, principal=principal, body=body,
                                               idempotency_key=values.get("key") or None,
                                               device=device_of(request.headers.get("user-agent")),
                                               client_ip=request.client.host if request.client else None)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _checkout_page(request, session, principal, values, form_errors(exc), status=422)
    ids = [o["id"] for o in out["orders"]]
    known = [i for i in (read_cookie(request, ORDERS) or "").split(",") if i and i not in ids]
    response = redirect(f"/orders/{ids[0]}?placed=1")
    set_cookie(response, request, ORDERS, ",".join((ids + known)[:20]), max_age=YEAR)
    response.delete_cookie(CART, path="/")
    if out.get("payment") and out["payment"].get("client_secret"):
        set_cookie(response, request, PAYMENT, out["payment"]["client_secret"], max_age=3600)
    return web_payment.after_checkout(request, response, out)


async def _visible_order(request: Request, session: AsyncSession, order_id: str
                         ) -> tuple[orders_views.OrderView, Principal | None]:
    """An order this browser placed (signed cookie) or the signed-in customer's; 404 otherwise."""
    principal = await customer_of(request, session)
    if principal is not None:
        try:
            order = await orders_access.get_visible(session, principal=principal, order_id=order_id)
            return await orders_views.view(session, order=order), principal
        except NotFound:
            pass
    if order_id not in (read_cookie(request, ORDERS) or "").split(","):
        raise NotFound("order", order_id)
    found = await session.get(Order, order_id)
    if found is None:
        raise NotFound("order", order_id)
    return await orders_views.view(session, order=found), principal


@router.get("/orders/{order_id}")
async def order_page(request: Request, order_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    order, principal = await _visible_order(request, session, order_id)
    pay_secret = read_cookie(request, PAYMENT) if payments_registry.prepaid(order["payment_method"]) else None
    return render(request, "order.html", {
        "order": order, "placed": request.query_params.get("placed") == "1", "customer": principal is not None,
        "notice": request.query_params.get("done"), "pay_secret": pay_secret if order["status"] ==
        "pending_payment" and order["payment_method"] == "stripe" else None,
        "stripe_key": settings.stripe_publishable_key, **web_payment.order_payment(request, order, settings)})


@router.post("/orders/{order_id}/return")
async def request_return(request: Request, order_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    order, principal = await _visible_order(request, session, order_id)
    if principal is None:
        return redirect(f"/account/login?next=/orders/{order_id}")
    lines = [(ln["variant_id"], ln["quantity"] - ln["returned_quantity"]) for ln in order["lines"]
             if ln["quantity"] > ln["returned_quantity"]]
    await orders_returns.request_return(session, settings=settings, principal=principal, order_id=order_id,
                                        lines=lines, reason=str(form.get("reason", ""))[:500] or "-",
                                        kind="quality" if form.get("kind") == "quality" else "no_reason")
    return redirect(f"/orders/{order_id}?done=return")


@router.post("/orders/{order_id}/review")
async def review(request: Request, order_id: str, session: SessionDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    _, principal = await _visible_order(request, session, order_id)
    if principal is None:
        return redirect(f"/account/login?next=/orders/{order_id}")
    try:
        review_in = ReviewIn.model_validate({"rating": form.get("rating"), "text": form.get("text", "")})
    except ValidationError as exc:
        return render(request, "error.html", {"messages": form_errors(exc)}, status=422)
    await trust_reviews.add_review(session=session, principal=principal, order_id=order_id, review_in=review_in)
    return redirect(f"/orders/{order_id}?done=review")


# ---- customer account ------------------------------------------------------------------------------------

@router.get("/account/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "account_login.html", {"next_url": _safe_next(next), "errors": []})


@router.post("/account/login")
async def login(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    next_url = _safe_next(str(form.get("next", "")) or None)
    try:
        token, ttl = await retail_service.issue_token(session=session, settings=settings,
                                                      secret=request.app.state.secret_key,
                                                      email=str(form.get("email", ""))[:254],
                                                      password=str(form.get("password", ""))[:200])
    except DomainError as exc:
        return render(request, "account_login.html", {"next_url": next_url, "errors": form_errors(exc)},
                      status=401)
    response = redirect(next_url)
    set_cookie(response, request, CUSTOMER, token, max_age=ttl)
    return response


@router.post("/account/register")
async def register(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    try:
        body = CustomerCreate.model_validate({k: form.get(k) for k in ("email", "password", "name")})
        await retail_service.register(session=session, email=body.email, password=body.password, name=body.name)
    except (ValidationError, DomainError) as exc:
        return render(request, "account_login.html", {"next_url": "/", "errors": form_errors(exc)}, status=422)
    return await login(request, session, settings)


@router.post("/account/logout")
async def logout(request: Request) -> Response:
    check_csrf(request, await request.form())
    response = redirect("/")
    response.delete_cookie(CUSTOMER, path="/")
    return response


@router.get("/account")
async def account(request: Request, session: SessionDep) -> Response:
    principal = await customer_of(request, session)
    if principal is None:
        return redirect("/account/login?next=/account")
    orders, _ = await orders_access.list_for(session, principal=principal, status=None, channel=None, before=None,
                                              limit=50)
    return render(request, "account.html", {"orders": orders})
