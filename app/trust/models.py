"""Trust and compliance tables: reviews, complaints, enforcement actions, merchant reputation, the audit log.

None of these rows is ever deleted by the application: reviews are masked (original kept), complaints
closed, enforcement entries expire from the public list, and the audit log refuses updates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.db import Base, BigIntPK


class Review(Base):
    """A customer's rating of one delivered order (one per order); masked, never deleted."""

    __tablename__ = "review"
    __table_args__ = (Index("ix_review_merchant_id_id", "merchant_id", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("sales_order.id"), unique=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    customer_id: Mapped[str] = mapped_column(String(40), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    text: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    masked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    mask_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Complaint(Base):
    """A complaint or report about a listing or a merchant, with its status history and deadline."""

    __tablename__ = "complaint"
    __table_args__ = (Index("ix_complaint_status_id", "status", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    target_type: Mapped[str] = mapped_column(String(20))  # product | merchant
    target_id: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    category: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]]  # {"urls": [...]}
    complainant: Mapped[str] = mapped_column(String(60))  # principal scope, or "anonymous"
    contact_email: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(20))  # open | upheld | rejected
    resolution: Mapped[str | None] = mapped_column(Text)
    history: Mapped[dict[str, Any]]  # {"items": [{status, at, by, note}]}
    sla_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Enforcement(Base):
    """A measure the platform took, public on `GET /v1/enforcement` until it expires (C10)."""

    __tablename__ = "enforcement"
    __table_args__ = (Index("ix_enforcement_decided_at", "decided_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    shop_name: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))  # takedown | warning | suspension | termination
    target_type: Mapped[str] = mapped_column(String(20))  # product | merchant
    target_id: Mapped[str] = mapped_column(String(40))
    target_title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(500))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MerchantReputation(Base):
    """Running counts behind a merchant's rating and credit score; rebuilt from the rows above at will."""

    __tablename__ = "merchant_reputation"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), primary_key=True)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    upheld_complaints: Mapped[int] = mapped_column(Integer, default=0)
    takedowns: Mapped[int] = mapped_column(Integer, default=0)
    credit_score: Mapped[int] = mapped_column(Integer)
    formula_version: Mapped[str] = mapped_column(String(20))
    reverify_flagged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuditEntry(Base):
    """Who did what to which record, and when (before/after where known). Append-only: updates are refused
    by a trigger, and nothing deletes rows."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(120))
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(80))
    merchant_id: Mapped[str | None] = mapped_column(String(40), index=True)
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)


class SellerProfile(Base):
    """A seller's compliance data beyond sign-up: its trading model (SB/T 10518), the self-declaration an
    unregistered individual shows (NTM art. 12), and the yearly-turnover flag of C3."""

    __tablename__ = "seller_profile"

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), primary_key=True)
    trading_model: Mapped[str | None] = mapped_column(String(30))
    self_declaration: Mapped[str | None] = mapped_column(String(30))
    over_threshold_year: Mapped[int | None] = mapped_column(Integer)
    over_threshold_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The shop's own words on its page; checked for forbidden clauses like a listing (C16).
    shop_description: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class LicenceChange(Base):
    """A seller's request to change its licence and registration data (C4). It waits for the platform to verify
    it (due within 7 working days); once approved the new data is what the shop page shows. Never deleted."""

    __tablename__ = "licence_change"
    __table_args__ = (Index("ix_licence_change_status_id", "status", "id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    status: Mapped[str] = mapped_column(String(20))  # pending | approved | rejected
    changes: Mapped[dict[str, Any]]  # the new values, by field
    previous: Mapped[dict[str, Any]]  # the values on record when it was submitted
    note: Mapped[str | None] = mapped_column(String(500))
    submitted_by: Mapped[str] = mapped_column(String(60))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sla_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(60))
    decision_reason: Mapped[str | None] = mapped_column(String(500))


class RuleVersion(Base):
    """One version of the platform's trading rules (C7). Immutable once published: published for comment at
    least 7 days before `effective_at`; every version stays readable."""

    __tablename__ = "rule_version"
    __table_args__ = (Index("ix_rule_version_effective_at", "effective_at"),
                      UniqueConstraint("version", name="uq_rule_version_version"))

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str] = mapped_column(String(20))
    category: Mapped[str] = mapped_column(String(30))  # app/trust/rules.py: CATEGORIES (TRR art. 6)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(String(1000))  # what changed, for merchants deciding to accept
    published_by: Mapped[str] = mapped_column(String(60))
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    comment_closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    effective_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RuleComment(Base):
    """A public comment on a rule version during its comment period."""

    __tablename__ = "rule_comment"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule_version_id: Mapped[str] = mapped_column(ForeignKey("rule_version.id"), index=True)
    author: Mapped[str] = mapped_column(String(60))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RuleDecision(Base):
    """A merchant accepts a rule version, or refuses it and leaves under the old terms (ECL art. 34)."""

    __tablename__ = "rule_decision"
    __table_args__ = (UniqueConstraint("rule_version_id", "merchant_id",
                                       name="uq_rule_decision_rule_version_id_merchant_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    rule_version_id: Mapped[str] = mapped_column(ForeignKey("rule_version.id"))
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"))
    decision: Mapped[str] = mapped_column(String(10))  # accept | refuse
    decided_by: Mapped[str] = mapped_column(String(60))
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IPCase(Base):
    """An intellectual-property notice against a listing and what became of it (C37, ECL arts. 42-45).

    `taken_down` (the notice took the listing down) -> `countered` (the seller answered; the answer was
    forwarded to the rights holder and `restore_due_at` is 15 days later) -> `restored` (no complaint or suit
    was reported in time: the listing is back) or `upheld` (the rights holder reported one: it stays down).
    Public on `GET /v1/ip-cases`, contact details aside. Never deleted.
    """

    __tablename__ = "ip_case"
    __table_args__ = (Index("ix_ip_case_status_restore_due_at", "status", "restore_due_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"), index=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    shop_name: Mapped[str] = mapped_column(String(200))
    product_title: Mapped[str] = mapped_column(String(200))
    product_status_before: Mapped[str] = mapped_column(String(20))  # what the listing returns to when restored
    status: Mapped[str] = mapped_column(String(20))
    right_type: Mapped[str] = mapped_column(String(20))  # trademark | copyright | patent | other
    right_reference: Mapped[str] = mapped_column(String(100))  # registration or certificate number
    holder_name: Mapped[str] = mapped_column(String(200))
    holder_email: Mapped[str] = mapped_column(String(254))
    holder_phone: Mapped[str | None] = mapped_column(String(30))
    token_hash: Mapped[str] = mapped_column(String(64))  # the rights holder's case key, hashed
    notice: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]]  # {"urls": [...]}
    counter_notice: Mapped[str | None] = mapped_column(Text)
    counter_evidence: Mapped[dict[str, Any] | None]
    counter_forwarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    restore_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    action_kind: Mapped[str | None] = mapped_column(String(20))  # complaint | lawsuit
    action_reference: Mapped[str | None] = mapped_column(String(200))
    action_evidence: Mapped[dict[str, Any] | None]
    action_reported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    outcome: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecordSeal(Base):
    """One link of the platform's hash chain over orders and payments (C23).

    `digest` is the SHA-256 of the record's sealed fields, `hash` = SHA-256(prev_hash, type, id, digest). A job
    appends links in outbox order (app/trust/records.py); the unique `prev_hash` makes a fork impossible.
    """

    __tablename__ = "record_seal"
    __table_args__ = (UniqueConstraint("record_type", "record_id"), UniqueConstraint("prev_hash"))

    seq: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    record_type: Mapped[str] = mapped_column(String(20))  # order | payment
    record_id: Mapped[str] = mapped_column(String(40))
    merchant_id: Mapped[str] = mapped_column(String(40))
    digest: Mapped[str] = mapped_column(String(64))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    sealed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class RecordSealCursor(Base):
    """How far the sealing job has read the outbox (one row; gaps as in the webhook fan-out)."""

    __tablename__ = "record_seal_cursor"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    gap_seq: Mapped[int | None] = mapped_column(BigInteger)
    gap_seen_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
