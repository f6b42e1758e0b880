"""Seller identity rules (C1, C2, C5) that need no database: licence checks and re-verification dates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from app.core.icp import icp_is_valid
from app.core.uscc import resident_id_format_ok, uscc_is_valid

MAX_REVERIFY_MONTHS = 6  # NTM art. 24: at least every six months
RegistrationType = Literal["registered", "unregistered"]


def registration_type(kind: str, licence_no: str) -> RegistrationType:
    """Enterprises and licensed individual businesses (个体户) hold a USCC; other individuals are unregistered."""
    return "registered" if kind == "enterprise" or uscc_is_valid(licence_no) else "unregistered"


def sign_up_errors(*, kind: str, licence_no: str, icp_no: str | None) -> list[dict[str, Any]]:
    """Field errors of a seller's identity data: a USCC with a valid check digit for enterprises, a USCC or an
    18-digit resident ID for individuals, and a well-formed ICP number when one is given."""
    errors: list[dict[str, Any]] = []
    if kind == "enterprise" and not uscc_is_valid(licence_no):
        errors.append({"field": "licence_no",
                       "message": "not a valid unified social credit code (GB 32100-2015 check digit)"})
    if kind == "individual" and not (uscc_is_valid(licence_no) or resident_id_format_ok(licence_no)):
        errors.append({"field": "licence_no",
                       "message": "give the business's unified social credit code or your 18-digit ID number"})
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
