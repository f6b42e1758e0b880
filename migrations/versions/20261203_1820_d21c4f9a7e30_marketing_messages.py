"""The platform's commercial messages and their recipients

Revision ID: d21c4f9a7e30
Revises: d19b2e8f5a61
Create Date: 2026-12-03 18:20:00.000000

A message goes to the customers who consent to marketing when it is sent; each recipient's one-click unsubscribe
link is a random token of which only the SHA-256 is kept (C21).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd21c4f9a7e30'
down_revision: str | None = 'd19b2e8f5a61'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "marketing_message",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=60), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketing_message")),
    )
    op.create_table(
        "marketing_delivery",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("customer_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("unsubscribed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["message_id"], ["marketing_message.id"],
                                name=op.f("fk_marketing_delivery_message_id_marketing_message")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_marketing_delivery")),
        sa.UniqueConstraint("message_id", "customer_id", name=op.f("uq_marketing_delivery_message_id_customer_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_marketing_delivery_token_hash")),
    )
    op.create_index(op.f("ix_marketing_delivery_customer_id"), "marketing_delivery", ["customer_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_marketing_delivery_customer_id"), table_name="marketing_delivery")
    op.drop_table("marketing_delivery")
    op.drop_table("marketing_message")
