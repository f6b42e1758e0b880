"""The console's lists as data: each one's columns, sorts and filters (`ListSpec`) and the statement that selects
its rows for one merchant (narrowed to a clerk's store), searched and filtered. Paging, sorting, rendering and
CSV export are `app.web.lists`, the same for all of them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, String, and_, case, cast, exists, func, literal, or_, select

from app.catalog.models import Product, Variant
from app.community.models import GroupBuy
from app.core.clock import utcnow
from app.inventory.models import Allocation, StockConflict, StockLevel
from app.merchants.models import Device, Location, StaffMember
from app.merchants.staff import StaffCtx
from app.orders.invoices.models import Invoice
from app.orders.models import Order, OrderLine, ReturnRequest
from app.retail.campaigns.models import Campaign, CampaignProduct
from app.retail.models import Promotion
from app.trust.models import Complaint, IPCase
from app.web.lists import Col, Filter, ListQuery, ListSpec, Rows, day_start
from app.webhooks.models import WebhookDelivery, WebhookEndpoint
from app.wholesale.models import Buyer

ORDER_STATUSES = ("pending_payment", "paid", "confirmed", "shipped", "delivered", "completed", "cancelled")
CHANNELS = ("retail", "wholesale", "community", "pos")


def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _text(column: Any, q: str) -> Any:
    return column.ilike(_like(q), escape="\\")


Builder = Callable[[StaffCtx, ListQuery, list[tuple[str, str]]], Rows]


# ---- orders ----------------------------------------------------------------------------------------------

ORDERS = ListSpec(
    name="orders", title="orders", default_sort="id", search_hint="order_search_hint",
    columns=(Col("number", "order_no", "link", href="/console/orders/{id}", sortable=True),
             Col("created_at", "created", "time", sortable=True, sort_key="id"),
             Col("buyer", "customer"), Col("phone", "phone"),
             Col("channel", "channel", "channel"), Col("fulfilment", "fulfilment", "status"),
             Col("status", "status", "status"), Col("payment_status", "payment_status", "status"),
             Col("total", "total", "money", sortable=True), Col("late", "late_shipment", "status")),
    filters=(Filter("status", "status", choices=tuple((s, s) for s in ORDER_STATUSES)),
             Filter("late", "late_shipment", choices=(("late", "late_shipment"),)),
             Filter("channel", "channel", choices=tuple((c, f"ch_{c}") for c in CHANNELS)),
             Filter("fulfilment", "fulfilment", choices=(("delivery", "delivery"), ("pickup", "pickup"))),
             Filter("from", "from", "date"), Filter("to", "to", "date"),
             Filter("location", "location", "location")))


def _late(now: datetime) -> Any:
    """Shipped after the promised dispatch, or not shipped once it passed (`app.logistics.rules.is_late`)."""
    return and_(Order.promised_ship_by.is_not(None), or_(
        and_(Order.shipped_at.is_not(None), Order.shipped_at > Order.promised_ship_by),
        and_(Order.shipped_at.is_(None), Order.status.in_(("paid", "confirmed")), Order.promised_ship_by < now)))


def orders_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    """The merchant's orders (a clerk: the pick-ups at their store), searched by number, phone, e-mail, name or
    SKU."""
    address = Order.fulfilment["address"]
    phone = address["phone"].as_string()
    name = address["name"].as_string()
    stmt: Rows = select(Order.id, Order.number, Order.created_at, Order.channel, Order.status, Order.payment_status,
                  Order.total, Order.currency, Order.email, Order.fulfilment["type"].as_string().label("fulfilment"),
                  func.coalesce(name, Order.email, "").label("buyer"), func.coalesce(phone, "").label("phone"),
                  case((_late(utcnow()), "late_shipment"), else_="").label("late")
                  ).where(Order.merchant_id == ctx.merchant_id)
    if ctx.store_bound:
        stmt = stmt.where(Order.pickup_location_id == ctx.location_id)
    f = query.filters
    if f.get("status"):
        stmt = stmt.where(Order.status == f["status"])
    if f.get("channel"):
        stmt = stmt.where(Order.channel == f["channel"])
    if f.get("late"):
        stmt = stmt.where(_late(utcnow()))
    if f.get("fulfilment"):
        stmt = stmt.where(Order.fulfilment["type"].as_string() == f["fulfilment"])
    if f.get("from"):
        stmt = stmt.where(Order.created_at >= day_start(f["from"]))
    if f.get("to"):
        stmt = stmt.where(Order.created_at < day_start(f["to"]) + timedelta(days=1))
    if f.get("location"):
        stmt = stmt.where(or_(Order.pickup_location_id == f["location"], exists().where(
            Allocation.order_id == Order.id, Allocation.location_id == f["location"])))
    if query.q:
        q = query.q
        digits = "".join(ch for ch in q if ch.isdigit())
        conds = [Order.number == q.upper(), Order.number.like(q.upper() + "%"), _text(Order.email, q), _text(name, q),
                 exists().where(OrderLine.order_id == Order.id, OrderLine.sku == q)]
        if len(digits) >= 4:
            conds.append(phone.like(_like(digits), escape="\\"))
        stmt = stmt.where(or_(*conds))
    return stmt


# ---- products and stock ----------------------------------------------------------------------------------

PRODUCTS = ListSpec(
    name="products", title="products", default_sort="id", search_hint="product_search_hint",
    columns=(Col("title", "title", sortable=True), Col("skus", "SKU"), Col("price", "price", "money", sortable=True),
             Col("category", "category"), Col("status", "status", "status"),
             Col("created_at", "created", "time", sortable=True, sort_key="id")),
    filters=(Filter("status", "status", choices=(("active", "active"), ("draft", "draft"),
                                                 ("pending_review", "pending_review"),
                                                 ("taken_down", "taken_down"))),))


def products_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    first = (select(func.min(Variant.price)).where(Variant.product_id == Product.id).correlate(Product)
             .scalar_subquery())
    skus = (select(func.min(Variant.sku)).where(Variant.product_id == Product.id).correlate(Product)
            .scalar_subquery())
    stmt: Rows = select(Product.id, Product.title, Product.status, Product.category, Product.created_at,
                  func.coalesce(first, 0).label("price"), func.coalesce(skus, "").label("skus")
                  ).where(Product.merchant_id == ctx.merchant_id)
    if query.filters.get("status"):
        stmt = stmt.where(Product.status == query.filters["status"])
    if query.q:
        stmt = stmt.where(or_(_text(Product.title, query.q), exists().where(
            Variant.product_id == Product.id, _text(Variant.sku, query.q))))
    return stmt


STOCK = ListSpec(
    name="stock", title="stock", default_sort="sku", default_desc=False, search_hint="stock_search_hint",
    columns=(Col("sku", "SKU", sortable=True), Col("title", "title"), Col("location", "location"),
             Col("on_hand", "on_hand", "int", sortable=True), Col("reserved", "reserved", "int"),
             Col("safety_stock", "safety_stock", "int"), Col("available", "available", "int", sortable=True)),
    filters=(Filter("location", "location", "location"),))


def stock_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    available = StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock
    stmt: Rows = (select((Variant.sku + literal("@") + cast(StockLevel.location_id, String)).label("id"), Variant.sku,
                   Product.title, Location.name.label("location"), StockLevel.location_id, StockLevel.on_hand,
                   StockLevel.reserved, StockLevel.safety_stock, available.label("available"))
            .join(Variant, Variant.id == StockLevel.variant_id).join(Product, Product.id == Variant.product_id)
            .join(Location, Location.id == StockLevel.location_id)
            .where(StockLevel.merchant_id == ctx.merchant_id))
    if ctx.store_bound:
        stmt = stmt.where(StockLevel.location_id == ctx.location_id)
    if query.filters.get("location"):
        stmt = stmt.where(StockLevel.location_id == query.filters["location"])
    if query.q:
        stmt = stmt.where(or_(_text(Variant.sku, query.q), _text(Product.title, query.q)))
    return stmt


# ---- customers -------------------------------------------------------------------------------------------

CUSTOMERS = ListSpec(
    name="customers", title="customers", default_sort="spent", search_hint="customer_search_hint",
    columns=(Col("name", "name"), Col("email", "email", "link", href="/console/orders?q={email}"),
             Col("phone", "phone"), Col("orders", "order_count", "int", sortable=True),
             Col("spent", "total_spent", "money", sortable=True),
             Col("last_order", "last_order", "time", sortable=True)))


def customers_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    """Who bought from the shop: one row per e-mail, with their orders and what they spent (cancelled orders
    and refunds left out)."""
    address = Order.fulfilment["address"]
    who = func.lower(func.coalesce(Order.email, address["phone"].as_string(), Order.id))
    stmt: Rows = (select(who.label("id"), func.max(Order.email).label("email"),
                   func.max(address["name"].as_string()).label("name"),
                   func.max(address["phone"].as_string()).label("phone"),
                   func.count(Order.id).label("orders"),
                   cast(func.sum(Order.total - Order.refunded), BigInteger).label("spent"),
                   func.max(Order.created_at).label("last_order"))
            .where(Order.merchant_id == ctx.merchant_id, Order.status != "cancelled", Order.channel != "pos")
            .group_by(who))
    if query.q:  # a customer any of whose orders matches, with all their orders counted
        matching = select(who).where(Order.merchant_id == ctx.merchant_id, or_(
            _text(Order.email, query.q), _text(address["name"].as_string(), query.q),
            _text(address["phone"].as_string(), query.q)))
        stmt = stmt.where(who.in_(matching))
    return stmt


# ---- devices, buyers, community, conflicts ---------------------------------------------------------------

DEVICES = ListSpec(
    name="devices", title="devices", default_sort="created_at", search_hint="name_search_hint",
    columns=(Col("name", "device_name", sortable=True), Col("location", "location"),
             Col("last_synced_at", "last_synced", "time", sortable=True), Col("created_at", "created", "time",
                                                                                sortable=True)),
    filters=(Filter("location", "location", "location"),))


def devices_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    stmt: Rows = (select(Device.id, Device.name, Location.name.label("location"), Device.created_at,
                   Device.last_synced_at)
            .join(Location, Location.id == Device.location_id)
            .where(Device.merchant_id == ctx.merchant_id, Device.revoked_at.is_(None)))
    if query.filters.get("location"):
        stmt = stmt.where(Device.location_id == query.filters["location"])
    if query.q:
        stmt = stmt.where(_text(Device.name, query.q))
    return stmt


BUYERS = ListSpec(
    name="wholesale", title="wholesale", default_sort="created_at", search_hint="name_search_hint",
    columns=(Col("name", "buyer_name", sortable=True),
             Col("credit_limit", "credit_limit_label", "money", sortable=True),
             Col("payment_terms_days", "terms_days", "int"), Col("created_at", "created", "time", sortable=True)))


def buyers_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    stmt: Rows = select(Buyer.id, Buyer.name, Buyer.credit_limit, Buyer.payment_terms_days, Buyer.created_at).where(
        Buyer.merchant_id == ctx.merchant_id)
    if query.q:
        stmt = stmt.where(_text(Buyer.name, query.q))
    return stmt


GROUP_BUYS = ListSpec(
    name="group-buys", title="group_buys", default_sort="closes_at", search_hint="stock_search_hint",
    columns=(Col("sku", "SKU", sortable=True), Col("title", "title"), Col("price", "price", "money"),
             Col("joined", "joined"), Col("closes_at", "closes_at", "time", sortable=True),
             Col("pickup_date", "pickup_date"), Col("status", "status", "status")),
    filters=(Filter("status", "status", choices=(("open", "open"), ("succeeded", "succeeded"),
                                                 ("failed", "failed"))),))


def group_buys_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    joined = (cast(GroupBuy.joined_quantity, String) + literal(" / ") + cast(GroupBuy.min_quantity, String))
    stmt: Rows = (select(GroupBuy.id, Variant.sku, Product.title, GroupBuy.price, joined.label("joined"),
                   GroupBuy.closes_at, GroupBuy.pickup_date, GroupBuy.status)
            .join(Variant, Variant.id == GroupBuy.variant_id).join(Product, Product.id == Variant.product_id)
            .where(GroupBuy.merchant_id == ctx.merchant_id))
    if query.filters.get("status"):
        stmt = stmt.where(GroupBuy.status == query.filters["status"])
    if query.q:
        stmt = stmt.where(or_(_text(Variant.sku, query.q), _text(Product.title, query.q)))
    return stmt


CONFLICTS = ListSpec(
    name="conflicts", title="conflicts", default_sort="created_at", search_hint="stock_search_hint",
    columns=(Col("sku", "SKU", sortable=True), Col("location", "location"),
             Col("shortfall", "shortfall", "int", sortable=True), Col("status", "status", "status"),
             Col("resolution", "resolution"), Col("created_at", "created", "time", sortable=True)),
    filters=(Filter("status", "status", choices=(("open", "open"), ("resolved", "resolved"))),))


def conflicts_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    stmt: Rows = (select(StockConflict.id, StockConflict.sku, Location.name.label("location"), StockConflict.shortfall,
                   StockConflict.status, StockConflict.resolution, StockConflict.created_at)
            .join(Location, Location.id == StockConflict.location_id)
            .where(StockConflict.merchant_id == ctx.merchant_id))
    if query.filters.get("status"):
        stmt = stmt.where(StockConflict.status == query.filters["status"])
    if query.q:
        stmt = stmt.where(_text(StockConflict.sku, query.q))
    return stmt


# ---- returns, complaints, campaigns, promotions ----------------------------------------------------------

RETURNS = ListSpec(
    name="returns", title="returns", default_sort="created_at", search_hint="order_search_hint",
    columns=(Col("number", "order_no", "link", href="/console/orders/{order_id}", sortable=True),
             Col("reason", "reason"), Col("kind", "return_kind", "status"), Col("amount", "refund_amount", "money",
                                                                                   sortable=True),
             Col("status", "status", "status"), Col("created_at", "created", "time", sortable=True)),
    filters=(Filter("status", "status", choices=tuple((s, s) for s in (
        "awaiting_goods", "received", "refund_pending", "refunded", "rejected"))),))


def returns_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    stmt: Rows = (select(ReturnRequest.id, ReturnRequest.order_id, Order.number, ReturnRequest.reason,
                         ReturnRequest.kind, ReturnRequest.amount, ReturnRequest.status, ReturnRequest.created_at)
            .join(Order, Order.id == ReturnRequest.order_id)
            .where(ReturnRequest.merchant_id == ctx.merchant_id))
    if query.filters.get("status"):
        stmt = stmt.where(ReturnRequest.status == query.filters["status"])
    if query.q:
        stmt = stmt.where(or_(Order.number == query.q.upper(), _text(ReturnRequest.reason, query.q)))
    return stmt


INVOICES = ListSpec(
    name="invoices", title="invoices", default_sort="issued_at", search_hint="invoice_search_hint",
    columns=(Col("number", "invoice_number", "text", sortable=True),
             Col("order_number", "order_no", "link", href="/console/orders/{order_id}"),
             Col("color", "invoice_color", "status"), Col("title", "invoice_title"), Col("taxpayer_id", "taxpayer_id"),
             Col("total", "total", "money", sortable=True), Col("tax_total", "tax_total", "money"),
             Col("issued_at", "issued_at", "time", sortable=True)),
    filters=(Filter("color", "invoice_color", choices=(("blue", "blue"), ("red", "red"))),
             Filter("from", "from", "date"), Filter("to", "to", "date")))


def invoices_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    """The merchant's invoices, blue and red, searched by invoice number, order number or title."""
    stmt: Rows = (select(Invoice.id, Invoice.order_id, Invoice.number, Order.number.label("order_number"),
                         Invoice.color, Invoice.title, Invoice.taxpayer_id, Invoice.total, Invoice.tax_total,
                         Invoice.issued_at)
                  .join(Order, Order.id == Invoice.order_id)
                  .where(Invoice.merchant_id == ctx.merchant_id))
    if query.filters.get("color") in ("blue", "red"):
        stmt = stmt.where(Invoice.color == query.filters["color"])
    if query.filters.get("from"):
        stmt = stmt.where(Invoice.issued_at >= day_start(query.filters["from"]))
    if query.filters.get("to"):
        stmt = stmt.where(Invoice.issued_at < day_start(query.filters["to"]) + timedelta(days=1))
    if query.q:
        stmt = stmt.where(or_(Invoice.number == query.q, Order.number == query.q.upper(),
                              _text(Invoice.title, query.q)))
    return stmt


COMPLAINTS = ListSpec(
    name="complaints", title="complaints", default_sort="created_at", search_hint="name_search_hint",
    columns=(Col("target_type", "complaint_target", "status"), Col("category", "category"),
             Col("reason", "reason"), Col("status", "status", "status"),
             Col("sla_due_at", "due", "time", sortable=True), Col("created_at", "created", "time", sortable=True)),
    filters=(Filter("status", "status", choices=(("open", "open"), ("upheld", "upheld"), ("rejected", "rejected"))),))


def complaints_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    stmt: Rows = select(Complaint.id, Complaint.target_type, Complaint.category, Complaint.reason, Complaint.status,
                  Complaint.sla_due_at, Complaint.created_at).where(Complaint.merchant_id == ctx.merchant_id)
    if query.filters.get("status"):
        stmt = stmt.where(Complaint.status == query.filters["status"])
    if query.q:
        stmt = stmt.where(_text(Complaint.reason, query.q))
    return stmt


IP_CASES = ListSpec(
    name="ip-cases", title="ip_cases", default_sort="created_at", search_hint="name_search_hint",
    columns=(Col("product_title", "product", "link", href="/console/ip-cases/{id}"),
             Col("right_type", "ip_right_type", "status"), Col("holder_name", "ip_rights_holder"),
             Col("status", "status", "status"), Col("restore_due_at", "ip_restore_due", "time", sortable=True),
             Col("created_at", "created", "time", sortable=True)),
    filters=(Filter("status", "status", choices=tuple((s, f"ip_{s}") for s in (
        "taken_down", "countered", "restored", "upheld"))),))


def ip_cases_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    stmt: Rows = select(IPCase.id, IPCase.product_title, (literal("ip_") + IPCase.right_type).label("right_type"),
                        IPCase.holder_name, (literal("ip_") + IPCase.status).label("status"), IPCase.restore_due_at,
                        IPCase.created_at).where(IPCase.merchant_id == ctx.merchant_id)
    if query.filters.get("status"):
        stmt = stmt.where(IPCase.status == query.filters["status"])
    if query.q:
        stmt = stmt.where(or_(_text(IPCase.product_title, query.q), _text(IPCase.holder_name, query.q)))
    return stmt


CAMPAIGNS = ListSpec(
    name="campaigns", title="campaigns", default_sort="starts_at", search_hint="name_search_hint",
    columns=(Col("title", "title", "link", href="/console/campaigns/{id}", sortable=True),
             Col("owner", "campaign_owner", "status"), Col("starts_at", "starts_at", "time", sortable=True),
             Col("ends_at", "ends_at", "time", sortable=True), Col("products", "product_count", "int")))


def campaigns_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    mine = (select(func.count(CampaignProduct.id)).where(CampaignProduct.campaign_id == Campaign.id,
                                                         CampaignProduct.merchant_id == ctx.merchant_id)
            .correlate(Campaign).scalar_subquery())
    owner = case((Campaign.merchant_id.is_(None), "campaign_platform"), else_="campaign_own")
    stmt: Rows = select(Campaign.id, Campaign.title, Campaign.slug, Campaign.starts_at, Campaign.ends_at,
                  mine.label("products"), owner.label("owner")).where(
        or_(Campaign.merchant_id == ctx.merchant_id, Campaign.merchant_id.is_(None)))
    if query.q:
        stmt = stmt.where(_text(Campaign.title, query.q))
    return stmt


PROMOTIONS = ListSpec(
    name="promotions", title="promotions", default_sort="starts_at", search_hint="name_search_hint",
    columns=(Col("code", "promo_code", "link", href="/console/promotions/{id}", sortable=True),
             Col("kind", "promo_kind", "status"), Col("value_text", "promo_value"),
             Col("starts_at", "starts_at", "time", sortable=True), Col("ends_at", "ends_at", "time", sortable=True),
             Col("used", "promo_used")))


def promotions_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    used = cast(Promotion.used_count, String) + literal(" / ") + func.coalesce(cast(Promotion.usage_limit, String),
                                                                               "∞")
    value_text = cast(Promotion.value, String)
    stmt: Rows = select(Promotion.id, Promotion.code, Promotion.kind, Promotion.value, value_text.label("value_text"),
                  Promotion.starts_at, Promotion.ends_at, used.label("used")).where(
        Promotion.merchant_id == ctx.merchant_id)
    if query.q:
        stmt = stmt.where(_text(Promotion.code, query.q))
    return stmt


STAFF = ListSpec(
    name="staff", title="staff", default_sort="created_at", search_hint="name_search_hint",
    columns=(Col("name", "name", sortable=True), Col("login", "staff_login"), Col("role", "role", "status"),
             Col("store", "location"), Col("state", "staff_state", "status"),
             Col("created_at", "created", "time", sortable=True)))


def staff_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    status = case((StaffMember.removed_at.is_not(None), "staff_removed"),
                  (StaffMember.activated_at.is_(None), "staff_invited"), else_="staff_active")
    role = ("role_" + StaffMember.role).label("role")
    stmt: Rows = (select(StaffMember.id, StaffMember.name, StaffMember.login, role,
                   func.coalesce(Location.name, "").label("store"), status.label("state"), StaffMember.created_at,
                   StaffMember.removed_at)
            .outerjoin(Location, Location.id == StaffMember.location_id)
            .where(StaffMember.merchant_id == ctx.merchant_id))
    if query.q:
        stmt = stmt.where(or_(_text(StaffMember.name, query.q), _text(StaffMember.login, query.q)))
    return stmt


# ---- webhooks --------------------------------------------------------------------------------------------

WEBHOOKS = ListSpec(
    name="webhooks", title="webhooks", default_sort="last_attempt_at", search_hint="webhook_search_hint",
    columns=(Col("event_id", "event_no"), Col("event_kind", "event_type", sortable=True),
             Col("url", "endpoint_url"), Col("status", "status", "status"),
             Col("attempts", "attempts", "int", sortable=True), Col("last_status_code", "last_response", "int"),
             Col("last_error", "last_error"), Col("last_attempt_at", "last_attempt", "time", sortable=True)),
    filters=(Filter("status", "status", choices=tuple((s, f"wh_{s}") for s in
                                                      ("failed", "pending", "delivered", "cancelled"))),))


def webhooks_stmt(ctx: StaffCtx, query: ListQuery, locations: list[tuple[str, str]]) -> Rows:
    """The merchant's webhook deliveries; `status=failed` lists the dead letters (given up after the last try)."""
    event_id = (literal("evt_") + cast(WebhookDelivery.event_seq, String)).label("event_id")
    stmt: Rows = (select(WebhookDelivery.id, event_id, WebhookDelivery.event_kind, WebhookEndpoint.url,
                         (literal("wh_") + WebhookDelivery.status).label("status"), WebhookDelivery.attempts,
                         WebhookDelivery.last_status_code, WebhookDelivery.last_error, WebhookDelivery.last_attempt_at)
                  .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                  .where(WebhookDelivery.merchant_id == ctx.merchant_id))
    if query.filters.get("status"):
        stmt = stmt.where(WebhookDelivery.status == query.filters["status"])
    if query.q:
        stmt = stmt.where(or_(_text(WebhookDelivery.event_kind, query.q), _text(WebhookEndpoint.url, query.q)))
    return stmt


LISTS: dict[str, tuple[ListSpec, Builder, str]] = {  # name: (spec, statement, console action to view it)
    "orders": (ORDERS, orders_stmt, "orders.view"),
    "products": (PRODUCTS, products_stmt, "products.view"),
    "stock": (STOCK, stock_stmt, "stock.view"),
    "customers": (CUSTOMERS, customers_stmt, "customers.view"),
    "devices": (DEVICES, devices_stmt, "devices.manage"),
    "wholesale": (BUYERS, buyers_stmt, "wholesale.manage"),
    "group-buys": (GROUP_BUYS, group_buys_stmt, "marketing.manage"),
    "conflicts": (CONFLICTS, conflicts_stmt, "conflicts.manage"),
    "returns": (RETURNS, returns_stmt, "orders.refund"),
    "invoices": (INVOICES, invoices_stmt, "orders.refund"),
    "complaints": (COMPLAINTS, complaints_stmt, "customers.view"),
    "ip-cases": (IP_CASES, ip_cases_stmt, "products.view"),
    "campaigns": (CAMPAIGNS, campaigns_stmt, "marketing.manage"),
    "promotions": (PROMOTIONS, promotions_stmt, "marketing.manage"),
    "staff": (STAFF, staff_stmt, "staff.manage"),
    "webhooks": (WEBHOOKS, webhooks_stmt, "webhooks.manage"),
}

