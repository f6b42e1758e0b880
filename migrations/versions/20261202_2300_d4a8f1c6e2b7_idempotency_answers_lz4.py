"""Idempotency answers are compressed with lz4 on PostgreSQL

Revision ID: d4a8f1c6e2b7
Revises: d3f8a1b6c472
Create Date: 2026-12-02 23:00:00.000000

A 10,000-line wholesale order's answer is several megabytes of JSON, stored with the order in the statement that
places it. PostgreSQL's default TOAST compression (pglz) costs that statement more CPU than lz4 does for the same
text; lz4 is built into PostgreSQL 14 and later. Rows written before keep their compression. SQLite: nothing.
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'd4a8f1c6e2b7'
down_revision: str | None = 'd3f8a1b6c472'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE idempotency_key ALTER COLUMN response_body SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE idempotency_key ALTER COLUMN response_body SET COMPRESSION pglz")
