"""The seller's real identity and contact for the buyer of an order (C35: R7 art. 25, CPL art. 44): whoever
seeks redress over an order can always reach the seller on the verified record, not only its shop name."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.errors import NotFound
from app.merchants import service as merchants_service
from app.orders.access import get_visible


async def seller_contact(session: AsyncSession, *, principal: Principal, order_id: str) -> dict[str, Any]:
    """The legal name, registered address and contact of the order's seller, from its verification record; 404
    for anyone who may not see the order (as order reads)."""
    order = await get_visible(session, principal=principal, order_id=order_id)
    merchant = await merchants_service.get(session=session, merchant_id=order.merchant_id)
    if merchant is None:
        raise NotFound("merchant", order.merchant_id)
    # The licence number is left out: for an individual seller it is a national ID number.
    return {"order_id": order.id, "merchant_id": merchant.id, "legal_name": merchant.name, "kind": merchant.kind,
            "legal_representative": merchant.legal_representative,
            "registered_address": merchant.registered_address, "contact_phone": merchant.contact_phone,
            "contact_email": merchant.contact_email}
