"""Merchants' webhook endpoints and their delivery logs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from app.core.deps import MerchantDep, SessionDep, SettingsDep
from app.core.errors import NotFound, field_error
from app.core.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor
from app.webhooks import service
from app.webhooks.models import WebhookEndpoint
from app.webhooks.schemas import DeliveryOut, WebhookCreate, WebhookCreated, WebhookOut

router = APIRouter(prefix="/v1", tags=["webhooks"])


async def get_owned_endpoint(webhook_id: Annotated[str, Path(max_length=40)], merchant: MerchantDep,
                             session: SessionDep) -> WebhookEndpoint:
    endpoint = await service.get_endpoint(session, merchant_id=merchant.tenant, endpoint_id=webhook_id)
    if endpoint is None:
        raise NotFound("webhook", webhook_id)  # same 404 whether missing or another merchant's
    return endpoint


OwnedEndpoint = Annotated[WebhookEndpoint, Depends(get_owned_endpoint)]


@router.post("/webhooks", status_code=201, response_model=WebhookCreated)
async def create_webhook(body: WebhookCreate, merchant: MerchantDep, session: SessionDep,
                         settings: SettingsDep) -> WebhookCreated:
    """Register an endpoint for the given event kinds (`*`: all). The signing secret is shown only here.

    The URL must be on the public internet (422 otherwise) unless `SHOP_WEBHOOK_ALLOW_PRIVATE` is set.
    """
    endpoint = await service.create_endpoint(session, merchant_id=merchant.tenant, url=str(body.url),
                                             events=body.events,
                                             allow_private=settings.shop_webhook_allow_private)
    return WebhookCreated.model_validate(endpoint)


@router.get("/webhooks", response_model=Page[WebhookOut])
async def list_webhooks(merchant: MerchantDep, session: SessionDep, limit: LimitQuery = 50,
                        cursor: CursorQuery = None) -> Page[WebhookOut]:
    """The merchant's endpoints, newest first (secrets are not shown)."""
    rows, last = await service.list_endpoints(session, merchant_id=merchant.tenant, before=decode_cursor(cursor),
                                              limit=limit)
    return Page(items=[WebhookOut.model_validate(r) for r in rows],
                next_cursor=encode_cursor(last) if last else None)


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut)
async def get_webhook(endpoint: OwnedEndpoint) -> WebhookOut:
    """One of the merchant's endpoints (the secret is not shown)."""
    return WebhookOut.model_validate(endpoint)


@router.delete("/webhooks/{webhook_id}", response_model=WebhookOut)
async def disable_webhook(endpoint: OwnedEndpoint, session: SessionDep) -> WebhookOut:
    """Disable an endpoint: nothing more is sent to it, pending deliveries included. Repeating it is harmless."""
    return WebhookOut.model_validate(await service.disable_endpoint(session, endpoint=endpoint))


@router.get("/webhooks/{webhook_id}/deliveries", response_model=Page[DeliveryOut])
async def list_deliveries(endpoint: OwnedEndpoint, session: SessionDep, limit: LimitQuery = 50,
                          cursor: CursorQuery = None) -> Page[DeliveryOut]:
    """The endpoint's delivery log, newest event first: attempts, last response or error, next attempt."""
    position = decode_cursor(cursor)
    if position is not None and (not position.isdigit() or len(position) > 18):
        raise field_error("cursor", "not a valid cursor")
    items, last = await service.list_deliveries(session, endpoint_id=endpoint.id,
                                                before_seq=int(position) if position else None, limit=limit)
    return Page(items=[DeliveryOut.model_validate(i) for i in items],
                next_cursor=encode_cursor(str(last)) if last is not None else None)
