"""Invoice requests, invoices (blue and red, with their PDF) and each merchant's invoice number sequence."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.core.clock import utcnow
from app.db import Base


class InvoiceRequest(Base):
    """What the buyer asked to be invoiced as: one per order, changeable until the invoice is issued."""

    __tablename__ = "invoice_request"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), unique=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(10))  # personal | company
    title: Mapped[str] = mapped_column(String(100))  # the buyer's name or the company's
    taxpayer_id: Mapped[str | None] = mapped_column(String(18))  # unified social credit code (company)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Invoice(Base):
    """An issued invoice: blue (the sale) or red (negative amounts, reversing part of a blue one after a refund).

    Rows are only added: a correction is a red invoice, never an edit."""

    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("merchant_id", "number"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(20))
    color: Mapped[str] = mapped_column(String(4))  # blue | red
    original_id: Mapped[str | None] = mapped_column(String(40))  # red: the blue invoice it reverses
    return_id: Mapped[str | None] = mapped_column(String(40))  # red: the refund's return, if any
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(100))
    taxpayer_id: Mapped[str | None] = mapped_column(String(18))
    lines: Mapped[dict[str, Any]]  # {"items": [{sku, title, quantity, amount, tax_rate, tax}]}
    total: Mapped[int] = mapped_column(BigInteger)  # tax included; negative on a red invoice
    tax_total: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    issuer: Mapped[str] = mapped_column(String(20))  # the issuing platform (app/orders/invoices/issuers)
    issuer_ref: Mapped[str | None] = mapped_column(String(80))
    pdf: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InvoiceCounter(Base):
    """The last invoice number a merchant used: numbers run without gaps per merchant."""

    __tablename__ = "invoice_counter"

    merchant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
