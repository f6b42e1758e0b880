"""till sync health: when each POS device last synced, and when it counts as out of touch

Revision ID: b7d2e5f1c3a8
Revises: 92a2cbc3e176
Create Date: 2026-11-27 16:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b7d2e5f1c3a8'
down_revision: str | None = '92a2cbc3e176'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_synced_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('sync_expires_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_column('sync_expires_at')
        batch_op.drop_column('last_synced_at')
