"""Merchants, their locations (warehouses, stores, pickup points) and POS devices."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.db import Base


class Merchant(Base):
    __tablename__ = "merchant"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # enterprise | individual
    licence_no: Mapped[str] = mapped_column(String(64))
    icp_no: Mapped[str | None] = mapped_column(String(64))
    contact_email: Mapped[str] = mapped_column(String(254))
    # pending | active | rejected | suspended | closed
    status: Mapped[str] = mapped_column(String(20), default="pending", index=True)
    status_reason: Mapped[str | None] = mapped_column(String(500))
    # False: its goods are sold by link but kept out of public lists (the guided tour's merchants).
    listed: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The verification record kept on file (C1: ECL art. 27, NTM art. 24); shown only to the platform.
    licence_type: Mapped[str | None] = mapped_column(String(40))  # app/merchants/verification.py: LICENCE_TYPES
    registered_address: Mapped[str | None] = mapped_column(String(300))
    legal_representative: Mapped[str | None] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    licence_expires_on: Mapped[date | None] = mapped_column(Date)  # None: no expiry (长期)
    verified_by: Mapped[str | None] = mapped_column(String(60))  # who verified, or who rejected
    # An individual's separate consent to the platform keeping its resident ID number (C19, PIPL art. 29).
    id_number_consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    id_number_consent_version: Mapped[str | None] = mapped_column(String(20))
    # The platform's own goods (自营), marked apart from third-party sellers' (ECL art. 37).
    self_operated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # A closure announced on the shop page at least 30 days ahead (ECL art. 16); a job closes it at closes_at.
    closure_announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closure_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class Location(Base):
    __tablename__ = "location"
    __table_args__ = (UniqueConstraint("merchant_id", "code"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))  # warehouse | store | pickup_point
    address: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Device(Base):
    """A POS terminal bound to one location; its token lives (hashed) in `access_token`."""

    __tablename__ = "device"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Sync health (app/inventory/sync.py): the last upload or poll, and when the till counts as out of touch.
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sync_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ReturnPolicy(Base):
    """A merchant's after-sales promises beyond the law's minimum (C32, C34); absent means the defaults."""

    __tablename__ = "merchant_return_policy"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), primary_key=True)
    # request: refund as soon as the buyer asks (the default promise); receipt: refund within 7 days of the
    # goods coming back (the legal minimum, R7 art. 13), automatically unless rejected with a coded reason.
    refund_on: Mapped[str] = mapped_column(String(10), default="request", server_default="request")
    free_return_shipping: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    return_address: Mapped[dict[str, Any] | None]  # where buyers send goods back (an Address)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StaffMember(Base):
    """A person who works in the merchant's console under one role (app/merchants/staff.py: ROLES).

    Invited by e-mail or phone: the invite's random token (hashed here) lets them set a password once.
    Removing a member stamps `removed_at`; their sessions are refused from that moment (the session read joins
    this row). The merchant's `sk_` API key stays for machines and signs in as the owner.
    """

    __tablename__ = "staff_member"
    __table_args__ = (UniqueConstraint("merchant_id", "login"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    login: Mapped[str] = mapped_column(String(254), index=True)  # e-mail (lower case) or phone digits
    role: Mapped[str] = mapped_column(String(20))  # owner | manager | clerk | warehouse | finance
    location_id: Mapped[str | None] = mapped_column(ForeignKey("location.id"))  # a clerk's store
    password_hash: Mapped[str | None] = mapped_column(String(200))
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    invite_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    invited_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StaffSession(Base):
    """A signed-in console session: only the SHA-256 of its random token is kept; it ends at `expires_at`."""

    __tablename__ = "staff_session"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_member.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
