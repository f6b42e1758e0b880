"""The catalogue's version: counted up by every transaction that changes what catalogue pages show

Revision ID: b4d6e8f0a2c1
Revises: a7c3e9d1f5b2
Create Date: 2026-12-06 02:30:00.000000

Each server process answers searches from its own copy of the search index (app/catalog/search/live.py). A
process learns that another one changed the catalogue by reading this one row: every such transaction counts it up
as it commits (app/core/cache.py), and its row lock orders those commits.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b4d6e8f0a2c1'
down_revision: str | None = 'a7c3e9d1f5b2'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    table = op.create_table(
        "catalog_version",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_version")),
    )
    op.bulk_insert(table, [{"id": 1, "n": 0}])


def downgrade() -> None:
    op.drop_table("catalog_version")
