"""Reports: the policy's headline figure, online against store sales."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import MerchantOrAdminDep, SessionDep
from app.reports import service
from app.reports.schemas import ChannelShare

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/channel-share", response_model=ChannelShare, response_model_by_alias=True)
async def channel_share(principal: MerchantOrAdminDep, session: SessionDep,
                        from_: Annotated[date, Query(alias="from", description="First day (Asia/Shanghai)")],
                        to: Annotated[date, Query(description="Last day, included")]) -> ChannelShare:
    """Online (retail, wholesale, community orders) against store (POS) sales; the admin sees the platform."""
    merchant_id = None if principal.kind == "admin" else principal.tenant
    data = await service.channel_share(session, merchant_id=merchant_id, start=from_, end=to)
    return ChannelShare.model_validate(data)
