from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.deps import AdminDep, MerchantDep, SessionDep, SettingsDep
from app.core.errors import NotFound
from app.core.pagination import CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor
from app.inventory.sync import sync_status
from app.merchants import service
from app.merchants.models import Location
from app.merchants.schemas import (
    DeviceCreate,
    DeviceCreated,
    DeviceOut,
    ListingIn,
    LocationCreate,
    LocationOut,
    MerchantAdminOut,
    MerchantCreate,
    MerchantCreated,
    RejectIn,
    ReturnPolicyIn,
    ReturnPolicyOut,
    SelfOperatedIn,
    SellerRecordIn,
    StatusChange,
    TillSync,
)

router = APIRouter(prefix="/v1", tags=["merchants"])


async def get_owned_location(location_id: str, merchant: MerchantDep, session: SessionDep) -> Location:
    location = await service.get_location(session=session, merchant_id=merchant.tenant, location_id=location_id)
    if location is None:
        raise NotFound("location", location_id)
    return location


OwnedLocation = Annotated[Location, Depends(get_owned_location)]


@router.post("/merchants", status_code=201, response_model=MerchantCreated)
async def sign_up(body: MerchantCreate, session: SessionDep) -> MerchantCreated:
    """Self sign-up: the merchant starts `pending` until the platform verifies it."""
    merchant, api_key = await service.sign_up(session=session, merchant_in=body)
    return MerchantCreated(id=merchant.id, status=merchant.status, api_key=api_key)


# The public profile `GET /v1/merchants/{id}` (with rating and credit score) is served by app/trust/api.py.


@router.get("/admin/merchants", response_model=Page[MerchantAdminOut])
async def admin_list_merchants(
    _: AdminDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None,
    status: Annotated[str | None, Query(pattern="^(pending|active|rejected|suspended|closed)$")] = None,
) -> Page[MerchantAdminOut]:
    """The review queue (`?status=pending`) and every merchant for the platform operator, with the verification
    record (licence type, registered address, legal representative, phone, expiry) and what is missing."""
    rows = await service.list_by_status(session=session, status=status, after=decode_cursor(cursor), limit=limit)
    items = [MerchantAdminOut.model_validate(service.admin_view(m)) for m in rows]
    return Page(items=items, next_cursor=encode_cursor(rows[-1].id) if len(rows) == limit else None)


@router.post("/admin/merchants/{merchant_id}/verify", response_model=MerchantAdminOut)
async def verify_merchant(merchant_id: str, admin: AdminDep, session: SessionDep,
                          body: StatusChange | None = None) -> MerchantAdminOut:
    """The seller's record was checked: it may list and sell. Who verified it, and when, is kept."""
    merchant = await service.set_status(session=session, merchant_id=merchant_id, status="active",
                                        reason=body.reason if body else None, actor=admin.scope)
    return MerchantAdminOut.model_validate(service.admin_view(merchant))


@router.put("/seller-record", response_model=MerchantAdminOut)
async def correct_seller_record(body: SellerRecordIn, merchant: MerchantDep, session: SessionDep
                                ) -> MerchantAdminOut:
    """Complete or correct your verification record while you wait for verification (or after a rejection,
    which puts you back in the queue). Send only the fields that change."""
    out = await service.correct_record(session=session, merchant_id=merchant.tenant, actor=merchant.scope,
                                       values=body.model_dump(exclude_unset=True))
    return MerchantAdminOut.model_validate(service.admin_view(out))


@router.post("/admin/merchants/{merchant_id}/reject", response_model=MerchantAdminOut)
async def reject_merchant(merchant_id: str, body: RejectIn, admin: AdminDep, session: SessionDep
                          ) -> MerchantAdminOut:
    """The seller's record could not be verified: `rejected`, with the reason it is shown. It keeps drafts only."""
    merchant = await service.reject(session=session, merchant_id=merchant_id, reason=body.reason, actor=admin.scope)
    return MerchantAdminOut.model_validate(service.admin_view(merchant))


@router.put("/admin/merchants/{merchant_id}/self-operated", response_model=MerchantAdminOut)
async def set_self_operated(merchant_id: str, body: SelfOperatedIn, _: AdminDep, session: SessionDep
                            ) -> MerchantAdminOut:
    """Mark the platform's own shop: its listings carry the 自营 label everywhere they appear (ECL art. 37)."""
    merchant = await service.set_self_operated(session=session, merchant_id=merchant_id,
                                               self_operated=body.self_operated)
    return MerchantAdminOut.model_validate(service.admin_view(merchant))


@router.put("/admin/merchants/{merchant_id}/listing", response_model=MerchantAdminOut)
async def set_listing(merchant_id: str, body: ListingIn, _: AdminDep, session: SessionDep) -> MerchantAdminOut:
    """Keep a merchant's goods out of public lists (listing, search, categories, sitemap) or put them back; they
    stay for sale by link. The guided tour's merchants are kept out."""
    merchant = await service.set_listed(session=session, merchant_id=merchant_id, listed=body.listed)
    return MerchantAdminOut.model_validate(service.admin_view(merchant))


# `POST /v1/admin/merchants/{id}/suspend` is served by app/trust/api.py: a suspension is also published on the
# public enforcement list (C10).


@router.post("/locations", status_code=201, response_model=LocationOut)
async def create_location(body: LocationCreate, merchant: MerchantDep, session: SessionDep) -> LocationOut:
    location = await service.create_location(session=session, merchant_id=merchant.tenant, location_in=body)
    return LocationOut.model_validate(location)


async def _locations_out(session: AsyncSession, rows: Sequence[Location]) -> list[LocationOut]:
    sync = await sync_status(session, [r.id for r in rows])
    return [LocationOut.model_validate(r).model_copy(
        update={"sync": TillSync.model_validate(sync[r.id].view()) if r.id in sync else None}) for r in rows]


@router.get("/locations", response_model=Page[LocationOut])
async def list_locations(merchant: MerchantDep, session: SessionDep) -> Page[LocationOut]:
    """The merchant's locations; stores with tills show their sync health (`sync`)."""
    rows = await service.list_locations(session=session, merchant_id=merchant.tenant)
    return Page(items=await _locations_out(session, rows))


@router.get("/locations/{location_id}", response_model=LocationOut)
async def get_location(location: OwnedLocation, session: SessionDep) -> LocationOut:
    return (await _locations_out(session, [location]))[0]


@router.post("/locations/{location_id}/devices", status_code=201, response_model=DeviceCreated)
async def create_device(body: DeviceCreate, location: OwnedLocation, session: SessionDep,
                        settings: SettingsDep) -> DeviceCreated:
    """Register a POS device; the token is bound to this location and shown once."""
    device, token = await service.create_device(session=session, location=location, name=body.name,
                                                sync_lag_minutes=settings.shop_pos_sync_lag_minutes)
    return DeviceCreated(id=device.id, location_id=device.location_id, name=device.name,
                         created_at=device.created_at, token=token)


@router.get("/locations/{location_id}/devices", response_model=Page[DeviceOut])
async def list_devices(location: OwnedLocation, session: SessionDep) -> Page[DeviceOut]:
    rows = await service.list_devices(session=session, location=location)
    return Page(items=[DeviceOut.model_validate(d) for d in rows])


@router.post("/devices/{device_id}/revoke", response_model=DeviceOut)
async def revoke_device(device_id: str, merchant: MerchantDep, session: SessionDep) -> DeviceOut:
    device = await service.revoke_device(session=session, merchant_id=merchant.tenant, device_id=device_id)
    return DeviceOut.model_validate(device)


@router.get("/return-policy", response_model=ReturnPolicyOut)
async def get_return_policy(merchant: MerchantDep, session: SessionDep) -> ReturnPolicyOut:
    """Your return promises: when refunds are paid and who pays return shipping."""
    return ReturnPolicyOut.model_validate(await service.get_return_policy(session=session,
                                                                           merchant_id=merchant.tenant))


@router.put("/return-policy", response_model=ReturnPolicyOut)
async def set_return_policy(body: ReturnPolicyIn, merchant: MerchantDep, session: SessionDep) -> ReturnPolicyOut:
    """Set your return promises: refund on request (default) or on receipt, free return shipping, return address."""
    out = await service.set_return_policy(session=session, merchant_id=merchant.tenant, policy_in=body)
    return ReturnPolicyOut.model_validate(out)
