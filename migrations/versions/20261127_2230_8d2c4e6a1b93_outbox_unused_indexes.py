"""The outbox keeps only its primary key: no query reads it by merchant or by `published_at`

Revision ID: 8d2c4e6a1b93
Revises: 3f6b8d1e0a27
Create Date: 2026-11-27 22:30:00.000000

Every state change writes outbox rows (a POS upload one per stock level it changes), and each of the two
secondary indexes cost every one of them an insertion. Webhook fan-out, the only reader, walks the outbox by
`seq` from its cursor and fetches payloads by `seq`.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '8d2c4e6a1b93'
down_revision: str | None = '3f6b8d1e0a27'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_unpublished')
        batch_op.drop_index('ix_event_merchant_id')


def downgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_merchant_id', ['merchant_id'], unique=False)
        batch_op.create_index('ix_event_unpublished', ['published_at', 'seq'], unique=False)
