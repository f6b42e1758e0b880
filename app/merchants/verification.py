"""Seller identity rules (C1, C2, C5) that need no database: licence checks and re-verification dates."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Literal

from app.core.icp import icp_is_valid
from app.core.uscc import resident_id_is_valid, uscc_is_valid

MAX_REVERIFY_MONTHS = 6  # NTM art. 24: at least every six months
RegistrationType = Literal["registered", "unregistered"]
# What the licence number is: a business licence (企业营业执照), an individual business's licence (个体工商户营业执照)
# or, for an unregistered individual, the resident ID card (居民身份证).
LICENCE_TYPES = ("business_licence", "individual_business_licence", "resident_id_card")
# The record a platform verifies and keeps (ECL art. 27, NTM art. 24): individuals need no legal representative.
RECORD_FIELDS = {"enterprise": ("licence_type", "registered_address", "legal_representative", "contact_phone"),
                 "individual": ("licence_type", "registered_address", "contact_phone")}
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")  # a mainland mobile, or a landline with its area code


# A resident ID number is sensitive personal information (PIPL art. 28): an individual signing up with one agrees,
# separately from everything else, to the platform keeping it for the seller record; this is that notice's version.
ID_NUMBER_NOTICE_VERSION = "2026-12-v1"
ID_NUMBER_NOTICE = ("平台按《电子商务法》第二十七条核验并保存你的身份证号码，仅用于经营者身份核验和向市场监管部门报送，"
                    "不作他用（单独同意）")


def holds_id_number(kind: str, licence_no: str) -> bool:
    """Whether the seller record's licence number is a person's resident ID number."""
    return kind == "individual" and not uscc_is_valid(licence_no) and resident_id_is_valid(licence_no)


def id_number_consent_error(*, kind: str, licence_no: str, consent: bool) -> dict[str, Any] | None:
    """The field error when an ID number would be kept without its own consent (C19), else None."""
    if consent or not holds_id_number(kind, licence_no):
        return None
    return {"field": "id_number_consent", "message": "a resident ID number is kept only with your separate "
                                                      f"consent: {ID_NUMBER_NOTICE} (send id_number_consent: true)"}


def default_licence_type(kind: str, licence_no: str) -> str:
    """The licence type a sign-up implies when it does not say."""
    if kind == "enterprise":
        return "business_licence"
    return "individual_business_licence" if uscc_is_valid(licence_no) else "resident_id_card"


def record_missing(*, kind: str, values: dict[str, Any]) -> list[str]:
    """The fields of the verification record still empty (the admin sees them before verifying)."""
    return [f for f in RECORD_FIELDS.get(kind, ()) if not values.get(f)]


def registration_type(kind: str, licence_no: str) -> RegistrationType:
    """Enterprises and licensed individual businesses (个体户) hold a USCC; other individuals are unregistered."""
    return "registered" if kind == "enterprise" or uscc_is_valid(licence_no) else "unregistered"


def sign_up_errors(*, kind: str, licence_no: str, icp_no: str | None, licence_type: str | None = None,
                   contact_phone: str | None = None) -> list[dict[str, Any]]:
    """Field errors of a seller's identity data: a USCC with a valid check digit for enterprises, a USCC or a
    resident ID with a valid check digit (GB 11643) for individuals, a licence type that fits the number, a
    mainland phone number, and a well-formed ICP number when one is given."""
    errors: list[dict[str, Any]] = []
    if kind == "enterprise" and not uscc_is_valid(licence_no):
        errors.append({"field": "licence_no",
                       "message": "not a valid unified social credit code (GB 32100-2015 check digit)"})
    if kind == "individual" and not (uscc_is_valid(licence_no) or resident_id_is_valid(licence_no)):
        errors.append({"field": "licence_no",
                       "message": "give the business's unified social credit code or your 18-digit ID number "
                                  "(its check digit, GB 11643, does not match)"})
    if licence_type is not None and licence_type != default_licence_type(kind, licence_no) and not errors:
        expected = default_licence_type(kind, licence_no)
        errors.append({"field": "licence_type", "message": f"a {kind} with this licence number holds a {expected}"})
    if contact_phone is not None and not _PHONE.match(contact_phone):
        errors.append({"field": "contact_phone",
                       "message": "not a mainland phone number (a mobile such as 13812345678, or 021-12345678)"})
    if icp_no is not None and not icp_is_valid(icp_no):
        errors.append({"field": "icp_no", "message": "not an ICP filing number such as 沪ICP备12345678号-1"})
    return errors


def add_months(when: datetime, months: int) -> datetime:
    """The same day `months` later (the last day of the month when it has fewer days)."""
    month0 = when.month - 1 + months
    year, month = when.year + month0 // 12, month0 % 12 + 1
    for day in range(when.day, 27, -1):
        try:
            return when.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return when.replace(year=year, month=month, day=min(when.day, 28))


def reverification_due(verified_at: datetime, months: int) -> datetime:
    """When a seller must be verified again; the interval is capped at six months whatever is configured."""
    return add_months(verified_at, min(months, MAX_REVERIFY_MONTHS))


def listings_blocked(*, verified_at: datetime | None, now: datetime, months: int, grace_days: int) -> bool:
    """New listings are refused once re-verification is overdue by more than the grace period."""
    if verified_at is None:
        return False
    return now >= reverification_due(verified_at, months) + timedelta(days=grace_days)


def active_listing_refusal(status: str) -> str | None:
    """Why a seller in `status` may not put listings on sale (drafts are always allowed), or None (C1)."""
    if status == "active":
        return None
    if status == "rejected":
        return "your seller verification was rejected: correct your record; until then save listings as drafts"
    if status == "pending":
        return "your shop is not verified yet: save listings as drafts until the platform has verified it"
    return f"your shop is {status}: listings cannot go on sale"
