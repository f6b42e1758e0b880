"""POS sync for store tills, the changes feed, and the merchant's oversell conflicts."""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from app.core import bodies
from app.core.deps import DeviceDep, IdempotencyKey, MerchantDep, SessionDep, SettingsDep
from app.core.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor
from app.inventory.pos import service
from app.inventory.pos.schemas import ChangesOut, ConflictOut, ConflictResolve, PosUpload, PosUploadOut

router = APIRouter(prefix="/v1", tags=["pos"])


@router.post("/pos/events", response_model=PosUploadOut, response_model_exclude_none=True,
             openapi_extra=bodies.openapi_body(PosUpload))
async def upload_events(request: Request, device: DeviceDep, session: SessionDep, settings: SettingsDep,
                        idempotency_key: IdempotencyKey = None) -> Response:
    """Apply a batch of till events (up to 10,000), all or nothing; each gets applied, duplicate or rejected.

    A POS sale without a `unit_price` is valued at the variant's current price (for channel reports).
    """
    raw = await request.body()
    body = bodies.parse(PosUpload, raw)  # from the bytes: 10,000 events validated in one pass
    out = await service.upload(session, device=device, idempotency_key=idempotency_key, events_in=body.events,
                               sync_lag_minutes=settings.shop_pos_sync_lag_minutes, raw_body=raw)
    return Response(orjson.dumps(out), media_type="application/json")  # shaped by the service; 10,000 results


@router.get("/pos/changes", response_model=ChangesOut)
async def stock_changes(device: DeviceDep, session: SessionDep, settings: SettingsDep, cursor: CursorQuery = None,
                        limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> ChangesOut:
    """Stock levels at the till's location changed since `cursor` (online reservations included); gap-free."""
    return ChangesOut.model_validate(await service.changes(session, device=device, cursor=cursor, limit=limit,
                                                           sync_lag_minutes=settings.shop_pos_sync_lag_minutes))


@router.get("/inventory/conflicts", response_model=Page[ConflictOut])
async def list_conflicts(merchant: MerchantDep, session: SessionDep, cursor: CursorQuery = None,
                         limit: LimitQuery = 50,
                         status: Literal["open", "resolved"] | None = None) -> Page[ConflictOut]:
    """Oversell conflicts: store sales and online reservations exceeding on_hand at a location."""
    items, last = await service.list_conflicts(session, merchant_id=merchant.tenant, status=status,
                                               after=decode_cursor(cursor), limit=limit)
    return Page(items=[ConflictOut.model_validate(i) for i in items],
                next_cursor=encode_cursor(last) if last else None)


@router.post("/inventory/conflicts/{conflict_id}/resolve", response_model=ConflictOut)
async def resolve_conflict(conflict_id: str, body: ConflictResolve, merchant: MerchantDep,
                           session: SessionDep) -> ConflictOut:
    """Close a conflict, saying what was done (cancel or re-allocate the online order via the order API)."""
    return ConflictOut.model_validate(await service.resolve_conflict(
        session, merchant_id=merchant.tenant, conflict_id=conflict_id, resolution=body.resolution))
