"""A return's goods condition, told by the seller at receipt

Revision ID: e1a4c7d2b905
Revises: d21c4f9a7e30
Create Date: 2026-12-03 19:30:00.000000

Goods that come back as new (the condition of a 7-day no-reason return) go back on sale as they were; only goods
the seller receives as not restorable to new mark their SKU for a condition label (C35).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e1a4c7d2b905'
down_revision: str | None = 'd21c4f9a7e30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("order_return") as batch:
        batch.add_column(sa.Column("goods_condition", sa.String(length=12), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_return") as batch:
        batch.drop_column("goods_condition")
