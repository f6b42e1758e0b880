from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import AnyPrincipalDep, SessionDep, SettingsDep
from app.core.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor
from app.orders import service
from app.orders.schemas import CancelIn, CollectIn, OrderOut, OrderPage, ReturnIn, ReturnOut, ShipmentIn

router = APIRouter(prefix="/v1", tags=["orders"])


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    order = await service.get_visible(session, principal=principal, order_id=order_id)
    return OrderOut.model_validate(await service.view(session, order=order))


@router.get("/orders", response_model=OrderPage)
async def list_orders(
    principal: AnyPrincipalDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    channel: Annotated[str | None, Query(pattern="^(retail|wholesale|community|pos)$")] = None,
) -> OrderPage:
    """The caller's own orders (customer, merchant, buyer; the admin sees all), newest first."""
    items, last = await service.list_for(session, principal=principal, status=status, channel=channel,
                                         before=decode_cursor(cursor), limit=limit)
    return OrderPage(items=[OrderOut.model_validate(i) for i in items],
                     next_cursor=encode_cursor(last) if last else None)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
async def cancel_order(order_id: str, principal: AnyPrincipalDep, session: SessionDep, settings: SettingsDep,
                       body: CancelIn | None = None) -> OrderOut:
    """Cancel before shipping: stock is released and paid money refunded."""
    out = await service.cancel(session, settings=settings, principal=principal, order_id=order_id,
                               reason=body.reason if body else "requested")
    return OrderOut.model_validate(out)


@router.post("/orders/{order_id}/shipments", status_code=201, response_model=OrderOut)
async def ship_order(order_id: str, body: ShipmentIn, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    out = await service.ship(session, principal=principal, order_id=order_id, carrier=body.carrier,
                             tracking_no=body.tracking_no)
    return OrderOut.model_validate(out)


@router.post("/orders/{order_id}/deliver", response_model=OrderOut)
async def deliver_order(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    return OrderOut.model_validate(await service.deliver(session, principal=principal, order_id=order_id))


@router.post("/orders/{order_id}/complete", response_model=OrderOut)
async def complete_order(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    return OrderOut.model_validate(await service.complete(session, principal=principal, order_id=order_id))


@router.post("/orders/{order_id}/mark-paid", response_model=OrderOut)
async def mark_order_paid(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    """Merchant: the buyer paid an order bought on credit terms; the buyer's open credit grows back."""
    return OrderOut.model_validate(await service.mark_paid(session, principal=principal, order_id=order_id))


@router.post("/orders/{order_id}/collect", response_model=OrderOut)
async def collect_order(order_id: str, body: CollectIn, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    """Store pick-up: the pickup store's device hands the goods over against the pickup code."""
    out = await service.collect(session, principal=principal, order_id=order_id, code=body.pickup_code)
    return OrderOut.model_validate(out)


@router.post("/orders/{order_id}/returns", status_code=201, response_model=ReturnOut)
async def return_order(order_id: str, body: ReturnIn, principal: AnyPrincipalDep, session: SessionDep,
                       settings: SettingsDep) -> ReturnOut:
    """7-day no-reason return (from the day after delivery, Shanghai days); refunds through the payment method."""
    out = await service.request_return(session, settings=settings, principal=principal, order_id=order_id,
                                       lines=[(ln.variant_id, ln.quantity) for ln in body.lines], reason=body.reason)
    return ReturnOut.model_validate(out)
