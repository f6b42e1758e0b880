"""The outbox's unpublished events, indexed for the relay

Revision ID: c8f1a2d9e604
Revises: c37a9e2b4d61
Create Date: 2026-12-03 14:00:00.000000

`shop relay` reads `event WHERE published_at IS NULL ORDER BY seq`. Without an index that walks every published
event first; a partial index holds only the rows still to publish, so it stays as small as the relay's backlog.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c8f1a2d9e604'
down_revision: str | None = 'c37a9e2b4d61'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_event_unpublished", "event", ["seq"], postgresql_where=sa.text("published_at IS NULL"),
                    sqlite_where=sa.text("published_at IS NULL"))


def downgrade() -> None:
    op.drop_index("ix_event_unpublished", table_name="event")
