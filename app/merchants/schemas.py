from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from app.core.schemas import Address, Email, OutSchema, Schema, UtcDatetime

MerchantKind = Literal["enterprise", "individual"]
LocationKind = Literal["warehouse", "store", "pickup_point"]
LicenceType = Literal["business_licence", "individual_business_licence", "resident_id_card"]


class MerchantCreate(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: MerchantKind
    licence_no: str = Field(min_length=1, max_length=64, description="Business licence (USCC) or ID number")
    icp_no: str | None = Field(default=None, max_length=64)
    contact_email: Email
    # The verification record (C1); optional at sign-up, shown to the platform before it verifies.
    licence_type: LicenceType | None = Field(default=None, description="Implied by kind and licence_no when left out")
    registered_address: str | None = Field(default=None, min_length=4, max_length=300,
                                           description="Registered (or, for individuals, real) business address")
    legal_representative: str | None = Field(default=None, min_length=1, max_length=100,
                                             description="法定代表人 (enterprises) or operator (个体户)")
    contact_phone: str | None = Field(default=None, max_length=30)
    licence_expires_on: date | None = Field(default=None, description="Licence expiry; none for 长期")
    id_number_consent: bool = Field(default=False, description="An individual signing up with a resident ID number "
                                    "consents, separately, to the platform keeping it; required then (PIPL 29)")


class MerchantCreated(OutSchema):
    id: str
    status: str
    api_key: str = Field(description="Shown once; store it safely")


class MerchantOut(OutSchema):
    id: str
    name: str
    kind: str
    status: str
    icp_no: str | None
    verified_at: UtcDatetime | None
    created_at: UtcDatetime
    rating: float | None = None
    credit_score: int | None = None


class MerchantAdminOut(MerchantOut):
    licence_no: str
    contact_email: str
    status_reason: str | None
    listed: bool = True
    licence_type: str | None = None
    registered_address: str | None = None
    legal_representative: str | None = None
    contact_phone: str | None = None
    licence_expires_on: date | None = None
    verified_by: str | None = Field(default=None, description="Who verified (or rejected) the seller")
    record_missing: list[str] = Field(default_factory=list, description="Verification record fields still empty")
    self_operated: bool = False
    closes_at: UtcDatetime | None = None
    id_number_consent_at: UtcDatetime | None = Field(default=None, description="When an individual consented to "
                                                     "the platform keeping its ID number")
    id_number_consent_version: str | None = None


class SellerRecordIn(Schema):
    """A pending or rejected seller completes or corrects its verification record; send the fields that change."""

    licence_type: LicenceType | None = None
    registered_address: str | None = Field(default=None, min_length=4, max_length=300)
    legal_representative: str | None = Field(default=None, min_length=1, max_length=100)
    contact_phone: str | None = Field(default=None, max_length=30)
    licence_expires_on: date | None = None


class RejectIn(Schema):
    reason: str = Field(min_length=1, max_length=500, description="Shown to the seller: what to correct")


class SelfOperatedIn(Schema):
    self_operated: bool = Field(description="true: the platform's own goods (自营), labelled on every listing")


class ClosureIn(Schema):
    closes_at: datetime = Field(description="When the shop closes: at least 30 days from now (ECL art. 16)")
    note: str | None = Field(default=None, max_length=500, description="Shown on the shop page")


class ListingIn(Schema):
    listed: bool = Field(description="false: the merchant's goods are sold by link but kept out of public lists")


class StatusChange(Schema):
    reason: str | None = Field(default=None, max_length=500)


class LocationCreate(Schema):
    code: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")
    name: str = Field(min_length=1, max_length=200)
    kind: LocationKind
    address: Address


class TillSync(OutSchema):
    tills: int = Field(description="Active POS devices at the location")
    last_synced_at: UtcDatetime | None = Field(description="The latest upload or changes poll of any of them")
    online_stock_held: bool = Field(description="Some till has not synced within SHOP_POS_SYNC_LAG_MINUTES: the "
                                    "location's stock is not offered online until it does")


class LocationOut(OutSchema):
    id: str
    merchant_id: str
    code: str
    name: str
    kind: str
    address: Address
    created_at: UtcDatetime
    sync: TillSync | None = Field(default=None, description="Till sync health, for locations with POS devices")


class DeviceCreate(Schema):
    name: str = Field(min_length=1, max_length=100)


class DeviceOut(OutSchema):
    id: str
    location_id: str
    name: str
    created_at: UtcDatetime
    last_synced_at: UtcDatetime | None = None


class DeviceCreated(DeviceOut):
    token: str = Field(description="Shown once; the device sends it as a bearer token")


RefundOn = Literal["request", "receipt"]


class ReturnPolicyIn(Schema):
    refund_on: RefundOn = Field(default="request", description=(
        "`request`: refund as soon as the buyer asks for a return; `receipt`: refund once the goods are back, "
        "automatically 7 days after receipt unless rejected with a coded reason and photos"))
    free_return_shipping: bool = Field(default=False, description="The seller pays return shipping for "
                                                                  "no-reason returns too")
    return_address: Address | None = Field(default=None, description="Where buyers send goods back; needed "
                                                                     "for `receipt`")


class ReturnPolicyOut(OutSchema):
    merchant_id: str
    refund_on: str
    free_return_shipping: bool
    return_address: Address | None = None
    updated_at: UtcDatetime | None = None
