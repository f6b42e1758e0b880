"""What a channel asks the order core to place: one `OrderDraft` per merchant, its prices decided, and the rows
of the order it becomes (`build`), the same for every database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Table

from app.core.ids import new_id, new_ids, pickup_code
from app.inventory.service import LineNeed, Snapshot
from app.logistics import rules as logistics_rules
from app.orders import rules, states, terms
from app.payments import registry


@dataclass(frozen=True, slots=True)
class DraftLine:
    variant_id: str
    product_id: str
    sku: str
    title: str
    category: str
    returnable: bool
    quantity: int
    unit_price: int
    listing_revision_id: str | None = None  # what the buyer saw (`listing_revision`)
    return_class: str = "standard"  # the listing's return class (app/catalog/returns.py), kept on the line
    return_reason: str | None = None
    exclusion_confirmed: bool = False  # the buyer confirmed at checkout that a confirm_required item is excluded


@dataclass(frozen=True, slots=True)
class PromotionTerms:
    code: str
    kind: str
    value: int


@dataclass
class OrderDraft:
    merchant_id: str
    channel: str
    lines: list[DraftLine]
    payment_method: str
    currency: str
    fulfilment: dict[str, Any]
    pickup_location_id: str | None = None
    customer_id: str | None = None
    buyer_id: str | None = None
    email: str | None = None
    promotion: PromotionTerms | None = None
    charge_shipping: bool = True
    # The merchant's shipping templates for these lines (`app.logistics.rules.DeliveryQuote`); none: the flat fee.
    shipping_quote: Callable[[Sequence[tuple[int, int]]], int] | None = None
    # The merchant's delivery promise (C28): dispatch within so many hours of payment, delivered days after that.
    ship_within_hours: int = logistics_rules.DEFAULT_SHIP_WITHIN_HOURS
    delivery_days: int = logistics_rules.DEFAULT_DELIVERY_DAYS
    extra_events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Where stock is held: "auto" (at the pickup location when there is one, else by the delivery plan),
    # "network" (by the delivery plan although collected at the pickup location: the goods travel there,
    # as for community group-buys), "none" (nothing to hold: bookable services).
    stock_hold: str = "auto"
    stock: Snapshot | None = None  # the merchant's levels, read with the lines: the first plan is made from them
    # Rows of other tables that belong to the order, written with it by the placing statement (a flash sale's
    # `flash_order`): each table's columns but `order_id` and `created_at`, which are set when it is built.
    with_rows: list[tuple[Table, dict[str, Any]]] = field(default_factory=list)
    # Orders with the same turn are placed one at a time: on PostgreSQL the placing statement takes a lock of it
    # first, held until the commit (a flash sale's buyer, whose units are counted when the order commits).
    turn: tuple[str, str] | None = None

    def totals(self) -> rules.Totals:
        promo = self.promotion
        return rules.price_order([(ln.quantity, ln.unit_price) for ln in self.lines],
                                 promotion_kind=promo.kind if promo else None,
                                 promotion_value=promo.value if promo else 0,
                                 fulfilment_type=self.fulfilment.get("type", "delivery"),
                                 charge_shipping=self.charge_shipping, shipping_quote=self.shipping_quote)

    def hold_at(self) -> str | None:
        """Where its stock is held if it is collected: None for the delivery plan (see `stock_hold`)."""
        return self.pickup_location_id if self.stock_hold == "auto" else None

    def needs(self) -> list[LineNeed]:
        return [LineNeed(ln.variant_id, ln.sku, ln.quantity) for ln in self.lines]


@dataclass(slots=True)
class Placed:
    """A draft made into the rows of its order, before its stock is reserved."""

    draft: OrderDraft
    order: dict[str, Any]
    lines: list[dict[str, Any]]
    rows: list[tuple[Table, dict[str, Any]]] = field(default_factory=list)  # `OrderDraft.with_rows`, completed

    def events(self) -> list[tuple[str, str | None, dict[str, Any]]]:
        """Its outbox events: `order.created` and the channel's own."""
        o = self.order
        return [("order.created", o["merchant_id"], {"order_id": o["id"], "channel": o["channel"],
                                                     "total": o["total"], "status": o["status"]}),
                *((kind, o["merchant_id"], payload) for kind, payload in self.draft.extra_events)]


def build(draft: OrderDraft, *, checkout_id: str, payment_id: str | None, now: datetime,
          hold_minutes: int) -> Placed:
    """The rows of the draft's order and lines. Every column with a default is set: on PostgreSQL the rows reach
    the tables as JSON, where a missing key is written as NULL."""
    order_id = new_id("ord")
    promo = draft.promotion
    totals = draft.totals()
    status = states.initial_status(prepaid=registry.prepaid(draft.payment_method))
    parcel = draft.fulfilment.get("type", "delivery") == "delivery" and draft.pickup_location_id is None
    # From placing; an order paid later has its promise moved on by the wait (`orders.payments`).
    ship_by, deliver_by = logistics_rules.promise(now, ship_within_hours=draft.ship_within_hours,
                                                  delivery_days=draft.delivery_days)
    order = {
        "id": order_id, "number": rules.order_number(now), "merchant_id": draft.merchant_id,
        "channel": draft.channel, "status": status, "payment_method": draft.payment_method,
        "payment_status": "unpaid", "checkout_id": checkout_id, "payment_id": payment_id,
        "customer_id": draft.customer_id, "buyer_id": draft.buyer_id, "email": draft.email,
        "currency": draft.currency, "subtotal": totals.subtotal, "discount": totals.discount,
        "shipping": totals.shipping, "total": totals.total, "refunded": 0,
        "promotion_code": promo.code if promo else None, "fulfilment": draft.fulfilment,
        "pickup_location_id": draft.pickup_location_id,
        "pickup_code": pickup_code() if draft.pickup_location_id else None,
        "hold_expires_at": now + timedelta(minutes=hold_minutes) if status == "pending_payment" else None,
        "created_at": now, "updated_at": now, "terms_version": terms.CURRENT,
        "promised_ship_by": ship_by if parcel else None, "promised_delivery_by": deliver_by if parcel else None,
        "signed_at": None, "signed_source": None,
    }
    line_ids = new_ids("oli", len(draft.lines))
    lines = [{
        "id": line_id, "order_id": order_id, "merchant_id": draft.merchant_id,
        "variant_id": ln.variant_id, "product_id": ln.product_id, "sku": ln.sku, "title": ln.title,
        "category": ln.category, "returnable": ln.returnable, "quantity": ln.quantity,
        "unit_price": ln.unit_price, "discount": priced.discount, "total": priced.total,
        "returned_quantity": 0, "listing_revision_id": ln.listing_revision_id,
        "return_class": ln.return_class, "return_reason": ln.return_reason,
        "return_exclusion_confirmed_at":
            now if ln.exclusion_confirmed and ln.return_class == "confirm_required" else None}
        for line_id, ln, priced in zip(line_ids, draft.lines, totals.lines, strict=True)]
    rows = [(table, {**values, "order_id": order_id, "created_at": now}) for table, values in draft.with_rows]
    return Placed(draft, order, lines, rows)
