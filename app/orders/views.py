"""The public shape of an order (`OrderOut`), from its rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import as_utc
from app.orders.models import (
    Order,
    OrderLine,
    Shipment,
)


def iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat().replace("+00:00", "Z") if value else None



_ORDER_KEYS = ("id", "number", "merchant_id", "channel", "status", "payment_method", "payment_status", "subtotal",
               "discount", "shipping", "total", "refunded", "currency", "fulfilment", "pickup_code",
               "promotion_code", "email", "customer_id", "buyer_id", "cancel_reason")



def order_view(order: dict[str, Any], lines: Sequence[dict[str, Any]], shipments: Sequence[dict[str, Any]]
               ) -> dict[str, Any]:
    """The public shape of an order (see `OrderOut`)."""
    out = {k: order.get(k) for k in _ORDER_KEYS}
    for k in ("hold_expires_at", "created_at", "paid_at", "shipped_at", "delivered_at", "completed_at",
              "cancelled_at"):
        out[k] = iso(order.get(k))
    out["lines"] = [{k: ln[k] for k in ("id", "variant_id", "product_id", "sku", "title", "quantity", "unit_price",
                                        "discount", "total", "returned_quantity", "listing_revision_id",
                                        "return_class", "return_reason")}
                    | {"return_exclusion_confirmed_at": iso(ln["return_exclusion_confirmed_at"])}
                    for ln in lines]
    out["shipments"] = [{"id": s["id"], "carrier": s["carrier"], "tracking_no": s["tracking_no"],
                         "created_at": iso(s["created_at"])} for s in shipments]
    return out


def row(obj: Any) -> dict[str, Any]:
    return {c.key: getattr(obj, c.key) for c in obj.__table__.columns}


async def view(session: AsyncSession, *, order: Order) -> dict[str, Any]:
    lines = (await session.scalars(select(OrderLine).where(OrderLine.order_id == order.id)
                                   .order_by(OrderLine.id))).all()
    shipments = (await session.scalars(select(Shipment).where(Shipment.order_id == order.id)
                                       .order_by(Shipment.id))).all()
    return order_view(row(order), [row(ln) for ln in lines], [row(s) for s in shipments])

