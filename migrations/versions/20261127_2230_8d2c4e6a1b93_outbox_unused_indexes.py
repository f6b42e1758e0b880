"""The outbox keeps only its primary key; open oversell conflicts are updated in place

Revision ID: 8d2c4e6a1b93
Revises: 3f6b8d1e0a27
Create Date: 2026-11-27 22:30:00.000000

* Every state change writes outbox rows (a POS upload one per stock level it changes), and each of the
  outbox's two secondary indexes cost every one of them an insertion. No query reads the outbox by merchant
  or by `published_at`: webhook fan-out, the only reader, walks it by `seq` from its cursor.
* A store that keeps selling below zero rewrites the shortfall of its open conflicts upload after upload: on
  PostgreSQL `stock_conflict` keeps half of each page free (fillfactor 50) so those updates stay on their page
  (HOT) instead of adding an entry to each of its three indexes.
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
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE stock_conflict SET (fillfactor = 50)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE stock_conflict RESET (fillfactor)')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_merchant_id', ['merchant_id'], unique=False)
        batch_op.create_index('ix_event_unpublished', ['published_at', 'seq'], unique=False)
