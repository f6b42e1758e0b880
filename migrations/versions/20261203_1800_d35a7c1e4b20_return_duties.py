"""Returned SKUs carry a condition label before they sell again

Revision ID: d35a7c1e4b20
Revises: c8f1a2d9e604
Create Date: 2026-12-03 18:00:00.000000

Returned units go back on hand under their SKU; `returned_at` marks that, and the SKU stays off sale until the
seller sets `condition_label` (二次销售 or 瑕疵), shown on the product page (CPL art. 44, R7).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd35a7c1e4b20'
down_revision: str | None = 'c8f1a2d9e604'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("variant") as batch:
        batch.add_column(sa.Column("returned_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("condition_label", sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("variant") as batch:
        batch.drop_column("condition_label")
        batch.drop_column("returned_at")
