"""Alipay's asynchronous notifications (`POST /v1/payments/alipay/notify`, form-encoded) and the buyer's way
back from the cashier (`GET /v1/payments/alipay/return`).

A notification is answered with the text `success` only once Alipay's signature verifies with its public key, the
`app_id` is ours, the `out_trade_no` names a payment of ours and `total_amount` is what that payment asked; every
other answer makes Alipay send it again later, and changes nothing here. 404 while Alipay is not configured.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, RedirectResponse

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Conflict, DomainError, NotFound
from app.payments.alipay import gateway
from app.payments.alipay.provider import config, paid_event
from app.payments.base import Paid, money_arrived

router = APIRouter(prefix="/v1", tags=["payments"])

_FORM = {"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
    "schema": {"type": "object", "additionalProperties": {"type": "string"}}}}}}


class BadNotification(DomainError):
    status = 400
    type_slug = "invalid-notification"
    title = "Notification rejected"


class AmountMismatch(Conflict):
    type_slug = "payment-amount-mismatch"
    title = "The amount differs from the payment's"


@router.post("/payments/alipay/notify", response_class=PlainTextResponse, openapi_extra=_FORM, responses={
    400: {"description": "Signature, app id or fields wrong"}, 404: {"description": "Not our payment, or Alipay "
    "is not configured here"}, 409: {"description": "An amount other than the payment's (kept for the operator)"}})
async def alipay_notify(request: Request, session: SessionDep, settings: SettingsDep) -> PlainTextResponse:
    """Alipay's `trade_status_sync`: a paid trade marks its orders paid (once, however often it comes)."""
    found = config(settings)
    if found is None:
        raise NotFound("payment provider", "alipay")
    raw = (await request.body()).decode("utf-8", "replace")
    try:
        notice = gateway.verify_notification(found, dict(parse_qsl(raw, keep_blank_values=True)))
    except gateway.InvalidNotification as exc:
        raise BadNotification(str(exc)) from None
    if not notice.paid:  # waiting or closed: nothing to do, but Alipay wants to hear it arrived
        return PlainTextResponse("success")
    outcome = await money_arrived(session, settings, Paid(
        provider="alipay", event_id=paid_event(notice.out_trade_no), event_kind=notice.notify_type,
        provider_ref=notice.out_trade_no, amount_received=notice.total_amount))
    if outcome == "unknown":
        raise NotFound("payment", notice.out_trade_no)
    if outcome == "mismatch":
        raise AmountMismatch(f"Alipay reports {notice.total_amount} fen for {notice.out_trade_no}, which asked "
                             "another amount; recorded for the operator, nothing is marked paid")
    return PlainTextResponse("success")  # processed, or counted before (a notification sent again)


@router.get("/payments/alipay/return", response_class=RedirectResponse, status_code=303,
            responses={400: {"description": "Not Alipay's signed return"}})
async def alipay_return(request: Request, settings: SettingsDep) -> RedirectResponse:
    """Where Alipay's cashier sends the buyer back: to the order page (which shows whether the money arrived;
    only the notification or a query marks anything paid)."""
    found = config(settings)
    if found is None:
        raise NotFound("payment provider", "alipay")
    try:
        back = gateway.verify_return(found, dict(request.query_params))
    except gateway.InvalidNotification as exc:
        raise BadNotification(str(exc)) from None
    return RedirectResponse("/payments/return?" + urlencode({"payment_id": back.out_trade_no}), status_code=303)
