"""A merchant's goods can be kept out of public lists (merchant.listed); customers' address books

Revision ID: b5e2d7a9c413
Revises: e42207c6fcb9
Create Date: 2026-12-03 08:30:00.000000

The guided tour sells from merchants of its own; their products are sold by link but never shown in the public
listing, search, category or sitemap, so running the tour leaves the shop as shoppers found it.

customer_address: a signed-in customer's delivery addresses, saved at checkout and offered at the next one.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'b5e2d7a9c413'
down_revision: str | None = 'e42207c6fcb9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite takes it with a constant default): a batch copy would drop and re-create the
    # merchant table, which the foreign keys pointing at it forbid.
    op.add_column("merchant", sa.Column("listed", sa.Boolean(), nullable=False, server_default=sa.true()))
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "customer_address",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("customer_id", sa.String(40), sa.ForeignKey("customer.id"), nullable=False),
        sa.Column("address", json, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_address_customer_id_used", "customer_address", ["customer_id", "last_used_at"])


def downgrade() -> None:
    op.drop_index("ix_customer_address_customer_id_used", table_name="customer_address")
    op.drop_table("customer_address")
    op.drop_column("merchant", "listed")
