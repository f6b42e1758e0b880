"""A merchant's goods can be kept out of public lists (merchant.listed)

Revision ID: b5e2d7a9c413
Revises: 25fc570217d3
Create Date: 2026-12-03 08:30:00.000000

The guided tour sells from merchants of its own; their products are sold by link but never shown in the public
listing, search, category or sitemap, so running the tour leaves the shop as shoppers found it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b5e2d7a9c413'
down_revision: str | None = '25fc570217d3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("merchant") as batch:
        batch.add_column(sa.Column("listed", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table("merchant") as batch:
        batch.drop_column("listed")
