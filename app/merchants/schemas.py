from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.schemas import Address, Email, OutSchema, Schema, UtcDatetime

MerchantKind = Literal["enterprise", "individual"]
LocationKind = Literal["warehouse", "store", "pickup_point"]


class MerchantCreate(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: MerchantKind
    licence_no: str = Field(min_length=1, max_length=64, description="Business licence (USCC) or ID number")
    icp_no: str | None = Field(default=None, max_length=64)
    contact_email: Email


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
