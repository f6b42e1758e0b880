"""The listing as sold (C11, C25): an order line keeps the id of the listing revision it was bought under,
and the parties to that order can read that revision however the listing changed since."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import service as catalog_service
from app.catalog.models import ListingRevision
from app.core.auth import Principal
from app.core.errors import NotFound
from app.orders.models import Order, OrderLine


async def _bought_under(session: AsyncSession, principal: Principal, revision_id: str) -> bool:
    """Whether one of the customer's (or wholesale buyer's) own order lines was sold under this revision."""
    party = Order.customer_id if principal.kind == "customer" else Order.buyer_id
    found = await session.scalar(
        select(OrderLine.id).join(Order, Order.id == OrderLine.order_id)
        .where(party == principal.subject_id, OrderLine.listing_revision_id == revision_id).limit(1))
    return found is not None


async def get_listing_revision(session: AsyncSession, *, principal: Principal, revision_id: str) -> ListingRevision:
    """The revision for the admin, the listing's merchant, or a customer or buyer who bought under it;
    404 for anyone else (as for orders, ids of others do not exist)."""
    revision = await catalog_service.get_revision(session=session, revision_id=revision_id)
    if revision is not None:
        match principal.kind:
            case "admin":
                return revision
            case "merchant" if revision.merchant_id == principal.merchant_id:
                return revision
            case "customer" | "buyer" if principal.subject_id and await _bought_under(session, principal,
                                                                                      revision_id):
                return revision
    raise NotFound("listing revision", revision_id)
