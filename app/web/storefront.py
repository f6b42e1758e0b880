"""The shop front: browse, search, product, cart, checkout, order page, customer account."""

from __future__ import annotations

import json
import secrets
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import PlainTextResponse, Response

from app.catalog import service as catalog_service
from app.catalog.media import service as media_service
from app.catalog.models import Product, Variant
from app.catalog.options import pick as pick_variant
from app.config import Settings
from app.core import auth
from app.core.auth import Principal
from app.core.clock import utcnow
from app.core.deps import ReadSessionDep, SessionDep, SettingsDep
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.logistics import service as logistics_service
from app.merchants import service as merchants_service
from app.merchants.models import Merchant
from app.orders import access as orders_access
from app.orders import fulfilment as orders_fulfilment
from app.orders import terms as order_terms
from app.orders import views as orders_views
from app.orders.invoices import service as invoices_service
from app.orders.models import Order
from app.orders.returns import service as orders_returns
from app.payments import registry as payments_registry
from app.retail import service as retail_service
from app.retail.api import device_of
from app.retail.campaigns import rules as campaign_rules
from app.retail.campaigns import service as campaigns_service
from app.retail.privacy import rules as privacy_rules
from app.retail.privacy import service as privacy_service
from app.retail.privacy.schemas import MyDataOut
from app.retail.schemas import CheckoutIn, CustomerCreate, DeliveryFulfilment
from app.trust import reputation
from app.trust import reviews as trust_reviews
from app.trust.schemas import ReviewIn
from app.web import checkout_form, flash_pages, i18n, page_cache, shop_reads
from app.web import payment as web_payment
from app.web.pages import (
    LANG_COOKIE,
    YEAR,
    WebRoute,
    check_csrf,
    form_errors,
    lang_of,
    read_cookie,
    redirect,
    render,
    set_cookie,
)
from app.web.shop_reads import Browse

router = APIRouter(route_class=WebRoute, include_in_schema=False)

CART, ORDERS, CUSTOMER, PAYMENT = "cart", "orders", "cust", "pay"
PAGE_SIZE = shop_reads.PAGE_SIZE
MAX_QUANTITY = 99  # per line, as the cart's quantity box allows; stock may allow fewer


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


def _listing_context(request: Request, b: Browse, cards: list[dict[str, Any]], total: int,
                     base: str) -> dict[str, Any]:
    """What the listing templates share: the cards, the pager and the filter form's values."""
    pages = max(1, -(-total // PAGE_SIZE))
    return {"products": cards, "browse": b, "total": total, "pages": pages, "base": base,
            "prev_url": f"{base}?{b.query(page=b.page - 1)}" if b.page > 1 else None,
            "next_url": f"{base}?{b.query(page=b.page + 1)}" if b.page < pages else None,
            "canonical": f"{base}?{b.query(page=b.page)}".rstrip("?")}


async def _listing(request: Request, session: AsyncSession, template: str, base: str, context: dict[str, Any],
                   *, merchant_id: str | None = None, product_ids: list[str] | None = None,
                   search_only: bool = False) -> Response:
    lang = i18n.pick(request.cookies.get(LANG_COOKIE) or request.query_params.get("lang"))
    b = Browse.from_query(request.query_params)
    cards: list[dict[str, Any]] = []
    total = 0
    if not search_only or b.q or b.category or b.filtered:
        cards, total = await shop_reads.browse(session, b, merchant_id=merchant_id, product_ids=product_ids)
    ctx = {"categories": await _categories(session, lang), "cities": await shop_reads.pickup_cities(session),
           "category": b.category, "q": b.q, **_listing_context(request, b, cards, total, base), **context}
    return render(request, template, ctx)


async def _home(request: Request, session: AsyncSession) -> Response:
    campaigns = await campaigns_service.list_campaigns(session=session, merchant_id=None, include_ended=False,
                                                       limit=5)
    return await _listing(request, session, "home.html", "/", {"campaigns": campaigns})


@router.get("/")
async def home(request: Request, session: ReadSessionDep) -> Response:
    return await page_cache.serve(request, lambda: _home(request, session))


@router.get("/campaigns/{slug}")
async def campaign_page(request: Request, slug: str, session: ReadSessionDep) -> Response:
    """A festival campaign's landing page with its countdown, products (paged) and coupon codes."""
    campaign = await campaigns_service.get_campaign(session=session, campaign_ref=slug[:60])
    target = campaign_rules.countdown_target(starts_at=campaign["starts_at"], ends_at=campaign["ends_at"],
                                             now=utcnow())
    return await _listing(request, session, "campaign.html", f"/campaigns/{slug[:60]}",
                          {"campaign": campaign, "until": target.isoformat() if target else None,
                           "flash_sales": await flash_pages.campaign_blocks(session, campaign["id"])},
                          product_ids=[p["id"] for p in campaign["products"]])


@router.get("/search")
async def search(request: Request, session: ReadSessionDep) -> Response:
    return await page_cache.serve(request, lambda: _listing(request, session, "search.html", "/search", {},
                                                            search_only=True))


@router.get("/shops/{merchant_id}")
async def shop_page(request: Request, merchant_id: str, session: ReadSessionDep, settings: SettingsDep) -> Response:
    """A seller's shop: who they are (licence or self-declaration badge), their rating, their products."""
    profile = await reputation.profile(session=session, settings=settings, principal=None,
                                       merchant_id=merchant_id[:40])
    return await _listing(request, session, "shop.html", f"/shops/{profile['id']}", {"seller": profile},
                          merchant_id=profile["id"])


def _variant_view(v: dict[str, Any], avail: dict[str, Any], promos: list[dict[str, Any]], product_media:
                  list[dict[str, Any]], lang: i18n.Lang) -> dict[str, Any]:
    """What the option picker's script needs about one variant (no per-place counts)."""
    best = promos[0] if promos else None
    promoted = shop_reads.promoted_price(v["price"], best) if best else None
    media = v.get("media") or product_media
    return {"id": v["id"], "sku": v["sku"], "attributes": v.get("attributes") or {}, "price": v["price"],
            "price_text": i18n.money(v["price"], v["currency"]),
            "promo_text": (i18n.translate(lang, "with_coupon", code=best["code"],
                                          price=i18n.money(promoted, v["currency"]))
                           if best and promoted is not None and promoted < v["price"] else ""),
            "available": avail["available"], "stock_text": stock_words(avail, lang),
            "pictures": [{"src": m["renditions"]["medium"], "srcset": _srcset(m), "alt": m.get("alt") or "",
                          "width": m.get("width"), "height": m.get("height")} for m in media]}


def stock_words(avail: dict[str, Any], lang: i18n.Lang) -> str:
    """有货 / 仅剩 3 件 / 已售罄, and where it can be collected today: never a count per place."""
    n = int(avail["available"])
    if n <= 0:
        words = i18n.translate(lang, "sold_out")
    elif n <= shop_reads.FEW_LEFT:
        words = i18n.translate(lang, "few_left", n=n)
    else:
        words = i18n.translate(lang, "in_stock")
    if n > 0 and avail["pickup"]:
        words += " · " + i18n.translate(lang, "pickup_at", places="、".join(avail["pickup"][:3]))
    return words


def _srcset(m: dict[str, Any]) -> str:
    r = m.get("renditions") or {}
    widths = (("thumb", 320), ("medium", 800), ("large", 1600))
    return ", ".join(f"{r[k]} {w}w" for k, w in widths if r.get(k))


def _json_ld(request: Request, product: dict[str, Any], seller: dict[str, Any], stock: dict[str, Any]) -> str:
    """schema.org Product with one Offer per variant, for search engines and link previews."""
    base = str(request.base_url).rstrip("/")
    offers = [{"@type": "Offer", "sku": v["sku"], "price": f"{v['price'] / 100:.2f}",
               "priceCurrency": v["currency"], "url": f"{base}/products/{product['id']}",
               "availability": "https://schema.org/" + ("InStock" if stock[v["id"]]["available"] > 0
                                                        else "OutOfStock"),
               "seller": {"@type": "Organization", "name": seller["name"]}} for v in product["variants"]]
    data: dict[str, Any] = {"@context": "https://schema.org", "@type": "Product", "name": product["title"],
                            "description": product["description"][:500], "sku": product["variants"][0]["sku"]
                            if product["variants"] else None, "offers": offers,
                            "image": [base + m["renditions"]["large"] for m in product.get("media", [])][:5]}
    if seller.get("rating") is not None and seller.get("rating_count"):
        data["aggregateRating"] = {"@type": "AggregateRating", "ratingValue": seller["rating"],
                                   "reviewCount": seller["rating_count"]}
    # `</` must not end the script element early.
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


@router.get("/products/{product_id}")
async def product_page(request: Request, product_id: str, session: ReadSessionDep) -> Response:
    return await page_cache.serve(request, lambda: _product_page(request, product_id, session))


async def _product_page(request: Request, product_id: str, session: AsyncSession) -> Response:
    lang = i18n.pick(request.cookies.get(LANG_COOKIE) or request.query_params.get("lang"))
    product = await catalog_service.get_product(session=session, product_id=product_id[:40],
                                                 viewer_merchant_id=None)
    stock = await shop_reads.availability(session, [v["id"] for v in product["variants"]])
    promos = await shop_reads.live_promotions(session, product["merchant_id"])
    seller = await shop_reads.seller_summary(session, product["merchant_id"])
    variants = [_variant_view(v, stock[v["id"]], promos, product.get("media", []), lang)
                for v in product["variants"]]
    chosen = _chosen(product, request.query_params, stock)
    return render(request, "product.html", {
        "product": product, "stock": stock, "variants": variants, "picker": shop_reads.picker(product, stock),
        "chosen": chosen, "chosen_view": next((x for x in variants if chosen and x["id"] == chosen["id"]), None),
        "seller": seller, "reviews": await shop_reads.product_reviews(session, product["id"]),
        "variants_json": json.dumps(variants, ensure_ascii=False).replace("</", "<\\/"),
        "json_ld": _json_ld(request, product, seller, stock), "promos": promos,
        "added": request.query_params.get("added") == "1", "cart_error": request.query_params.get("error"),
        "canonical": f"/products/{product['id']}", "description": product["description"][:150],
        "flash_sales": await flash_pages.product_blocks(session, product["id"])})


def _chosen(product: dict[str, Any], params: Any, stock: dict[str, Any]) -> dict[str, Any] | None:
    """The variant the URL names (`variant=`), else the first in stock, else the first."""
    wanted = params.get("variant")
    for v in product["variants"]:
        if v["id"] == wanted:
            return dict(v)
    for v in product["variants"]:
        if stock[v["id"]]["available"] > 0:
            return dict(v)
    return dict(product["variants"][0]) if product["variants"] else None


@router.get("/robots.txt")
async def robots(request: Request) -> Response:
    base = str(request.base_url).rstrip("/")
    return PlainTextResponse("User-agent: *\nDisallow: /cart\nDisallow: /checkout\nDisallow: /orders/\n"
                             "Disallow: /account\nDisallow: /console/\nDisallow: /leader/\nDisallow: /v1/\n"
                             f"Sitemap: {base}/sitemap.xml\n")


SITEMAP_LIMIT = 50_000  # the protocol's limit per file


@router.get("/sitemap.xml")
async def sitemap(request: Request, session: SessionDep) -> Response:
    """The home page, every category, every public product and every seller with one."""
    base = str(request.base_url).rstrip("/")
    rows = (await session.execute(
        select(Product.id, Product.merchant_id, Product.updated_at).join(Merchant, Merchant.id == Product.merchant_id)
        .where(Product.status == "active", Merchant.status == "active", Merchant.listed).order_by(Product.id.desc())
        .limit(SITEMAP_LIMIT - 100))).all()
    urls = [f"{base}/"] + [f"{base}/?category={c.slug}" for c in await catalog_service.list_categories(
        session=session)]
    urls += [f"{base}/shops/{m}" for m in sorted({r.merchant_id for r in rows})]
    entries = [f"<url><loc>{xml_escape(u)}</loc></url>" for u in urls]
    entries += [f"<url><loc>{base}/products/{r.id}</loc><lastmod>{r.updated_at.date().isoformat()}</lastmod></url>"
                for r in rows]
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(entries) + "</urlset>\n")
    return Response(body, media_type="application/xml")


def _quantity(raw: object) -> int | None:
    try:
        return int(str(raw).strip())
    except ValueError:
        return None


async def _open_cart(request: Request, session: AsyncSession, principal: Principal | None) -> dict[str, Any]:
    """This browser's open cart, made when it has none (or its old one was checked out)."""
    cart_id = read_cookie(request, CART)
    if cart_id:
        try:
            cart = await retail_service.get_cart(session=session, principal=principal, cart_id=cart_id)
            if cart["status"] == "open":
                return cart
        except NotFound:
            pass
    return await retail_service.create_cart(session=session, principal=principal)


def _with_error(url: str, code: str) -> str:
    return url + ("&" if "?" in url else "?") + f"error={code}"


@router.post("/cart/items")
async def add_to_cart(request: Request, session: SessionDep) -> Response:
    """Add the chosen variant: named by `variant_id`, or by one value per option (`opt.颜色=黑色` ...). A
    combination that does not exist or is sold out, or more than is in stock, is refused with a message."""
    form = await request.form()
    check_csrf(request, form)
    lang = i18n.pick(request.cookies.get(LANG_COOKIE))
    variant_id = str(form.get("variant_id", ""))[:40]
    chosen = {k[4:]: str(v) for k, v in form.items() if k.startswith("opt.") and isinstance(v, str)}
    product_id = str(form.get("product_id", ""))[:40]
    back = _safe_next(str(form.get("next", "")) or (f"/products/{product_id}" if product_id else None))
    if chosen and product_id:
        product = await catalog_service.get_product(session=session, product_id=product_id, viewer_merchant_id=None)
        found = pick_variant(product["variants"], chosen) if len(chosen) == len(product["options"] or chosen) \
            else None
        if found is None:
            return redirect(_with_error(back, "no_such_option"))
        variant_id = str(found["id"])
    quantity = _quantity(form.get("quantity", "1"))
    if quantity is None or not 1 <= quantity <= MAX_QUANTITY:
        return redirect(_with_error(back, "quantity"))
    sellable = (await catalog_service.sellable_variants(session=session, variant_ids=[variant_id])).get(variant_id)
    if sellable is None or not sellable.sellable:
        return render(request, "error.html", {"messages": [i18n.translate(lang, "no_such_product")],
                                              "status": 422}, status=422)
    principal = await customer_of(request, session)
    cart = await _open_cart(request, session, principal)
    in_cart = next((i["quantity"] for i in cart["items"] if i["variant_id"] == variant_id), 0)
    available = (await shop_reads.availability(session, [variant_id]))[variant_id]["available"]
    if available <= 0:
        return redirect(_with_error(back, "sold_out"))
    if in_cart + quantity > available:
        return redirect(_with_error(back, "not_enough"))
    try:
        cart = await retail_service.add_item(session=session, principal=principal, cart_id=cart["id"],
                                             variant_id=variant_id, quantity=quantity)
    except DomainError as exc:
        await session.rollback()
        return render(request, "error.html", {"messages": [i18n.translate(lang, "no_such_product")],
                                              "status": exc.status}, status=exc.status)
    response = redirect(back + ("&" if "?" in back else "?") + "added=1" if back != "/" else "/cart")
    set_cookie(response, request, CART, cart["id"], max_age=30 * 24 * 3600)
    return response


@router.post("/cart/update")
async def update_cart(request: Request, session: SessionDep) -> Response:
    """Change a line's quantity; more than the stock can promise is refused at once, beside that line."""
    form = await request.form()
    check_csrf(request, form)
    cart_id = read_cookie(request, CART)
    variant_id = str(form.get("variant_id", ""))[:40]
    quantity = _quantity(form.get("quantity", ""))
    if not cart_id:
        return redirect("/cart")
    if quantity is None or not 0 <= quantity <= MAX_QUANTITY:
        return redirect(f"/cart?error=quantity&line={variant_id}")
    available = (await shop_reads.availability(session, [variant_id]))[variant_id]["available"]
    if quantity > available:
        return redirect(f"/cart?error=not_enough&line={variant_id}&n={available}")
    try:
        await retail_service.set_quantity(session=session, principal=await customer_of(request, session),
                                          cart_id=cart_id, variant_id=variant_id, quantity=quantity)
    except (NotFound, Conflict, DomainError):
        await session.rollback()
        return redirect("/cart")
    return redirect("/cart?updated=1")


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


async def _dress_lines(session: AsyncSession, lines: list[dict[str, Any]], lang: i18n.Lang) -> None:
    """Give cart or order lines their picture (the variant's, else the product's), options and stock words."""
    variant_ids = [str(ln["variant_id"]) for ln in lines]
    if not variant_ids:
        return
    rows = (await session.execute(select(Variant.id, Variant.product_id, Variant.attributes, Product.options)
                                  .join(Product, Product.id == Variant.product_id)
                                  .where(Variant.id.in_(variant_ids)))).all()
    product_of = {r.id: r.product_id for r in rows}
    # In the product's option order (颜色 before 尺码): JSONB keeps an object's keys in its own order.
    attrs = {r.id: [(r.attributes or {}).get(o["name"], "") for o in (r.options or [])]
             or list((r.attributes or {}).values()) for r in rows}
    by_product, by_variant = await media_service.media_of(session, sorted(set(product_of.values())))
    stock = await shop_reads.availability(session, variant_ids)
    for ln in lines:
        vid = str(ln["variant_id"])
        pics = by_variant.get(vid) or by_product.get(product_of.get(vid, ""), [])
        ln["picture"] = pics[0] if pics else None
        ln["product_id"] = product_of.get(vid)
        ln["options_text"] = " / ".join(str(x) for x in attrs.get(vid, []) if x)
        ln["stock"] = stock.get(vid, {"available": 0, "pickup": []})


@router.get("/cart")
async def cart_page(request: Request, session: SessionDep) -> Response:
    lang = i18n.pick(request.cookies.get(LANG_COOKIE) or request.query_params.get("lang"))
    cart = await _cart(request, session, await customer_of(request, session))
    if cart:
        await _dress_lines(session, cart["items"], lang)
    error = request.query_params.get("error")
    line_error = None
    if error == "not_enough":
        line_error = i18n.translate(lang, "only_n_left", n=_quantity(request.query_params.get("n", "0")) or 0)
    elif error == "quantity":
        line_error = i18n.translate(lang, "bad_quantity", max=MAX_QUANTITY)
    return render(request, "cart.html", {"cart": cart, "line_error": line_error,
                                         "error_line": request.query_params.get("line"),
                                         "max_quantity": MAX_QUANTITY})


async def _pickup_stores(session: AsyncSession, cart: dict[str, Any] | None) -> list[Any]:
    merchants = {i["merchant_id"] for i in (cart or {}).get("items", [])}
    if len(merchants) != 1:
        return []
    return [loc for loc in await merchants_service.list_locations(session=session, merchant_id=merchants.pop())
            if loc.kind in ("store", "pickup_point")]


async def _checkout_page(request: Request, session: AsyncSession, principal: Principal | None,
                         values: dict[str, str], field_errors: dict[str, str], errors: list[str],
                         status: int = 200) -> Response:
    cart = await _cart(request, session, principal)
    if cart is None or not cart["items"]:
        return redirect("/cart")
    lang = i18n.pick(request.cookies.get(LANG_COOKIE) or request.query_params.get("lang"))
    await _dress_lines(session, cart["items"], lang)
    book = (await retail_service.address_book(session=session, customer_id=principal.subject_id)
            if principal is not None and principal.subject_id else [])
    return render(request, "checkout.html", {
        "cart": cart, "stores": await _pickup_stores(session, cart), "signed_in": principal is not None,
        "address_book": book,
        "payment_options": payments_registry.offered(request.app.state.settings, "retail"),
        "sandboxed": web_payment.SANDBOXED if request.app.state.settings.shop_payments_sandbox else (),
        "values": values, "errors": errors, "field_errors": field_errors, "provinces": checkout_form.PROVINCES,
        "key": values.get("key") or secrets.token_urlsafe(16), "terms_version": order_terms.CURRENT}, status=status)


@router.get("/checkout")
async def checkout_page(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    step = web_payment.openid_step(request, settings, "/checkout")  # inside WeChat: learn the buyer's openid first
    if step is not None:
        return step
    principal = await customer_of(request, session)
    values = {"fulfilment": "delivery", "payment_method": "cod", "country": "CN"}
    if principal is not None and principal.subject_id:  # the address book: the one chosen, else the one used last
        book = await retail_service.address_book(session=session, customer_id=principal.subject_id)
        wanted = request.query_params.get("address")
        chosen = next((a for a in book if a["id"] == wanted), book[0] if book else None)
        if chosen:
            values.update({k: str(chosen.get(k) or "") for k in checkout_form.ADDRESS_FIELDS})
            values["address_id"] = str(chosen["id"])
    return await _checkout_page(request, session, principal, values, {}, [])


def checkout_body(cart_id: str, values: dict[str, str], *, guest: bool, openid: str | None = None) -> CheckoutIn:
    """The API's checkout request built from the form (validated by the same schema); `openid`: the buyer's, inside
    WeChat, so that WeChat Pay is paid by JSAPI."""
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
        "confirm_return_exclusions": values.get("confirm_return_exclusions") == "1",
        **({"wechat_openid": openid} if openid and values.get("payment_method") == "wechatpay" else {}),
        "invoice": checkout_form.invoice_request(values) if values.get("invoice") == "1" else None})


@router.post("/checkout")
async def checkout(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    lang = i18n.pick(request.cookies.get(LANG_COOKIE))
    values = {k: str(v).strip()[:200] for k, v in form.items() if isinstance(v, str)}
    values["country"] = "CN"
    principal = await customer_of(request, session)
    cart_id = read_cookie(request, CART)
    if not cart_id:
        return redirect("/cart")
    field_errors = checkout_form.page_checks(values, guest=principal is None, lang=lang)
    if field_errors:
        return await _checkout_page(request, session, principal, values, field_errors, [], status=422)
    try:
        body = checkout_body(cart_id, values, guest=principal is None, openid=web_payment.openid_of(request))
        _, out = await retail_service.checkout(session=session, settings=settings, principal=principal, body=body,
                                               idempotency_key=values.get("key") or None,
                                               device=device_of(request.headers.get("user-agent")),
                                               client_ip=request.client.host if request.client else None)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        cart = await _cart(request, session, principal)
        titles = {i["sku"]: i["title"] for i in (cart or {}).get("items", [])}
        by_field, general = checkout_form.api_errors(exc, lang, titles=titles)
        return await _checkout_page(request, session, principal, values, by_field, general, status=422)
    if principal is not None and principal.subject_id and isinstance(body.fulfilment, DeliveryFulfilment):
        await retail_service.remember_address(session=session, customer_id=principal.subject_id,
                                              address=body.fulfilment.address.model_dump(exclude_none=True))
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
    return await _order_page(request, order_id, session, settings)


async def _order_page(request: Request, order_id: str, session: AsyncSession, settings: Settings, *,
                      values: dict[str, str] | None = None, field_errors: dict[str, str] | None = None,
                      status: int = 200) -> Response:
    order, principal = await _visible_order(request, session, order_id)
    pay_secret = read_cookie(request, PAYMENT) if payments_registry.prepaid(order["payment_method"]) else None
    lines = [dict(ln) for ln in order["lines"]]
    await _dress_lines(session, lines, i18n.pick(request.cookies.get(LANG_COOKIE)))
    journey = await logistics_service.journey(session, order_id=order["id"]) if order["shipments"] else []
    found = await session.get(Order, order_id)
    invoicing = await invoices_service.invoices_of(session, order=found) if found else {"request": None, "items": []}
    asked = invoicing["request"] or {}
    return render(request, "order.html", {"lines": lines, "journey": journey,
        "order": order, "placed": request.query_params.get("placed") == "1", "customer": principal is not None,
        "notice": request.query_params.get("done"), "pay_secret": pay_secret if order["status"] ==
        "pending_payment" and order["payment_method"] == "stripe" else None,
        "invoice_request": invoicing["request"], "invoices": invoicing["items"],
        "invoice_open": order["status"] != "cancelled" and not any(i["color"] == "blue" for i in invoicing["items"]),
        "values": values or {"invoice_kind": asked.get("kind") or "personal", "invoice_title": asked.get("title") or "",
                             "invoice_taxpayer_id": asked.get("taxpayer_id") or ""},
        "field_errors": field_errors or {},
        "stripe_key": settings.stripe_publishable_key, **web_payment.order_payment(request, order, settings)},
        status=status)


@router.post("/orders/{order_id}/invoice")
async def request_invoice(request: Request, order_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    """The buyer asks for an invoice (or changes the request) from the order page."""
    form = await request.form()
    check_csrf(request, form)
    _, principal = await _visible_order(request, session, order_id)
    if principal is None:
        return redirect(f"/account/login?next=/orders/{order_id}")
    lang = i18n.pick(request.cookies.get(LANG_COOKIE))
    values = {k: str(form.get(k, "")).strip()[:100] for k in checkout_form.INVOICE_FIELDS}
    field_errors = checkout_form.invoice_checks(values, lang)
    if not field_errors:
        asked = checkout_form.invoice_request(values)
        try:
            await invoices_service.request_invoice(session, principal=principal, order_id=order_id,
                                                   kind=str(asked["kind"]), title=str(asked["title"]),
                                                   taxpayer_id=asked["taxpayer_id"])
            return redirect(f"/orders/{order_id}?done=invoice")
        except InvalidInput as exc:
            await session.rollback()
            field_errors, _ = checkout_form.api_errors(exc, lang)
    return await _order_page(request, order_id, session, settings, values=values, field_errors=field_errors,
                             status=422)


@router.get("/orders/{order_id}/invoices/{invoice_id}.pdf")
async def invoice_pdf(request: Request, order_id: str, invoice_id: str, session: SessionDep) -> Response:
    """An invoice of an order this browser may see (its customer, or the browser that placed it)."""
    await _visible_order(request, session, order_id)
    name, pdf = await invoices_service.pdf_of_order(session, order_id=order_id, invoice_id=invoice_id)
    return Response(pdf, media_type="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


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


@router.post("/orders/{order_id}/confirm-receipt")
async def confirm_receipt(request: Request, order_id: str, session: SessionDep) -> Response:
    """确认收货: the signed-in customer signs for the parcel."""
    check_csrf(request, await request.form())
    _, principal = await _visible_order(request, session, order_id)
    if principal is None:
        return redirect(f"/account/login?next=/orders/{order_id}")
    await orders_fulfilment.confirm_receipt(session, principal=principal, order_id=order_id)
    return redirect(f"/orders/{order_id}?done=receipt")


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

_OPTIONAL_PURPOSES = [privacy_rules.PURPOSES[code] for code in privacy_rules.OPTIONAL]


@router.get("/account/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "account_login.html", {"next_url": _safe_next(next), "errors": [],
                                                  "optional_purposes": _OPTIONAL_PURPOSES})


def _ticked(form: Any) -> dict[str, bool]:
    """The optional purposes ticked on a form (unticked boxes are not sent: each starts off)."""
    return {code: form.get(f"consent_{code}") == "1" for code in privacy_rules.OPTIONAL}


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
    page = {"next_url": "/", "optional_purposes": _OPTIONAL_PURPOSES}
    if form.get("consent_required") != "1":
        missing = i18n.translate(lang_of(request), "privacy_missing")
        return render(request, "account_login.html", page | {"errors": [missing]}, status=422)
    try:
        body = CustomerCreate.model_validate({k: form.get(k) for k in ("email", "password", "name")})
        await retail_service.register(session=session, email=body.email, password=body.password, name=body.name,
                                      consents={code: True for code, given in _ticked(form).items() if given})
    except (ValidationError, DomainError) as exc:
        return render(request, "account_login.html", page | {"errors": form_errors(exc)}, status=422)
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
    consents = await privacy_service.consents_view(session, customer_id=str(principal.subject_id))
    return render(request, "account.html", {"orders": orders, "consents": consents["items"],
                                            "saved": request.query_params.get("saved") == "1"})


@router.post("/account/consents")
async def save_consents(request: Request, session: SessionDep) -> Response:
    """The account page's consent boxes: ticked optional purposes are given, unticked ones withdrawn."""
    form = await request.form()
    check_csrf(request, form)
    principal = await customer_of(request, session)
    if principal is None:
        return redirect("/account/login?next=/account")
    await privacy_service.set_consents(session=session, customer_id=str(principal.subject_id), choices=_ticked(form))
    return redirect("/account?saved=1")


@router.get("/account/data")
async def download_data(request: Request, session: SessionDep) -> Response:
    """Everything held about the signed-in customer, as the JSON file `GET /v1/me/data` gives."""
    principal = await customer_of(request, session)
    if principal is None:
        return redirect("/account/login?next=/account")
    data = MyDataOut.model_validate(await privacy_service.my_data(session=session, principal=principal))
    return Response(data.model_dump_json(indent=2), media_type="application/json",
                    headers={"Content-Disposition": 'attachment; filename="my-data.json"'})
