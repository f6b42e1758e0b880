"""Merchant use cases: sign-up, verification, suspension, locations, devices."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import case, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import auth, cache, events
from app.core.clock import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.merchants import verification
from app.merchants.models import Device, Location, Merchant, ReturnPolicy
from app.merchants.schemas import LocationCreate, MerchantCreate, ReturnPolicyIn


async def sign_up(*, session: AsyncSession, merchant_in: MerchantCreate) -> tuple[Merchant, str]:
    """Create a pending merchant and its first API key (returned in clear text once)."""
    errors = verification.sign_up_errors(kind=merchant_in.kind, licence_no=merchant_in.licence_no,
                                         icp_no=merchant_in.icp_no, licence_type=merchant_in.licence_type,
                                         contact_phone=merchant_in.contact_phone)
    consent_error = verification.id_number_consent_error(kind=merchant_in.kind, licence_no=merchant_in.licence_no,
                                                         consent=merchant_in.id_number_consent)
    if consent_error and not errors:
        errors.append(consent_error)
    if errors:
        raise InvalidInput("; ".join(e["message"] for e in errors), errors=errors)
    values = merchant_in.model_dump(exclude={"id_number_consent"})
    values["licence_type"] = values["licence_type"] or verification.default_licence_type(merchant_in.kind,
                                                                                         merchant_in.licence_no)
    if verification.holds_id_number(merchant_in.kind, merchant_in.licence_no):  # the consent, kept with it (C19)
        values |= {"id_number_consent_at": utcnow(), "id_number_consent_version": verification.ID_NUMBER_NOTICE_VERSION}
    merchant = Merchant(id=new_id("mer"), status="pending", **values)
    session.add(merchant)
    await session.flush()
    api_key = await auth.create_token(session, kind="merchant", merchant_id=merchant.id,
                                      subject_id=merchant.id, label="sign-up key")
    await events.emit(session, kind="merchant.created", merchant_id=merchant.id, payload={"id": merchant.id})
    await session.commit()
    return merchant, api_key


async def get(*, session: AsyncSession, merchant_id: str) -> Merchant | None:
    """Return the merchant, or None."""
    return await session.get(Merchant, merchant_id)


async def list_by_status(*, session: AsyncSession, status: str | None, after: str | None,
                         limit: int) -> Sequence[Merchant]:
    """Merchants in id order (the admin review queue when status is `pending`)."""
    stmt = select(Merchant).order_by(Merchant.id).limit(limit)
    if status:
        stmt = stmt.where(Merchant.status == status)
    if after:
        stmt = stmt.where(Merchant.id > after)
    return (await session.scalars(stmt)).all()


def admin_view(merchant: Merchant) -> dict[str, Any]:
    """A merchant as the platform sees it (`MerchantAdminOut`), with the record fields still missing."""
    values = {c.key: getattr(merchant, c.key) for c in Merchant.__table__.columns}
    return {**values, "record_missing": verification.record_missing(kind=merchant.kind, values=values)}


async def set_status(*, session: AsyncSession, merchant_id: str, status: str, reason: str | None,
                     actor: str | None = None) -> Merchant:
    """Verify (active), reject or suspend a merchant. Listings and checkout follow the status at once."""
    merchant = await change_status(session=session, merchant_id=merchant_id, status=status, reason=reason,
                                   actor=actor)
    await session.commit()
    return merchant


async def reject(*, session: AsyncSession, merchant_id: str, reason: str, actor: str) -> Merchant:
    """The platform could not verify a pending seller's record: it stays unable to sell, told why (C1)."""
    merchant = await session.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    if merchant.status not in ("pending", "rejected"):
        raise Conflict(f"only a seller waiting for verification can be rejected; this one is {merchant.status}")
    merchant = await change_status(session=session, merchant_id=merchant_id, status="rejected", reason=reason,
                                   actor=actor)
    await session.commit()
    return merchant


async def correct_record(*, session: AsyncSession, merchant_id: str, actor: str,
                         values: dict[str, Any]) -> Merchant:
    """A seller not yet verified (pending, or rejected and told why) completes or corrects its record; a
    rejected seller goes back to the review queue. A verified seller reports changes as licence changes."""
    merchant = await session.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    if merchant.status not in ("pending", "rejected"):
        raise Conflict("your record is verified: report changes with POST /v1/licence-changes")
    nulls = [{"field": f, "message": "cannot be null"} for f, v in values.items() if v is None]
    if nulls or not values:
        raise InvalidInput("send the record fields to set", errors=nulls or [{"field": "body",
                                                                               "message": "no field sent"}])
    errors = verification.sign_up_errors(kind=merchant.kind, licence_no=merchant.licence_no, icp_no=None,
                                         licence_type=values.get("licence_type"),
                                         contact_phone=values.get("contact_phone"))
    if errors:
        raise InvalidInput("; ".join(e["message"] for e in errors), errors=errors)
    for field, value in values.items():
        setattr(merchant, field, value)
    previous = merchant.status
    merchant.status, merchant.updated_at = "pending", utcnow()
    await events.emit(session, kind="merchant.record_submitted", merchant_id=merchant_id,
                      payload={"id": merchant_id, "from": previous, "fields": sorted(values), "by": actor})
    await session.commit()
    return merchant


async def change_status(*, session: AsyncSession, merchant_id: str, status: str, reason: str | None,
                        actor: str | None = None) -> Merchant:
    """`set_status` inside the caller's transaction (never commits)."""
    merchant = await session.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    if merchant.status == "closed":
        raise Conflict("this shop has closed")
    previous = merchant.status
    merchant.status = status
    merchant.status_reason = reason
    if status in ("active", "rejected"):
        merchant.verified_by = actor
    if status == "active":
        merchant.verified_at = utcnow()
    cache.mark_changed(session)  # their listings appear or vanish with them
    await events.emit(session, kind=f"merchant.{'verified' if status == 'active' else status}",
                      merchant_id=merchant_id, payload={"id": merchant_id, "from": previous, "to": status,
                                                        "reason": reason})
    return merchant


async def set_listed(*, session: AsyncSession, merchant_id: str, listed: bool) -> Merchant:
    """Show the merchant's goods in public lists (listing, search, categories, sitemap) or keep them out; they
    stay for sale by link either way."""
    merchant = await session.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    merchant.listed = listed
    cache.mark_changed(session)
    await session.commit()
    return merchant


async def set_self_operated(*, session: AsyncSession, merchant_id: str, self_operated: bool) -> Merchant:
    """Mark (or unmark) the platform's own shop; its listings are labelled 自营 from now on."""
    merchant = await session.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    merchant.self_operated = self_operated
    cache.mark_changed(session)
    await events.emit(session, kind="merchant.self_operated_changed", merchant_id=merchant_id,
                      payload={"id": merchant_id, "self_operated": self_operated})
    await session.commit()
    return merchant


IDENTITY_FIELDS = ("name", "kind", "licence_no", "icp_no")


def identity_of(merchant: Merchant) -> dict[str, str | None]:
    """The licence and registration data a shop page shows (C4)."""
    return {field: getattr(merchant, field) for field in IDENTITY_FIELDS}


async def update_identity(*, session: AsyncSession, merchant_id: str, values: dict[str, str | None]) -> Merchant:
    """Replace a merchant's licence and registration data with verified values; never commits."""
    merchant = await session.get(Merchant, merchant_id, with_for_update=True)
    if merchant is None:
        raise NotFound("merchant", merchant_id)
    for field, value in values.items():
        if field not in IDENTITY_FIELDS:
            raise ValueError(f"{field} is not identity data")
        setattr(merchant, field, value)
    merchant.updated_at = utcnow()
    await events.emit(session, kind="merchant.identity_changed", merchant_id=merchant_id,
                      payload={"id": merchant_id, "fields": sorted(values)})
    return merchant


async def create_location(*, session: AsyncSession, merchant_id: str, location_in: LocationCreate) -> Location:
    """Add a warehouse, store or pickup point; codes are unique per merchant."""
    location = await add_location(session=session, merchant_id=merchant_id, location_in=location_in)
    await session.commit()
    return location


async def add_location(*, session: AsyncSession, merchant_id: str, location_in: LocationCreate) -> Location:
    """`create_location` inside the caller's transaction (never commits; rolls back on a taken code)."""
    location = Location(id=new_id("loc"), merchant_id=merchant_id, code=location_in.code, name=location_in.name,
                        kind=location_in.kind, address=location_in.address.model_dump(exclude_none=True))
    session.add(location)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise field_error("code", f"location code {location_in.code!r} already exists") from None
    await events.emit(session, kind="location.created", merchant_id=merchant_id, payload={"id": location.id})
    return location


async def get_location(*, session: AsyncSession, merchant_id: str, location_id: str) -> Location | None:
    """Return the merchant's location, or None if missing or another merchant's."""
    location = await session.get(Location, location_id)
    return location if location is not None and location.merchant_id == merchant_id else None


async def list_locations(*, session: AsyncSession, merchant_id: str) -> Sequence[Location]:
    return (await session.scalars(
        select(Location).where(Location.merchant_id == merchant_id).order_by(Location.id))).all()


async def create_device(*, session: AsyncSession, location: Location, name: str,
                        sync_lag_minutes: int) -> tuple[Device, str]:
    """Register a POS device at `location`; its token is bound to that location.

    Its sync clock starts now: a till that never syncs counts as out of touch after the lag
    (see app/inventory/sync.py).
    """
    if location.kind not in ("store", "pickup_point"):
        raise Conflict(f"POS devices belong in stores or pickup points, not a {location.kind}")
    now = utcnow()
    device = Device(id=new_id("dev"), merchant_id=location.merchant_id, location_id=location.id, name=name,
                    created_at=now, sync_expires_at=now + timedelta(minutes=sync_lag_minutes))
    session.add(device)
    await session.flush()
    token = await auth.create_token(session, kind="device", merchant_id=location.merchant_id,
                                    location_id=location.id, subject_id=device.id, label=name)
    await session.commit()
    return device, token


async def list_devices(*, session: AsyncSession, location: Location) -> Sequence[Device]:
    return (await session.scalars(select(Device).where(Device.location_id == location.id,
                                                       Device.revoked_at.is_(None)).order_by(Device.id))).all()


async def revoke_device(*, session: AsyncSession, merchant_id: str, device_id: str) -> Device:
    """Revoke a device and its token (a lost or stolen till)."""
    device = await session.get(Device, device_id)
    if device is None or device.merchant_id != merchant_id:
        raise NotFound("device", device_id)
    device.revoked_at = utcnow()
    await auth.revoke_tokens(session, subject_id=device.id)
    await session.commit()
    return device


# ---- return policy ---------------------------------------------------------------------------------------

def _policy_view(merchant_id: str, policy: ReturnPolicy | None) -> dict[str, Any]:
    if policy is None:
        return {"merchant_id": merchant_id, "refund_on": "request", "free_return_shipping": False,
                "return_address": None, "updated_at": None}
    return {"merchant_id": merchant_id, "refund_on": policy.refund_on,
            "free_return_shipping": policy.free_return_shipping, "return_address": policy.return_address,
            "updated_at": policy.updated_at}


async def get_return_policy(*, session: AsyncSession, merchant_id: str) -> dict[str, Any]:
    """The merchant's return promises (the defaults when it never set any)."""
    return _policy_view(merchant_id, await session.get(ReturnPolicy, merchant_id))


async def set_return_policy(*, session: AsyncSession, merchant_id: str, policy_in: ReturnPolicyIn) -> dict[str, Any]:
    """Replace the merchant's return promises. Refunding on receipt needs a return address for the buyers."""
    if policy_in.refund_on == "receipt" and policy_in.return_address is None:
        raise field_error("return_address", "required when refund_on is receipt: buyers must know where to "
                                            "send the goods")
    values = {"refund_on": policy_in.refund_on, "free_return_shipping": policy_in.free_return_shipping,
              "return_address": policy_in.return_address.model_dump(exclude_none=True)
              if policy_in.return_address else None, "updated_at": utcnow()}
    policy = await session.get(ReturnPolicy, merchant_id, with_for_update=True)
    if policy is None:
        policy = ReturnPolicy(merchant_id=merchant_id, **values)
        session.add(policy)
    else:
        for key, value in values.items():
            setattr(policy, key, value)
    await events.emit(session, kind="merchant.return_policy_changed", merchant_id=merchant_id,
                      payload={"refund_on": policy_in.refund_on,
                               "free_return_shipping": policy_in.free_return_shipping})
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("the return policy was changed by a concurrent request; try again") from None
    return _policy_view(merchant_id, policy)


@dataclass(frozen=True, slots=True)
class ReturnTerms:
    """What a return request records about the seller at the time (C32, C34)."""

    refund_on: str
    free_return_shipping: bool
    address: dict[str, Any] | None  # the return address; the policy's, else the first warehouse's (or store's)
    email: str | None


async def return_terms(*, session: AsyncSession, merchant_id: str) -> ReturnTerms:
    """The seller's return terms and return address for a new return request (one or two reads)."""
    row = (await session.execute(
        select(Merchant.contact_email, ReturnPolicy.refund_on, ReturnPolicy.free_return_shipping,
               ReturnPolicy.return_address)
        .outerjoin(ReturnPolicy, ReturnPolicy.merchant_id == Merchant.id)
        .where(Merchant.id == merchant_id))).one_or_none()
    if row is None:
        raise NotFound("merchant", merchant_id)
    address = row.return_address
    if address is None:
        address = await session.scalar(
            select(Location.address).where(Location.merchant_id == merchant_id,
                                           Location.kind.in_(("warehouse", "store")))
            .order_by(case((Location.kind == "warehouse", 0), else_=1), Location.id).limit(1))
    return ReturnTerms(refund_on=row.refund_on or "request", free_return_shipping=bool(row.free_return_shipping),
                       address=address, email=row.contact_email)
