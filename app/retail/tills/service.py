"""Store tills redeeming promotions, with one usage limit shared with online checkout.

A redemption is one short transaction, committed with its stored idempotent response:

1. a `redemption_id` seen before is answered from its stored row (`duplicate`) and changes nothing;
2. the device's merchant's promotion with that code is judged at `occurred_at` (`app.retail.till`), and the
   discount comes from `app.orders.rules.order_discount`, the function checkout prices with;
3. the redemption row is inserted with ON CONFLICT DO NOTHING on (merchant, redemption_id): a concurrent
   request with the same id waits for the first one and then reads its row as a duplicate;
4. one use is counted with checkout's own conditional UPDATE of `used_count`, so tills and online checkouts
   together never pass `usage_limit` (409 when it is used up; the inserted row is rolled back with it);
5. `promotion.redeemed` goes to the outbox.

A void on the redemption's own day gives its use back, once: the row's status moves from `applied` to
`voided` with a conditional UPDATE, and only the request that moved it decrements `used_count`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import events, idempotency
from app.core.auth import Principal
from app.core.clock import as_utc, rfc3339, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.db import dialect_of, insert_ignore
from app.orders import rules
from app.retail import service as retail_service
from app.retail.models import Promotion, PromotionRedemption
from app.retail.tills import rules as till
from app.retail.tills.schemas import TillRedeemIn

R = PromotionRedemption
_COLUMNS = (R.id, R.redemption_id, R.promotion_id, R.code, R.status, R.amount, R.discount, R.occurred_at,
            R.voided_at)
RedemptionRow = Row[str, str, str, str, str, int, int, datetime, datetime | None]  # the _COLUMNS


async def redeem(session: AsyncSession, *, device: Principal, idempotency_key: str | None,
                 body: TillRedeemIn) -> dict[str, Any]:
    """Redeem a promotion at the device's till; a repeated `redemption_id` returns the first result."""
    fingerprint = idempotency.request_hash("pos-promotion-redeem", body.model_dump(mode="json"))

    async def work() -> tuple[int, Any]:
        return 200, await _redeem(session, device=device, body=body)

    _, out = await idempotency.run_idempotent(session, scope=device.scope, key=idempotency_key,
                                              fingerprint=fingerprint, work=work)
    return dict(out)


async def _redeem(session: AsyncSession, *, device: Principal, body: TillRedeemIn) -> dict[str, Any]:
    merchant_id, location_id = device.tenant, device.location_id
    if location_id is None:
        raise NotFound("location")
    earlier = await _redemption(session, merchant_id, body.redemption_id)
    if earlier is not None:
        return _redemption_view(earlier, "duplicate")
    refusal = till.clock_refusal(body.occurred_at, utcnow())
    if refusal:
        raise field_error("occurred_at", refusal)
    code = body.code.upper()
    promo = (await session.execute(
        select(Promotion.id, Promotion.kind, Promotion.value, Promotion.channels, Promotion.starts_at,
               Promotion.ends_at)
        .where(Promotion.merchant_id == merchant_id, Promotion.code == code))).first()
    if promo is None:
        raise field_error("code", f"no promotion {code!r}")
    refused = till.redemption_refusal(channels=promo.channels.get("channels", []), starts_at=promo.starts_at,
                                      ends_at=promo.ends_at, occurred_at=body.occurred_at)
    if refused:
        fields, message = refused
        raise InvalidInput(f"{', '.join(fields)}: {message}",
                           errors=[{"field": field, "message": message} for field in fields])
    discount = rules.order_discount(body.amount, promo.kind, promo.value)
    row = {"id": new_id("red"), "merchant_id": merchant_id, "redemption_id": body.redemption_id,
           "promotion_id": promo.id, "code": code, "location_id": location_id,
           "device_id": device.subject_id or "-", "amount": body.amount, "discount": discount, "status": "applied",
           "occurred_at": as_utc(body.occurred_at), "created_at": utcnow(), "voided_at": None}
    inserted = (await session.execute(
        insert_ignore(dialect_of(session), PromotionRedemption, ["merchant_id", "redemption_id"])
        .values(**row).returning(R.id))).first()
    if inserted is None:  # a concurrent request with this redemption_id committed first
        earlier = await _redemption(session, merchant_id, body.redemption_id)
        if earlier is None:
            raise Conflict(f"redemption {body.redemption_id} is being recorded; retry")
        return _redemption_view(earlier, "duplicate")
    try:
        await retail_service.use_promotion(session, promo.id)  # checkout's UPDATE: one limit for both channels
    except Conflict:
        message = "this coupon has been used up"
        raise Conflict(message, extra={"field": "code", "errors": [{"field": "code", "message": message}]}) from None
    out = _redemption_view(row, "applied")
    await events.emit(session, kind="promotion.redeemed", merchant_id=merchant_id, payload={
        "promotion_id": promo.id, "code": code, "channel": till.STORE_CHANNEL, "redemption_id": body.redemption_id,
        "location_id": location_id, "device_id": row["device_id"], "amount": body.amount, "discount": discount,
        "occurred_at": out["occurred_at"]})
    return out


async def void(session: AsyncSession, *, device: Principal, redemption_id: str, occurred_at: datetime | None,
               idempotency_key: str | None) -> dict[str, Any]:
    """Void a till redemption on its own day and give its use back; voiding it again changes nothing."""
    fingerprint = idempotency.request_hash("pos-promotion-void", redemption_id,
                                           as_utc(occurred_at).isoformat() if occurred_at else None)

    async def work() -> tuple[int, Any]:
        return 200, await _void(session, device=device, redemption_id=redemption_id, occurred_at=occurred_at)

    _, out = await idempotency.run_idempotent(session, scope=device.scope, key=idempotency_key,
                                              fingerprint=fingerprint, work=work)
    return dict(out)


async def _void(session: AsyncSession, *, device: Principal, redemption_id: str,
                occurred_at: datetime | None) -> dict[str, Any]:
    merchant_id = device.tenant
    found = await _redemption(session, merchant_id, redemption_id)
    if found is None:
        raise NotFound("redemption", redemption_id)
    if found.status == "voided":
        return _void_view(found)
    now = utcnow()
    at = as_utc(occurred_at) if occurred_at else now
    refusal = till.clock_refusal(at, now)
    if refusal:
        raise field_error("occurred_at", refusal)
    refusal = till.void_refusal(redeemed_at=found.occurred_at, voided_at=at)
    if refusal:
        raise Conflict(refusal, extra={"field": "redemption_id"})
    moved = await session.execute(update(PromotionRedemption)
                                  .where(R.id == found.id, R.status == "applied")
                                  .values(status="voided", voided_at=at)
                                  .execution_options(synchronize_session=False))
    if moved.rowcount == 1:  # type: ignore[attr-defined]  # this request voided it: give the use back once
        await session.execute(update(Promotion)
                              .where(Promotion.id == found.promotion_id, Promotion.used_count > 0)
                              .values(used_count=Promotion.used_count - 1)
                              .execution_options(synchronize_session=False))
        await events.emit(session, kind="promotion.redemption_voided", merchant_id=merchant_id, payload={
            "promotion_id": found.promotion_id, "code": found.code, "channel": till.STORE_CHANNEL,
            "redemption_id": redemption_id, "location_id": device.location_id, "device_id": device.subject_id,
            "discount": found.discount, "voided_at": rfc3339(at)})
    voided = await _redemption(session, merchant_id, redemption_id)
    assert voided is not None
    return _void_view(voided)


async def promotions_with_store_uses(session: AsyncSession, *,
                                     merchant_id: str) -> list[tuple[Promotion, int]]:
    """The merchant's promotions, each with its uses at store tills that were not voided (one aggregate).

    `used_count` counts both channels, so the rest of it is online checkouts.
    """
    promos = await retail_service.list_promotions(session=session, merchant_id=merchant_id)
    rows = await session.execute(
        select(R.promotion_id, func.count()).where(R.merchant_id == merchant_id, R.status == "applied")
        .group_by(R.promotion_id))
    store = {promotion_id: int(n) for promotion_id, n in rows.all()}
    return [(p, store.get(p.id, 0)) for p in promos]


async def _redemption(session: AsyncSession, merchant_id: str, redemption_id: str) -> RedemptionRow | None:
    return (await session.execute(select(*_COLUMNS).where(R.merchant_id == merchant_id,
                                                          R.redemption_id == redemption_id))).first()


def _redemption_view(row: RedemptionRow | dict[str, Any], status: str) -> dict[str, Any]:
    r = row if isinstance(row, dict) else row._mapping
    return {"redemption_id": r["redemption_id"], "code": r["code"], "status": status, "amount": r["amount"],
            "discount": r["discount"], "total_after": r["amount"] - r["discount"],
            "occurred_at": rfc3339(r["occurred_at"])}


def _void_view(row: RedemptionRow) -> dict[str, Any]:
    return {"redemption_id": row.redemption_id, "code": row.code, "status": "voided",
            "voided_at": rfc3339(row.voided_at)}


