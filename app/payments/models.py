"""What the payments package keeps: each merchant's accounts at the payment companies, amounts a provider
reported that differ from ours, and reconciliation runs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.db import Base, JSONType


class PaymentAccount(Base):
    """A merchant's own account at a provider, under the platform acting as service provider (C27: the buyer's
    money lands there, never in the platform's account). WeChat Pay: the `sub_mchid`. Alipay: the merchant's
    Alipay account (2088...) and the `app_auth_token` its authorisation of the platform's app gave."""

    __tablename__ = "payment_account"
    __table_args__ = (UniqueConstraint("merchant_id", "provider"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    provider: Mapped[str] = mapped_column(String(20))
    sub_merchant_id: Mapped[str] = mapped_column(String(64))
    auth_token: Mapped[str | None] = mapped_column(String(512))  # Alipay's app_auth_token, encrypted; never shown
    refresh_token: Mapped[str | None] = mapped_column(String(512))  # Alipay's app_refresh_token, encrypted
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PaymentDiscrepancy(Base):
    """A provider's word that differs from our records (an amount other than the one asked): kept for the
    operator; it never marks anything paid. Each provider event once."""

    __tablename__ = "payment_discrepancy"
    __table_args__ = (UniqueConstraint("provider", "event_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    event_id: Mapped[str] = mapped_column(String(120))
    payment_id: Mapped[str | None] = mapped_column(String(40))
    provider_ref: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))  # amount
    expected: Mapped[int | None] = mapped_column(BigInteger)
    received: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ReconciliationRun(Base):
    """One comparison of a provider's daily statement with our payments (`shop reconcile`)."""

    __tablename__ = "reconciliation_run"
    __table_args__ = (Index("ix_reconciliation_run_provider_created_at", "provider", "created_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    day: Mapped[date] = mapped_column(Date)  # the statement's day (Asia/Shanghai)
    statement_lines: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int] = mapped_column(Integer)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JSONType)  # [{kind, out_trade_no, ours, theirs}]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
