"""pos sync: POS events, oversell conflicts, per-location change sequence

Revision ID: e4c1d7a93b52
Revises: 17a63a89b9f0
Create Date: 2026-11-27 13:15:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e4c1d7a93b52'
down_revision: str | None = '17a63a89b9f0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pos_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('on_hand_delta', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_event')),
    sa.UniqueConstraint('merchant_id', 'event_id', name=op.f('uq_pos_event_merchant_id_event_id'))
    )
    with op.batch_alter_table('pos_event', schema=None) as batch_op:
        batch_op.create_index('ix_pos_event_level', ['location_id', 'variant_id', 'type'], unique=False)
        batch_op.create_index('ix_pos_event_merchant_id_occurred_at', ['merchant_id', 'occurred_at'], unique=False)

    op.create_table('stock_change_counter',
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('location_id', name=op.f('pk_stock_change_counter'))
    )
    op.create_table('stock_conflict',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('shortfall', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('resolution', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_conflict'))
    )
    with op.batch_alter_table('stock_conflict', schema=None) as batch_op:
        batch_op.create_index('ix_stock_conflict_merchant_id_status_id', ['merchant_id', 'status', 'id'], unique=False)

    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.add_column(sa.Column('change_seq', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_count_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_count_event_id', sa.String(length=100), nullable=True))
        batch_op.create_index('ix_stock_level_location_id_change_seq', ['location_id', 'change_seq'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_level_location_id_change_seq')
        batch_op.drop_column('last_count_event_id')
        batch_op.drop_column('last_count_at')
        batch_op.drop_column('change_seq')

    with op.batch_alter_table('stock_conflict', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_conflict_merchant_id_status_id')

    op.drop_table('stock_conflict')
    op.drop_table('stock_change_counter')
    with op.batch_alter_table('pos_event', schema=None) as batch_op:
        batch_op.drop_index('ix_pos_event_merchant_id_occurred_at')
        batch_op.drop_index('ix_pos_event_level')

    op.drop_table('pos_event')
