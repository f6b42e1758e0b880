"""WeChat Pay's notifications (`POST /v1/payments/wechatpay/notify`, JSON): the platform's signature
(`Wechatpay-Signature`, with the platform public key or certificate), a `Wechatpay-Timestamp` within 5 minutes,
and the AEAD_AES_256_GCM resource decrypted with the API v3 key, all checked before anything is read.

A payment's notification marks its orders paid once; one for another amount than ours is kept for the operator
and marks nothing; refund notifications are acknowledged (a refund is settled when WeChat Pay accepts it).
Any answer but 2xx makes WeChat Pay send the notification again later. 404 while it is not configured.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Conflict, DomainError, NotFound
from app.payments.base import Paid, money_arrived
from app.payments.wechatpay import gateway
from app.payments.wechatpay.provider import config, paid_event

router = APIRouter(prefix="/v1", tags=["payments"])

_JSON = {"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}}


class BadNotification(DomainError):
    status = 400
    type_slug = "invalid-notification"
    title = "Notification rejected"


class AmountMismatch(Conflict):
    type_slug = "payment-amount-mismatch"
    title = "The amount differs from the payment's"


@router.post("/payments/wechatpay/notify", openapi_extra=_JSON, responses={
    400: {"description": "Signature, timestamp or encryption wrong"}, 404: {"description": "Not our payment, or "
    "WeChat Pay is not configured here"}, 409: {"description": "An amount other than the payment's"}})
async def wechatpay_notify(request: Request, session: SessionDep, settings: SettingsDep) -> dict[str, Any]:
    """WeChat Pay's `TRANSACTION.SUCCESS` marks the payment's orders paid (once); `REFUND.*` are acknowledged."""
    found = config(settings)
    if found is None:
        raise NotFound("payment provider", "wechatpay")
    try:
        notice = await gateway.verify_notification(found, headers=dict(request.headers), body=await request.body())
    except gateway.InvalidNotification as exc:
        raise BadNotification(str(exc)) from None
    paid = notice.transaction
    if paid is None or not paid.paid:
        return {"code": "SUCCESS"}
    outcome = await money_arrived(session, settings, Paid(
        provider="wechatpay", event_id=paid_event(paid.out_trade_no), event_kind=notice.event_type,
        provider_ref=paid.out_trade_no, amount_received=paid.total))
    if outcome == "unknown":
        raise NotFound("payment", paid.out_trade_no)
    if outcome == "mismatch":
        raise AmountMismatch(f"WeChat Pay reports {paid.total} fen for {paid.out_trade_no}, which asked another "
                             "amount; recorded for the operator, nothing is marked paid")
    return {"code": "SUCCESS"}
