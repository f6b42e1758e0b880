"""IP notice-and-takedown cases; the hash chain over orders and payments; promotion and shop texts

Revision ID: c37a9e2b4d61
Revises: c7d1e5f2a9b8
Create Date: 2026-12-03 14:00:00.000000

ip_case: a rights holder's notice against a listing, the seller's counter-notice and the outcome (C37).
record_seal: one link per sealed order or payment, appended by a job in outbox order (C23);
record_seal_cursor: how far that job has read the outbox.
promotion.description and seller_profile.shop_description: texts shoppers read, checked for forbidden clauses.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c37a9e2b4d61'
down_revision: str | None = 'c7d1e5f2a9b8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    big_pk = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "ip_case",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("product_id", sa.String(40), sa.ForeignKey("product.id", name="fk_ip_case_product_id"),
                  nullable=False),
        sa.Column("merchant_id", sa.String(40), sa.ForeignKey("merchant.id", name="fk_ip_case_merchant_id"),
                  nullable=False),
        sa.Column("shop_name", sa.String(200), nullable=False),
        sa.Column("product_title", sa.String(200), nullable=False),
        sa.Column("product_status_before", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("right_type", sa.String(20), nullable=False),
        sa.Column("right_reference", sa.String(100), nullable=False),
        sa.Column("holder_name", sa.String(200), nullable=False),
        sa.Column("holder_email", sa.String(254), nullable=False),
        sa.Column("holder_phone", sa.String(30)),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("notice", sa.Text(), nullable=False),
        sa.Column("evidence", json, nullable=False),
        sa.Column("counter_notice", sa.Text()),
        sa.Column("counter_evidence", json),
        sa.Column("counter_forwarded_at", sa.DateTime(timezone=True)),
        sa.Column("restore_due_at", sa.DateTime(timezone=True)),
        sa.Column("action_kind", sa.String(20)),
        sa.Column("action_reference", sa.String(200)),
        sa.Column("action_evidence", json),
        sa.Column("action_reported_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(500)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_ip_case_product_id", "ip_case", ["product_id"])
    op.create_index("ix_ip_case_merchant_id", "ip_case", ["merchant_id"])
    op.create_index("ix_ip_case_status_restore_due_at", "ip_case", ["status", "restore_due_at"])
    op.create_table(
        "record_seal",
        sa.Column("seq", big_pk, primary_key=True, autoincrement=True),
        sa.Column("record_type", sa.String(20), nullable=False),
        sa.Column("record_id", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("record_type", "record_id", name="uq_record_seal_record_type_record_id"),
        sa.UniqueConstraint("prev_hash", name="uq_record_seal_prev_hash"),
        sa.UniqueConstraint("hash", name="uq_record_seal_hash"),
    )
    op.create_table(
        "record_seal_cursor",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("gap_seq", sa.BigInteger()),
        sa.Column("gap_seen_at", sa.DateTime(timezone=True)),
    )
    op.add_column("promotion", sa.Column("description", sa.Text()))
    op.add_column("seller_profile", sa.Column("shop_description", sa.Text()))


def downgrade() -> None:
    with op.batch_alter_table("seller_profile") as batch:
        batch.drop_column("shop_description")
    with op.batch_alter_table("promotion") as batch:
        batch.drop_column("description")
    op.drop_table("record_seal_cursor")
    op.drop_table("record_seal")
    op.drop_index("ix_ip_case_status_restore_due_at", table_name="ip_case")
    op.drop_index("ix_ip_case_merchant_id", table_name="ip_case")
    op.drop_index("ix_ip_case_product_id", table_name="ip_case")
    op.drop_table("ip_case")
