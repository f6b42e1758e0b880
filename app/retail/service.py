"""Retail use cases: customer accounts, carts, promotions and checkout."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import moderation, returns
from app.catalog import service as catalog_service
from app.catalog.models import Variant
from app.catalog.service import SellableVariant
from app.config import Settings
from app.core import auth, events, idempotency
from app.core.auth import Principal
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, Unauthenticated, field_error
from app.core.ids import new_id
from app.core.security import hash_password_off_loop, verify_password_off_loop
from app.db import fetch
from app.inventory import service as inventory_service
from app.inventory.service import Snapshot
from app.logistics import rules as logistics_rules
from app.logistics import service as logistics_service
from app.logistics.models import DeliveryPromise
from app.logistics.rules import DeliveryQuote, LineSpec
from app.merchants.models import Location
from app.orders import legal_hold
from app.orders import rules as order_rules
from app.orders.invoices import service as invoices_service
from app.orders.placing import pipeline
from app.orders.placing.drafts import DraftLine, OrderDraft, PromotionTerms
from app.orders.placing.pipeline import Priced
from app.orders.views import OrderView
from app.retail.models import Cart, CartItem, Consent, Customer, CustomerAddress, Promotion
from app.retail.privacy import service as privacy_service
from app.retail.schemas import CheckoutIn, DeliveryFulfilment, PromotionIn

# ---- customers -------------------------------------------------------------------------------------------


async def register(*, session: AsyncSession, email: str, password: str, name: str,
                   consents: dict[str, bool] | None = None) -> Customer:
    """A customer account; e-mail addresses are unique (case-insensitive). The account and order purposes are
    recorded with it, optional purposes only when ticked (C19)."""
    privacy_service.check_choices(consents or {})
    customer = Customer(id=new_id("cus"), email=email.lower(), password_hash=await hash_password_off_loop(password),
                        name=name)
    session.add(customer)
    await privacy_service.record_choices(session, customer_id=customer.id, choices=consents or {}, at_signup=True)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("an account with this e-mail already exists") from None
    return customer


async def issue_token(*, session: AsyncSession, settings: Settings, secret: str, email: str,
                      password: str) -> tuple[str, int]:
    """Check the password (argon2) and sign an access token."""
    customer = await session.scalar(select(Customer).where(Customer.email == email.lower()))
    if customer is None or not await verify_password_off_loop(customer.password_hash, password):
        raise Unauthenticated("wrong e-mail or password")
    minutes = settings.shop_access_token_minutes
    token = await auth.create_signed_token(session, kind="customer", subject_id=customer.id, secret=secret,
                                           minutes=minutes)
    await session.commit()
    return token, minutes * 60


# ---- carts -----------------------------------------------------------------------------------------------


async def _owned_cart(session: AsyncSession, principal: Principal | None, cart_id: str) -> Cart:
    """A guest cart is reachable by its (unguessable) id; a customer's only with their token."""
    cart = await session.get(Cart, cart_id)
    if cart is None:
        raise NotFound("cart", cart_id)
    if cart.customer_id is not None and (principal is None or principal.subject_id != cart.customer_id):
        raise NotFound("cart", cart_id)
    return cart


async def create_cart(*, session: AsyncSession, principal: Principal | None) -> dict[str, Any]:
    customer_id = principal.subject_id if principal and principal.kind == "customer" else None
    cart = Cart(id=new_id("cart"), customer_id=customer_id)
    session.add(cart)
    await session.commit()
    return await cart_view(session, cart)


async def add_item(*, session: AsyncSession, principal: Principal | None, cart_id: str, variant_id: str,
                   quantity: int) -> dict[str, Any]:
    """Add units of a variant (adds to what is already there)."""
    cart = await _owned_cart(session, principal, cart_id)
    if cart.status != "open":
        raise Conflict("this cart has been checked out")
    info = (await catalog_service.sellable_variants(session=session, variant_ids=[variant_id])).get(variant_id)
    if info is None or not info.sellable:
        raise field_error("variant_id", "no such product for sale")
    item = await session.scalar(select(CartItem).where(CartItem.cart_id == cart.id,
                                                       CartItem.variant_id == variant_id))
    if item is None:
        session.add(CartItem(id=new_id("cit"), cart_id=cart.id, variant_id=variant_id, quantity=quantity))
    else:
        item.quantity = min(item.quantity + quantity, 10_000)
    cart.updated_at = utcnow()
    await session.commit()
    return await cart_view(session, cart)


async def set_quantity(*, session: AsyncSession, principal: Principal | None, cart_id: str, variant_id: str,
                       quantity: int) -> dict[str, Any]:
    """Set a cart line's quantity (the storefront's quantity box); 0 removes the line."""
    cart = await _owned_cart(session, principal, cart_id)
    if cart.status != "open":
        raise Conflict("this cart has been checked out")
    item = await session.scalar(select(CartItem).where(CartItem.cart_id == cart.id,
                                                       CartItem.variant_id == variant_id))
    if item is None:
        raise field_error("variant_id", "this product is not in the cart")
    if quantity <= 0:
        await session.delete(item)
    else:
        item.quantity = min(quantity, 10_000)
    cart.updated_at = utcnow()
    await session.commit()
    return await cart_view(session, cart)


async def remove_item(*, session: AsyncSession, principal: Principal | None, cart_id: str,
                      variant_id: str) -> dict[str, Any]:
    cart = await _owned_cart(session, principal, cart_id)
    await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.variant_id == variant_id))
    await session.commit()
    return await cart_view(session, cart)


async def get_cart(*, session: AsyncSession, principal: Principal | None, cart_id: str) -> dict[str, Any]:
    return await cart_view(session, await _owned_cart(session, principal, cart_id))


async def cart_view(session: AsyncSession, cart: Cart) -> dict[str, Any]:
    items = (await session.scalars(select(CartItem).where(CartItem.cart_id == cart.id).order_by(CartItem.id))).all()
    info = await catalog_service.sellable_variants(session=session, variant_ids=[i.variant_id for i in items])
    out: list[dict[str, Any]] = []
    for item in items:
        v = info.get(item.variant_id)
        if v is None:
            continue
        out.append({"variant_id": v.variant_id, "sku": v.sku, "title": v.title, "merchant_id": v.merchant_id,
                    "quantity": item.quantity, "unit_price": v.price, "total": v.price * item.quantity,
                    "currency": v.currency, "available": v.sellable, "return_class": v.return_class,
                    "return_label": returns.label(v.category, v.return_class, v.return_reason)})
    ready = [i for i in out if i["available"]]
    shipping = await logistics_service.estimate(
        session, items=[(i["merchant_id"], i["variant_id"], i["quantity"], i["total"]) for i in ready],
        flat=functools.partial(order_rules.shipping_fee, "delivery")) if ready else 0
    return {"id": cart.id, "customer_id": cart.customer_id, "status": cart.status, "items": out,
            "subtotal": sum(i["total"] for i in ready), "shipping": shipping,
            "currency": out[0]["currency"] if out else "CNY"}


# ---- address book ----------------------------------------------------------------------------------------

ADDRESS_BOOK_SIZE = 10


async def address_book(*, session: AsyncSession, customer_id: str) -> list[dict[str, Any]]:
    """A customer's saved delivery addresses, the one used last first."""
    rows = (await session.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == customer_id)
                                  .order_by(CustomerAddress.last_used_at.desc(), CustomerAddress.id.desc())
                                  .limit(ADDRESS_BOOK_SIZE))).all()
    return [{"id": r.id, **r.address} for r in rows]


async def remember_address(*, session: AsyncSession, customer_id: str, address: dict[str, Any]) -> None:
    """Put an address the customer checked out to in their book (or mark it used now); the book keeps the
    `ADDRESS_BOOK_SIZE` used last."""
    now = utcnow()
    rows = (await session.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == customer_id)
                                  .order_by(CustomerAddress.last_used_at.desc(), CustomerAddress.id.desc()))).all()
    same = next((r for r in rows if r.address == address), None)
    if same is not None:
        same.last_used_at = now
    else:
        session.add(CustomerAddress(id=new_id("adr"), customer_id=customer_id, address=address, created_at=now,
                                    last_used_at=now))
        for old in rows[ADDRESS_BOOK_SIZE - 1:]:
            await session.delete(old)
    await session.commit()


# ---- promotions ------------------------------------------------------------------------------------------


async def create_promotion(*, session: AsyncSession, merchant_id: str, body: PromotionIn) -> Promotion:
    moderation.check_clauses({"description": body.description})
    promo = Promotion(id=new_id("pro"), merchant_id=merchant_id, code=body.code.upper(), kind=body.kind,
                      value=body.value, channels={"channels": sorted(set(body.channels))},
                      starts_at=body.starts_at, ends_at=body.ends_at, usage_limit=body.usage_limit, used_count=0,
                      description=body.description)
    session.add(promo)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise field_error("code", f"promotion code {body.code!r} already exists") from None
    return promo


async def get_promotion(*, session: AsyncSession, merchant_id: str, promotion_id: str) -> Promotion:
    promo = await session.get(Promotion, promotion_id)
    if promo is None or promo.merchant_id != merchant_id:
        raise NotFound("promotion", promotion_id)
    return promo


async def update_promotion(*, session: AsyncSession, merchant_id: str, promotion_id: str,
                           body: PromotionIn) -> Promotion:
    """Change a promotion's terms; its code and the uses it already counted stay."""
    moderation.check_clauses({"description": body.description})
    promo = await session.get(Promotion, promotion_id, with_for_update=True)
    if promo is None or promo.merchant_id != merchant_id:
        raise NotFound("promotion", promotion_id)
    if body.code.upper() != promo.code:
        raise field_error("code", "a promotion's code cannot change; create a new one")
    if body.usage_limit is not None and body.usage_limit < promo.used_count:
        raise field_error("usage_limit", f"already used {promo.used_count} times")
    promo.kind, promo.value = body.kind, body.value
    promo.channels = {"channels": sorted(set(body.channels))}
    promo.starts_at, promo.ends_at, promo.usage_limit = body.starts_at, body.ends_at, body.usage_limit
    promo.description = body.description
    await session.commit()
    return promo


async def list_promotions(*, session: AsyncSession, merchant_id: str) -> Sequence[Promotion]:
    return (await session.scalars(select(Promotion).where(Promotion.merchant_id == merchant_id)
                                  .order_by(Promotion.id.desc()))).all()


async def _promotions_for(session: AsyncSession, code: str, merchant_ids: set[str],
                          channel: str) -> dict[str, Promotion]:
    """The live promotions with `code` among the cart's merchants, for the channel."""
    now = utcnow()
    promos = (await session.scalars(select(Promotion).where(Promotion.code == code.upper(),
                                                            Promotion.merchant_id.in_(merchant_ids)))).all()
    live = {p.merchant_id: p for p in promos
            if channel in p.channels.get("channels", []) and as_utc(p.starts_at) <= now < as_utc(p.ends_at)}
    if not live:
        raise field_error("coupon_code", "no such promotion is running for these products")
    return live


async def use_promotion(session: AsyncSession, promo_id: str) -> None:
    """Count one use; under any concurrency the usage limit holds (conditional UPDATE)."""
    result = await session.execute(
        update(Promotion).where(Promotion.id == promo_id,
                                (Promotion.usage_limit.is_(None)) | (Promotion.used_count < Promotion.usage_limit))
        .values(used_count=Promotion.used_count + 1))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("this coupon has been used up", extra={"field": "coupon_code"})


async def release_promotion_use(session: AsyncSession, merchant_id: str, code: str) -> None:
    """Give back one use of a coupon (its order was cancelled or wholly returned, C33); never below zero."""
    await session.execute(
        update(Promotion).where(Promotion.merchant_id == merchant_id, Promotion.code == code.upper(),
                                Promotion.used_count > 0)
        .values(used_count=Promotion.used_count - 1))


# ---- checkout --------------------------------------------------------------------------------------------


async def _checkout_lines(session: AsyncSession, principal: Principal | None,
                          body: CheckoutIn) -> tuple[list[tuple[str, int]], str | None]:
    if body.lines is not None:
        return [(ln.variant_id, ln.quantity) for ln in body.lines], None
    assert body.cart_id is not None
    cart = await _owned_cart(session, principal, body.cart_id)
    if cart.status != "open":
        raise Conflict("this cart has been checked out")
    items = (await session.scalars(select(CartItem).where(CartItem.cart_id == cart.id).order_by(CartItem.id))).all()
    if not items:
        raise field_error("cart_id", "the cart is empty")
    return [(i.variant_id, i.quantity) for i in items], cart.id


_AVAILABLE = inventory_service.AVAILABLE_LEVELS
# The catalogue's read of the lines' variants with what each of the seller's locations can promise of them and
# the seller's delivery promise: validation, prices, the promise and the first reservation plan from one round trip.
_LINES_AND_STOCK = (catalog_service.SELLABLE
                    .add_columns(_AVAILABLE.c.location_id, _AVAILABLE.c.free, _AVAILABLE.c.location_kind,
                                 DeliveryPromise.ship_within_hours, DeliveryPromise.delivery_days)
                    .outerjoin(_AVAILABLE, and_(_AVAILABLE.c.variant_id == Variant.id,
                                                _AVAILABLE.c.merchant_id == Variant.merchant_id))
                    .outerjoin(DeliveryPromise, DeliveryPromise.merchant_id == Variant.merchant_id))


@dataclass
class _Read:
    info: dict[str, SellableVariant] = field(default_factory=dict)  # the variants, as `sellable_variants` gives
    stock: dict[str, Snapshot] = field(default_factory=dict)  # each merchant's stock of them
    promised: dict[str, tuple[int, int]] = field(default_factory=dict)  # each merchant's (ship hours, days)


async def _lines_and_stock(session: AsyncSession, variant_ids: Sequence[str]) -> _Read:
    rows = (await fetch(session, _LINES_AND_STOCK, {"ids": sorted(set(variant_ids)), "now": utcnow()})).all()
    read = _Read()
    for r in rows:
        v = read.info.get(r.id) or read.info.setdefault(r.id, catalog_service.sellable_of(r))
        snapshot = read.stock.get(v.merchant_id) or read.stock.setdefault(v.merchant_id, Snapshot())
        if r.location_id is not None:
            snapshot.add(r.location_id, r.id, r.free, r.location_kind)
        read.promised[v.merchant_id] = (
            (r.ship_within_hours, r.delivery_days) if r.ship_within_hours is not None
            else (logistics_rules.DEFAULT_SHIP_WITHIN_HOURS, logistics_rules.DEFAULT_DELIVERY_DAYS))
    return read


async def _drafts(session: AsyncSession, *, principal: Principal | None, body: CheckoutIn, email: str
                  ) -> tuple[list[OrderDraft], str | None, list[str]]:
    """Validate the request against the catalogue and build one draft per merchant (prices snapshotted)."""
    lines, cart_id = await _checkout_lines(session, principal, body)
    read = await _lines_and_stock(session, [v for v, _ in lines])
    info, stock = read.info, read.stock
    field = "lines" if body.lines is not None else "cart_id"
    errors = [{"field": f"{field}.{i}.variant_id", "message": "no such product for sale"}
              for i, (v, _) in enumerate(lines) if v not in info or not info[v].sellable]
    if errors:
        raise InvalidInput("some products cannot be bought", errors=errors)
    merged: dict[str, int] = defaultdict(int)
    for variant_id, quantity in lines:
        merged[variant_id] += quantity
    by_merchant: dict[str, list[SellableVariant]] = defaultdict(list)
    for variant_id in merged:
        by_merchant[info[variant_id].merchant_id].append(info[variant_id])
    currencies = {v.currency for v in info.values()}
    if len(currencies) > 1:
        raise field_error(field, "all products of one checkout must be priced in one currency")
    fulfilment = body.fulfilment.model_dump(exclude_none=True)
    pickup_location: str | None = None
    if body.fulfilment.type == "pickup":
        loc = await session.get(Location, body.fulfilment.location_id)
        if loc is None or loc.kind not in ("store", "pickup_point") or set(by_merchant) != {loc.merchant_id}:
            raise field_error("fulfilment.location_id", "pick-up needs a store of the merchant selling these goods")
        pickup_location = loc.id
        fulfilment["location_name"] = loc.name
    promos = (await _promotions_for(session, body.coupon_code, set(by_merchant), "online")
              if body.coupon_code else {})
    customer_id = principal.subject_id if principal and principal.kind == "customer" else None
    ordered = {m: sorted(vs, key=lambda x: x.variant_id) for m, vs in by_merchant.items()}
    delivery = await _delivery_terms(session, body, ordered, read.promised)
    drafts = [OrderDraft(
        merchant_id=merchant_id, channel="retail", payment_method=body.payment_method,
        currency=variants[0].currency, fulfilment=fulfilment, pickup_location_id=pickup_location,
        customer_id=customer_id, email=email, stock=stock[merchant_id],
        promotion=PromotionTerms(promos[merchant_id].code, promos[merchant_id].kind, promos[merchant_id].value)
        if merchant_id in promos else None,
        lines=[DraftLine(v.variant_id, v.product_id, v.sku, v.title, v.category, v.returnable,
                         merged[v.variant_id], v.price, v.listing_revision_id, v.return_class, v.return_reason,
                         body.confirm_return_exclusions)
               for v in variants],
        shipping_quote=delivery[merchant_id][0], ship_within_hours=delivery[merchant_id][1],
        delivery_days=delivery[merchant_id][2])
        for merchant_id, variants in sorted(ordered.items())]
    return drafts, cart_id, [promos[m].id for m in sorted(promos)]


async def _delivery_terms(session: AsyncSession, body: CheckoutIn, lines: Mapping[str, Sequence[SellableVariant]],
                          promised: Mapping[str, tuple[int, int]]) -> dict[str, tuple[DeliveryQuote | None, int, int]]:
    """Per merchant: how delivery is priced (its shipping templates; None: the flat fee) and its promise. A
    template that does not deliver to the address's province refuses the checkout (422 naming it)."""
    merchants = sorted(lines)
    quotes: Mapping[str, DeliveryQuote | None] = {}
    if isinstance(body.fulfilment, DeliveryFulfilment):
        quotes = await logistics_service.quotes(
            session, province=body.fulfilment.address.province,
            lines={m: [LineSpec(v.shipping_template_id, v.weight, v.volume) for v in vs] for m, vs in lines.items()},
            flat=functools.partial(order_rules.shipping_fee, "delivery"))
    return {m: (quotes.get(m), *promised[m]) for m in merchants}


_CUSTOMER_EMAIL = select(Customer.email).where(Customer.id == bindparam("id"))


async def _customer_email(session: AsyncSession, principal: Principal | None, body: CheckoutIn) -> str:
    if principal is not None and principal.kind == "customer":
        row = (await fetch(session, _CUSTOMER_EMAIL, {"id": principal.subject_id})).first()
        if row is None:
            raise Unauthenticated("the customer account no longer exists")
        return str(row.email)
    if body.email is None:
        raise field_error("email", "guests must give an e-mail address")
    return body.email.lower()


GUEST_SCOPE = "guest"  # guests' Idempotency-Keys: one scope, so a key reused with another body (say another
# e-mail address) is the 409 the contract promises; an answer is given only to the request that matches it.


@dataclass
class _Priced(Priced):
    cart_id: str | None = None
    promotion_ids: list[str] = field(default_factory=list)


class _Checkout:
    """The retail checkout as a placement channel: a cart or lines, for a customer or a guest."""

    name = "retail"
    lookup_first = False

    def __init__(self, principal: Principal | None, body: CheckoutIn, email: str) -> None:
        self.principal, self.body, self.email = principal, body, email

    async def price(self, session: AsyncSession) -> _Priced:
        drafts, cart_id, promotion_ids = await _drafts(session, principal=self.principal, body=self.body,
                                                       email=self.email)
        return _Priced(drafts, writes_before=bool(promotion_ids),
                       writes_after=cart_id is not None or self.body.invoice is not None,
                       cart_id=cart_id, promotion_ids=promotion_ids)

    async def before(self, session: AsyncSession, priced: _Priced) -> None:
        for promotion_id in priced.promotion_ids:
            await use_promotion(session, promotion_id)

    async def after(self, session: AsyncSession, priced: _Priced, orders: Sequence[OrderView]) -> None:
        if priced.cart_id is not None:
            await session.execute(update(Cart).where(Cart.id == priced.cart_id)
                                  .values(status="checked_out", updated_at=utcnow()))
        if (invoice := self.body.invoice) is not None:
            await invoices_service.add_requests(session, orders=orders, kind=invoice.kind, title=invoice.title,
                                                taxpayer_id=invoice.taxpayer_id)

    def answer(self, priced: _Priced, orders: list[OrderView], payment: dict[str, Any] | None
               ) -> dict[str, Any]:
        return {"orders": orders, "payment": payment}


async def checkout(*, session: AsyncSession, settings: Settings, principal: Principal | None, body: CheckoutIn,
                   idempotency_key: str | None, device: str = "desktop",
                   client_ip: str | None = None) -> idempotency.Result:
    """Reserve stock and create one order per merchant, all or nothing, and start the payment (`pipeline.place`).
    A retry with the same Idempotency-Key returns the first answer."""
    if principal is not None and principal.kind != "customer":
        raise InvalidInput("checkout is for customers and guests",
                           errors=[{"field": "Authorization", "message": f"a {principal.kind} token cannot check out"}])
    if body.invoice is not None:
        invoices_service.check_request(body.invoice.kind, body.invoice.title, body.invoice.taxpayer_id,
                                       prefix="invoice.")
    email = await _customer_email(session, principal, body)
    request = pipeline.Request(scope=principal.scope if principal else GUEST_SCOPE, key=idempotency_key,
                               fingerprint=idempotency.request_hash("checkout", body.model_dump(mode="json")),
                               payment_method=body.payment_method, hold_minutes=settings.shop_order_hold_minutes,
                               device=device, client_ip=client_ip, openid=body.wechat_openid)
    return await pipeline.place(session, settings=settings, channel=_Checkout(principal, body, email),
                                request=request)


async def close_account(*, session: AsyncSession, customer_id: str, hold_years: int) -> dict[str, Any]:
    """Close a customer account at once (PIPL art. 47, ECL art. 24): the profile, address book, consents and carts
    are deleted; orders, payments and refunds are transaction records and stay (ECL art. 31), but the buyer's name,
    phone, e-mail and address leave them for the legal-hold store (`app/orders/legal_hold.py`)."""
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound("customer", customer_id)
    carts = select(Cart.id).where(Cart.customer_id == customer_id)
    await session.execute(delete(CartItem).where(CartItem.cart_id.in_(carts)))
    await session.execute(delete(Cart).where(Cart.customer_id == customer_id))
    await session.execute(delete(CustomerAddress).where(CustomerAddress.customer_id == customer_id))
    await session.execute(delete(Consent).where(Consent.customer_id == customer_id))
    held = await legal_hold.hold_buyer_data(session, customer_id=customer_id)
    await session.delete(customer)
    await auth.revoke_tokens(session, subject_id=customer_id)  # its tokens die with it, in every process
    await events.emit(session, kind="customer.closed", merchant_id=None, payload={"customer_id": customer_id})
    await session.commit()
    return {"id": customer_id, "status": "closed", "records_retained_years": hold_years,
            "orders_on_legal_hold": held}
