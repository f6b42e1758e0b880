"""The public shape of an order (`OrderView`, serialised by `OrderOut`), from its rows: written once, here.

A view is JSON-ready (times as RFC 3339 text), so an answer recorded under an Idempotency-Key and read back later is
the same `OrderView` the first request got.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import rfc3339, utcnow
from app.core.clock import rfc3339_or_none as iso
from app.logistics import rules as logistics_rules
from app.orders.models import Order, OrderLine, Shipment

__all__ = ["LineView", "OrderView", "ShipmentView", "iso", "order_view", "row", "view"]


class LineView(TypedDict):
    id: str
    variant_id: str
    product_id: str
    sku: str
    title: str
    quantity: int
    unit_price: int
    discount: int
    total: int
    returned_quantity: int
    listing_revision_id: str | None
    return_class: str
    return_reason: str | None
    return_exclusion_confirmed_at: str | None


class ShipmentView(TypedDict):
    id: str
    carrier: str
    tracking_no: str
    created_at: str | None


class OrderView(TypedDict):
    id: str
    number: str
    merchant_id: str
    channel: str
    status: str
    payment_method: str
    payment_status: str
    subtotal: int
    discount: int
    shipping: int
    total: int
    refunded: int
    currency: str
    fulfilment: dict[str, Any]
    pickup_code: str | None
    promotion_code: str | None
    email: str | None
    customer_id: str | None
    buyer_id: str | None
    cancel_reason: str | None
    hold_expires_at: str | None
    created_at: str
    paid_at: str | None
    shipped_at: str | None
    delivered_at: str | None
    completed_at: str | None
    cancelled_at: str | None
    promised_ship_by: str | None
    promised_delivery_by: str | None
    signed_at: str | None
    signed_source: str | None
    late_shipment: bool
    lines: list[LineView]
    shipments: list[ShipmentView]
    terms_version: str | None
    seller_cancel_code: str | None
    cancel_proposal: dict[str, Any] | None


def order_view(order: Mapping[str, Any], lines: Sequence[Mapping[str, Any]],
               shipments: Sequence[Mapping[str, Any]]) -> OrderView:
    """An order's view from its rows (column name -> value)."""
    return {
        "id": order["id"], "number": order["number"], "merchant_id": order["merchant_id"],
        "channel": order["channel"], "status": order["status"], "payment_method": order["payment_method"],
        "payment_status": order["payment_status"], "subtotal": order["subtotal"], "discount": order["discount"],
        "shipping": order["shipping"], "total": order["total"], "refunded": order["refunded"],
        "currency": order["currency"], "fulfilment": order["fulfilment"], "pickup_code": order.get("pickup_code"),
        "promotion_code": order.get("promotion_code"), "email": order.get("email"),
        "customer_id": order.get("customer_id"), "buyer_id": order.get("buyer_id"),
        "cancel_reason": order.get("cancel_reason"),
        "hold_expires_at": iso(order.get("hold_expires_at")), "created_at": rfc3339(order["created_at"]),
        "paid_at": iso(order.get("paid_at")), "shipped_at": iso(order.get("shipped_at")),
        "delivered_at": iso(order.get("delivered_at")), "completed_at": iso(order.get("completed_at")),
        "cancelled_at": iso(order.get("cancelled_at")),
        "promised_ship_by": iso(order.get("promised_ship_by")),
        "promised_delivery_by": iso(order.get("promised_delivery_by")),
        "signed_at": iso(order.get("signed_at")), "signed_source": order.get("signed_source"),
        "late_shipment": logistics_rules.is_late(promised_ship_by=order.get("promised_ship_by"),
                                                 shipped_at=order.get("shipped_at"), status=order["status"],
                                                 now=utcnow()),
        "lines": [{
            "id": ln["id"], "variant_id": ln["variant_id"], "product_id": ln["product_id"], "sku": ln["sku"],
            "title": ln["title"], "quantity": ln["quantity"], "unit_price": ln["unit_price"],
            "discount": ln["discount"], "total": ln["total"], "returned_quantity": ln["returned_quantity"],
            "listing_revision_id": ln["listing_revision_id"], "return_class": ln["return_class"],
            "return_reason": ln["return_reason"],
            "return_exclusion_confirmed_at": iso(ln["return_exclusion_confirmed_at"])} for ln in lines],
        "shipments": [{"id": s["id"], "carrier": s["carrier"], "tracking_no": s["tracking_no"],
                       "created_at": iso(s["created_at"])} for s in shipments],
        "terms_version": order.get("terms_version"), "seller_cancel_code": order.get("seller_cancel_code"),
        "cancel_proposal": {"code": order["cancel_proposal_code"], "proposed_at": iso(order.get("cancel_proposed_at"))}
        if order.get("cancel_proposal_code") else None,
    }


def row(obj: Any) -> dict[str, Any]:
    """An ORM object's columns (column name -> value)."""
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


async def view(session: AsyncSession, *, order: Order) -> OrderView:
    lines = (await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                   .order_by(OrderLine.id))).all()
    shipments = (await session.scalars(select(Shipment).where(Shipment.order_id == order.id)
                                       .order_by(Shipment.id))).all()
    return order_view(row(order), [row(ln) for ln in lines], [row(s) for s in shipments])
