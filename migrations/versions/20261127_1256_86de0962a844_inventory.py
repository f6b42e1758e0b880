"""inventory

Revision ID: 86de0962a844
Revises: ac80e5c77f0d
Create Date: 2026-11-27 12:56:15.934183
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '86de0962a844'
down_revision: str | None = 'ac80e5c77f0d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('allocation',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_allocation'))
    )
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.create_index('ix_allocation_order_id', ['order_id'], unique=False)

    op.create_table('stock_movement',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('on_hand_delta', sa.Integer(), nullable=False),
    sa.Column('reserved_delta', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=80), nullable=False),
    sa.Column('idempotency_key', sa.String(length=200), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movement')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_stock_movement_idempotency_key'))
    )
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index('ix_stock_movement_level', ['location_id', 'variant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movement_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('stock_level',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('safety_stock', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('reserved >= 0', name=op.f('ck_stock_level_reserved_non_negative')),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_stock_level_location_id_location')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_stock_level_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_stock_level_variant_id_variant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_level')),
    sa.UniqueConstraint('location_id', 'variant_id', name=op.f('uq_stock_level_location_id_variant_id'))
    )
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_level_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_stock_level_variant_id', ['variant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_level_variant_id')
        batch_op.drop_index(batch_op.f('ix_stock_level_merchant_id'))

    op.drop_table('stock_level')
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_movement_merchant_id'))
        batch_op.drop_index('ix_stock_movement_level')

    op.drop_table('stock_movement')
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_index('ix_allocation_order_id')

    op.drop_table('allocation')
