from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.core.deps import MerchantDep, MerchantOrAdminDep, SessionDep
from app.core.pagination import Page
from app.retail.campaigns import service
from app.retail.campaigns.schemas import CampaignIn, CampaignJoin, CampaignOut, CampaignSummary

router = APIRouter(prefix="/v1/campaigns", tags=["campaigns"])


@router.post("", status_code=201, response_model=CampaignOut)
async def create_campaign(body: CampaignIn, principal: MerchantOrAdminDep, session: SessionDep) -> CampaignOut:
    """A merchant's festival campaign with its products and promotions; the admin creates platform-wide ones."""
    merchant_id = principal.tenant if principal.kind == "merchant" else None
    return CampaignOut.model_validate(await service.create_campaign(session=session, merchant_id=merchant_id,
                                                                    body=body))


@router.post("/{campaign_id}/items", response_model=CampaignOut)
async def join_campaign(campaign_id: str, body: CampaignJoin, merchant: MerchantDep,
                        session: SessionDep) -> CampaignOut:
    """Add the merchant's products and promotions to its own or a platform campaign."""
    return CampaignOut.model_validate(await service.join_campaign(session=session, merchant_id=merchant.tenant,
                                                                  campaign_ref=campaign_id, body=body))


@router.get("", response_model=Page[CampaignSummary])
async def list_campaigns(session: SessionDep, include_ended: bool = False,
                         limit: Annotated[int, Query(ge=1, le=500)] = 50) -> Page[CampaignSummary]:
    """Live and upcoming campaigns (public)."""
    items = await service.list_campaigns(session=session, merchant_id=None, include_ended=include_ended, limit=limit)
    return Page(items=[CampaignSummary.model_validate(c) for c in items])


@router.get("/{campaign_id}", response_model=CampaignOut)
async def get_campaign(campaign_id: str, session: SessionDep) -> CampaignOut:
    """A campaign by id or slug, with the products on sale in it (public)."""
    return CampaignOut.model_validate(await service.get_campaign(session=session, campaign_ref=campaign_id))
