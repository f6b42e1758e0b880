"""Personal information and order contracts: consents, the legal-hold store, order terms, seller cancellations

Revision ID: c7d1e5f2a9b8
Revises: c40e1f7a9b21
Create Date: 2026-12-03 13:40:00.000000

consent: one row per purpose a customer agreed to, with the text version and the time; withdrawing stamps
`withdrawn_at` (the row stays as the record of what was agreed and when).
legal_hold: a closed account's name, phone, e-mail and address taken out of its orders, kept only for the records
export and the regulator until the hold ends, then purged.
customer.phone: the phone a customer may give (and correct or delete).
sales_order.terms_version: the order terms the buyer saw at checkout; seller_cancel_code: a paid order the merchant
cancelled alone (counts against its credit); cancel_proposal_*: a merchant's coded proposal the buyer may accept.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c7d1e5f2a9b8'
down_revision: str | None = 'c40e1f7a9b21'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "consent",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("purpose", sa.String(30), nullable=False),
        sa.Column("text_version", sa.String(20), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_consent_customer_id_purpose", "consent", ["customer_id", "purpose"])
    op.create_table(
        "legal_hold",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("order_id", sa.String(40), sa.ForeignKey("sales_order.id"), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("data", json, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("order_id", name="uq_legal_hold_order_id"),
    )
    # Plain ADD COLUMNs (SQLite takes them): a batch copy would re-create tables that foreign keys point at.
    op.add_column("customer", sa.Column("phone", sa.String(30), nullable=True))
    op.add_column("sales_order", sa.Column("terms_version", sa.String(20), nullable=True))
    op.add_column("sales_order", sa.Column("seller_cancel_code", sa.String(40), nullable=True))
    op.add_column("sales_order", sa.Column("cancel_proposal_code", sa.String(40), nullable=True))
    op.add_column("sales_order", sa.Column("cancel_proposed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sales_order") as batch:
        batch.drop_column("cancel_proposed_at")
        batch.drop_column("cancel_proposal_code")
        batch.drop_column("seller_cancel_code")
        batch.drop_column("terms_version")
    with op.batch_alter_table("customer") as batch:
        batch.drop_column("phone")
    op.drop_table("legal_hold")
    op.drop_index("ix_consent_customer_id_purpose", table_name="consent")
    op.drop_table("consent")
