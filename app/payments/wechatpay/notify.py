"""WeChat Pay's notifications (`POST /v1/payments/wechatpay/notify`, JSON): the platform's signature
(`Wechatpay-Signature`, with the platform public key or certificate), a `Wechatpay-Timestamp` within 5 minutes,
and the AEAD_AES_256_GCM resource decrypted with the API v3 key, all checked before anything is read.

A payment's notification marks its orders paid once; one for another amount than ours is kept for the operator
and marks nothing. A combined payment's notification does so for each merchant's share. A refund's notification
(REFUND.SUCCESS, REFUND.ABNORMAL, REFUND.CLOSED) settles the refund or marks it failed, once.
Any answer but 2xx makes WeChat Pay send the notification again later. 404 while it is not configured.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import Conflict, DomainError, NotFound
from app.payments.base import Outcome, Paid, money_arrived, refund_ended
from app.payments.wechatpay import gateway
from app.payments.wechatpay.provider import config, paid_event
from app.payments.wechatpay.provider import refund_ended as ended_refund

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
    """WeChat Pay's `TRANSACTION.SUCCESS` marks the payment's orders paid (once; for a combined payment, each
    share's); `REFUND.SUCCESS` settles the refund, `REFUND.ABNORMAL` and `REFUND.CLOSED` mark it failed (once)."""
    found = config(settings)
    if found is None:
        raise NotFound("payment provider", "wechatpay")
    try:
        notice = await gateway.verify_notification(found, headers=dict(request.headers), body=await request.body())
    except gateway.InvalidNotification as exc:
        raise BadNotification(str(exc)) from None
    if notice.refund is not None:
        ended = ended_refund(notice.refund)
        if ended is None:
            return {"code": "SUCCESS"}
        outcome = await refund_ended(session, settings, ended)
        if outcome == "unknown":
            raise NotFound("refund", notice.refund.out_refund_no)
        if outcome == "mismatch":
            raise AmountMismatch(f"WeChat Pay reports a refund of {notice.refund.refund} fen under "
                                 f"{notice.refund.out_refund_no}, which asked another amount; nothing is settled")
        return {"code": "SUCCESS"}
    shares = list(notice.combined.sub_orders) if notice.combined is not None else (
        [notice.transaction] if notice.transaction is not None else [])
    outcomes: list[tuple[Outcome, gateway.WechatTransaction]] = []
    for paid in shares:
        if paid.paid:
            outcomes.append((await money_arrived(session, settings, Paid(
                provider="wechatpay", event_id=paid_event(paid.out_trade_no), event_kind=notice.event_type,
                provider_ref=paid.out_trade_no, amount_received=paid.total)), paid))
    # every share was handled on its own; the answer names the first that did not check (WeChat Pay resends all)
    for outcome, paid in outcomes:
        if outcome == "mismatch":
            raise AmountMismatch(f"WeChat Pay reports {paid.total} fen for {paid.out_trade_no}, which asked "
                                 "another amount; recorded for the operator, nothing is marked paid")
    for outcome, paid in outcomes:
        if outcome == "unknown":
            raise NotFound("payment", paid.out_trade_no)
    return {"code": "SUCCESS"}
