from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from app.catalog.schemas import ListingRevisionOut
from app.core.deps import AdminDep, AnyPrincipalDep, SessionDep, SettingsDep
from app.core.errors import NotFound
from app.core.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor
from app.orders import access as orders_access
from app.orders import cancellation as orders_cancellation
from app.orders import contact, snapshots, terms
from app.orders import fulfilment as orders_fulfilment
from app.orders import payments as orders_payments
from app.orders import views as orders_views
from app.orders.returns import service as orders_returns
from app.orders.rules import Channel
from app.orders.schemas import (
    CancelIn,
    CollectIn,
    MediationIn,
    MediationItem,
    MediationPage,
    OrderOut,
    OrderPage,
    ReturnDisputeIn,
    ReturnIn,
    ReturnOut,
    ReturnPage,
    ReturnReceiptIn,
    ReturnRejectIn,
    SellerContactOut,
    ShipmentIn,
)

router = APIRouter(prefix="/v1", tags=["orders"])


@router.get("/orders/{order_id}", response_model=OrderOut)
async def get_order(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    order = await orders_access.get_visible(session, principal=principal, order_id=order_id)
    return OrderOut.model_validate(await orders_views.view(session, order=order))


@router.get("/orders/{order_id}/seller-contact", response_model=SellerContactOut)
async def get_seller_contact(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> SellerContactOut:
    """The seller's legal name, registered address and phone for the order's buyer (and the platform), to seek
    redress; 404 for anyone else, as order reads."""
    return SellerContactOut.model_validate(await contact.seller_contact(session, principal=principal,
                                                                        order_id=order_id))


@router.get("/orders", response_model=OrderPage)
async def list_orders(
    principal: AnyPrincipalDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    channel: Channel | None = None,
) -> OrderPage:
    """The caller's own orders (customer, merchant, buyer; the admin sees all), newest first."""
    items, last = await orders_access.list_for(session, principal=principal, status=status, channel=channel,
                                         before=decode_cursor(cursor), limit=limit)
    return OrderPage(items=[OrderOut.model_validate(i) for i in items],
                     next_cursor=encode_cursor(last) if last else None)


@router.post("/orders/{order_id}/cancel", response_model=OrderOut)
async def cancel_order(order_id: str, principal: AnyPrincipalDep, session: SessionDep, settings: SettingsDep,
                       body: CancelIn | None = None) -> OrderOut:
    """Cancel before shipping: stock is released and paid money refunded."""
    out = await orders_cancellation.cancel(session, settings=settings, principal=principal, order_id=order_id,
                                           reason=body.reason if body else "requested",
                                           code=body.code if body else None,
                                           refund_now=body.refund_now if body else False)
    return OrderOut.model_validate(out)


@router.post("/orders/{order_id}/cancel-proposal/accept", response_model=OrderOut)
async def accept_cancel_proposal(order_id: str, principal: AnyPrincipalDep, session: SessionDep,
                                 settings: SettingsDep) -> OrderOut:
    """The buyer accepts the merchant's coded proposal to cancel a paid order: cancelled and refunded."""
    out = await orders_cancellation.accept_proposal(session, settings=settings, principal=principal,
                                                    order_id=order_id)
    return OrderOut.model_validate(out)


@router.post("/orders/{order_id}/cancel-proposal/decline", response_model=OrderOut)
async def decline_cancel_proposal(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    """The buyer declines: the order goes on as agreed."""
    out = await orders_cancellation.decline_proposal(session, principal=principal, order_id=order_id)
    return OrderOut.model_validate(out)


@router.get("/orders/{order_id}/terms", response_class=PlainTextResponse,
            responses={200: {"content": {"text/markdown": {}}}})
async def download_order_terms(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> PlainTextResponse:
    """The order terms as agreed at checkout (the version kept with the order), as a file to download."""
    order = await orders_access.get_visible(session, principal=principal, order_id=order_id)
    agreed = terms.terms_of(order.terms_version)
    return PlainTextResponse(agreed.text, media_type="text/markdown; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="order-{order.number}-terms-{agreed.version}.md"',
        "X-Terms-Version": agreed.version})


@router.get("/order-terms/{terms_version}", response_class=PlainTextResponse,
            responses={200: {"content": {"text/markdown": {}}}})
async def read_terms_version(terms_version: str) -> PlainTextResponse:
    """A version of the order terms (`current` for the one checkout shows now); old versions stay readable."""
    wanted = terms.CURRENT if terms_version == "current" else terms_version
    if wanted not in terms.TERMS:
        raise NotFound("order terms version", terms_version)
    return PlainTextResponse(terms.TERMS[wanted].text, media_type="text/markdown; charset=utf-8",
                             headers={"X-Terms-Version": wanted})


@router.post("/orders/{order_id}/shipments", status_code=201, response_model=OrderOut)
async def ship_order(order_id: str, body: ShipmentIn, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    out = await orders_fulfilment.ship(session, principal=principal, order_id=order_id, carrier=body.carrier,
                             tracking_no=body.tracking_no)
    return OrderOut.model_validate(out)


@router.post("/orders/{order_id}/deliver", response_model=OrderOut)
async def deliver_order(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    return OrderOut.model_validate(await orders_fulfilment.deliver(session, principal=principal, order_id=order_id))


@router.post("/orders/{order_id}/confirm-receipt", response_model=OrderOut)
async def confirm_receipt(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    """The order's customer: the parcel arrived (确认收货). Signed for by the buyer now (`signed_source: buyer`);
    the 7-day return window starts the next day (Asia/Shanghai). 409 once it is signed for."""
    out = await orders_fulfilment.confirm_receipt(session, principal=principal, order_id=order_id)
    return OrderOut.model_validate(out)


@router.post("/orders/{order_id}/complete", response_model=OrderOut)
async def complete_order(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    return OrderOut.model_validate(await orders_fulfilment.complete(session, principal=principal, order_id=order_id))


@router.post("/orders/{order_id}/mark-paid", response_model=OrderOut)
async def mark_order_paid(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    """Merchant: the buyer paid an order bought on credit terms; the buyer's open credit grows back."""
    return OrderOut.model_validate(await orders_payments.mark_paid(session, principal=principal, order_id=order_id))


@router.post("/orders/{order_id}/collect", response_model=OrderOut)
async def collect_order(order_id: str, body: CollectIn, principal: AnyPrincipalDep, session: SessionDep) -> OrderOut:
    """Store pick-up: the pickup store's device hands the goods over against the pickup code."""
    out = await orders_fulfilment.collect(session, principal=principal, order_id=order_id, code=body.pickup_code)
    return OrderOut.model_validate(out)


@router.post("/orders/{order_id}/returns", status_code=201, response_model=ReturnOut)
async def return_order(order_id: str, body: ReturnIn, principal: AnyPrincipalDep, session: SessionDep,
                       settings: SettingsDep) -> ReturnOut:
    """Return units: `no_reason` within 7 Shanghai days after delivery (listings excluded by law, or confirmed as
    excluded at checkout, are refused), `quality` within 15 days. Refunded through the payment method at once, or
    once the goods are back when the merchant refunds on receipt (`status: awaiting_goods`)."""
    out = await orders_returns.request_return(session, settings=settings, principal=principal, order_id=order_id,
                                       lines=[(ln.variant_id, ln.quantity) for ln in body.lines], reason=body.reason,
                                       kind=body.kind)
    return ReturnOut.model_validate(out)


@router.get("/orders/{order_id}/returns", response_model=ReturnPage)
async def list_returns(order_id: str, principal: AnyPrincipalDep, session: SessionDep) -> ReturnPage:
    """The order's returns with their status history (its customer, its merchant)."""
    items = await orders_returns.list_returns(session, principal=principal, order_id=order_id)
    return ReturnPage(items=[ReturnOut.model_validate(i) for i in items])


@router.post("/orders/{order_id}/returns/{return_id}/receive", response_model=ReturnOut)
async def receive_return(order_id: str, return_id: str, principal: AnyPrincipalDep, session: SessionDep,
                         body: ReturnReceiptIn | None = None) -> ReturnOut:
    """Merchant: the goods are back, as new or not (the body may be left out: as new). The refund is paid
    automatically 7 days later unless rejected."""
    out = await orders_returns.receive_return(session, principal=principal, order_id=order_id, return_id=return_id,
                                              goods_condition=(body or ReturnReceiptIn()).goods_condition)
    return ReturnOut.model_validate(out)


@router.post("/orders/{order_id}/returns/{return_id}/approve", response_model=ReturnOut)
async def approve_return(order_id: str, return_id: str, principal: AnyPrincipalDep, session: SessionDep,
                         settings: SettingsDep) -> ReturnOut:
    """Merchant: refund now, without waiting for the 7 days after receipt."""
    out = await orders_returns.approve_return(session, settings=settings, principal=principal, order_id=order_id,
                                       return_id=return_id)
    return ReturnOut.model_validate(out)


@router.post("/orders/{order_id}/returns/{return_id}/reject", response_model=ReturnOut)
async def reject_return(order_id: str, return_id: str, body: ReturnRejectIn, principal: AnyPrincipalDep,
                        session: SessionDep) -> ReturnOut:
    """Merchant: refuse received goods that are not intact, with an R7 art. 9 code and at least one photo."""
    out = await orders_returns.reject_return(session, principal=principal, order_id=order_id, return_id=return_id,
                                      code=body.code, photos=body.evidence, note=body.note)
    return ReturnOut.model_validate(out)


@router.post("/orders/{order_id}/returns/{return_id}/dispute", response_model=ReturnOut)
async def dispute_return(order_id: str, return_id: str, body: ReturnDisputeIn, principal: AnyPrincipalDep,
                         session: SessionDep, settings: SettingsDep) -> ReturnOut:
    """Customer: the seller rejected the return and you disagree. The platform mediates and decides within the
    complaint deadline in working days (`mediation_due_at`)."""
    out = await orders_returns.dispute_return(session, principal=principal, order_id=order_id, return_id=return_id,
                                              reason=body.reason, working_days=settings.shop_complaint_sla_days)
    return ReturnOut.model_validate(out)


@router.get("/admin/mediation", response_model=MediationPage)
async def mediation_queue(_: AdminDep, session: SessionDep, limit: LimitQuery = 50) -> MediationPage:
    """Disputed returns waiting for the platform, oldest first (`overdue` past their working-day deadline)."""
    items = await orders_returns.mediation_queue(session, limit=limit)
    return MediationPage(items=[MediationItem.model_validate(i) for i in items])


@router.post("/admin/mediation/{return_id}/decide", response_model=ReturnOut)
async def mediate_return(return_id: str, body: MediationIn, admin: AdminDep, session: SessionDep,
                         settings: SettingsDep) -> ReturnOut:
    """Decide a disputed return: `refund` (the buyer is refunded through the payment method) or
    `rejection_upheld` (the seller's rejection stands)."""
    out = await orders_returns.mediate_return(session, settings=settings, actor=admin.scope, return_id=return_id,
                                              refund=body.outcome == "refund", note=body.note)
    return ReturnOut.model_validate(out)


@router.get("/listing-revisions/{revision_id}", response_model=ListingRevisionOut)
async def get_listing_revision(revision_id: str, principal: AnyPrincipalDep, session: SessionDep
                               ) -> ListingRevisionOut:
    """The listing as an order line was sold under it (`lines[].listing_revision_id`): title, description,
    prices, seller and return terms at that time. For the order's customer or buyer, the merchant, the admin."""
    revision = await snapshots.get_listing_revision(session, principal=principal, revision_id=revision_id)
    return ListingRevisionOut.model_validate(revision)
