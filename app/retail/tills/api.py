"""Store tills redeeming online/offline promotions (device token); the usage limit is shared with checkout."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from app.core.deps import DeviceDep, IdempotencyKey, SessionDep
from app.inventory.pos.schemas import EVENT_ID_PATTERN
from app.retail.tills import service
from app.retail.tills.schemas import TillRedeemIn, TillRedemptionOut, TillVoidIn, TillVoidOut

router = APIRouter(prefix="/v1", tags=["pos"])


@router.post("/pos/promotions/redeem", response_model=TillRedemptionOut)
async def redeem_promotion(body: TillRedeemIn, device: DeviceDep, session: SessionDep,
                           idempotency_key: IdempotencyKey = None) -> TillRedemptionOut:
    """Take a coupon at the till: the promotion must include `store` and be running at `occurred_at`.

    Uses count against the same `usage_limit` as online checkouts (409 naming `code` once used up). A repeated
    `redemption_id` returns the first result with status `duplicate` and counts once.
    """
    out = await service.redeem(session, device=device, idempotency_key=idempotency_key, body=body)
    return TillRedemptionOut.model_validate(out)


@router.post("/pos/promotions/{redemption_id}/void", response_model=TillVoidOut)
async def void_redemption(redemption_id: Annotated[str, Path(pattern=EVENT_ID_PATTERN)], device: DeviceDep,
                          session: SessionDep, body: Annotated[TillVoidIn | None, Body()] = None,
                          idempotency_key: IdempotencyKey = None) -> TillVoidOut:
    """Void a till redemption on the (Shanghai) day it was made: its use is given back once; a repeat changes
    nothing."""
    out = await service.void(session, device=device, redemption_id=redemption_id,
                             occurred_at=body.occurred_at if body else None, idempotency_key=idempotency_key)
    return TillVoidOut.model_validate(out)
