"""POS fold: levels updated in place (HOT), recounts read only what follows a count, one open conflict per level

Revision ID: 7e3c9a2d4f61
Revises: 5c8e0a1f2b94
Create Date: 2026-11-27 18:30:00.000000

* `stock_level` loses its (location_id, change_seq) index. Every stock change rewrites `change_seq`, so
  with that column indexed no update of a level could stay on its page (a HOT update): each wrote a new
  entry into all five indexes, and a hot level left a long trail of dead entries behind it that every
  lock of the level walked. The changes feed finds a location's levels through (location_id, variant_id)
  instead. On PostgreSQL the table also keeps half of each page free (fillfactor 50) for those updates.
* The recount after a till's count reads the events and movements of one level *after* a point in time:
  (location_id, variant_id, occurred_at) indexes replace (location_id, variant_id[, type]).
* At most one open oversell conflict per level (a partial unique index), which also serves the lookup.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7e3c9a2d4f61'
down_revision: str | None = '5c8e0a1f2b94'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_stock_level_location_id_change_seq', table_name='stock_level')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE stock_level SET (fillfactor = 50)')
    op.drop_index('ix_pos_event_level', table_name='pos_event')
    op.create_index('ix_pos_event_level', 'pos_event', ['location_id', 'variant_id', 'occurred_at'])
    op.drop_index('ix_stock_movement_level', table_name='stock_movement')
    op.create_index('ix_stock_movement_level', 'stock_movement', ['location_id', 'variant_id', 'occurred_at'])
    op.create_index('uq_stock_conflict_open', 'stock_conflict', ['location_id', 'variant_id'], unique=True,
                    postgresql_where=sa.text("status = 'open'"), sqlite_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_index('uq_stock_conflict_open', table_name='stock_conflict')
    op.drop_index('ix_stock_movement_level', table_name='stock_movement')
    op.create_index('ix_stock_movement_level', 'stock_movement', ['location_id', 'variant_id'])
    op.drop_index('ix_pos_event_level', table_name='pos_event')
    op.create_index('ix_pos_event_level', 'pos_event', ['location_id', 'variant_id', 'type'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE stock_level RESET (fillfactor)')
    op.create_index('ix_stock_level_location_id_change_seq', 'stock_level', ['location_id', 'change_seq'])
