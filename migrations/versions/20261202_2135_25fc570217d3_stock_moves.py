"""Stock moves: transfers between locations (with their lines) and low-stock thresholds

Revision ID: 25fc570217d3
Revises: 7868e9d657ff
Create Date: 2026-12-02 21:35:21.393420
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '25fc570217d3'
down_revision: str | None = '7868e9d657ff'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('stock_transfer',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('from_location_id', sa.String(length=40), nullable=False),
    sa.Column('to_location_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['from_location_id'], ['location.id'], name=op.f('fk_stock_transfer_from_location_id_location')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_stock_transfer_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['to_location_id'], ['location.id'], name=op.f('fk_stock_transfer_to_location_id_location')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_transfer'))
    )
    with op.batch_alter_table('stock_transfer', schema=None) as batch_op:
        batch_op.create_index('ix_stock_transfer_merchant_id_id', ['merchant_id', 'id'], unique=False)

    op.create_table('stock_threshold',
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('low_stock', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('alerted', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_stock_threshold_location_id_location')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_stock_threshold_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_stock_threshold_variant_id_variant')),
    sa.PrimaryKeyConstraint('location_id', 'variant_id', name=op.f('pk_stock_threshold'))
    )
    with op.batch_alter_table('stock_threshold', schema=None) as batch_op:
        batch_op.create_index('ix_stock_threshold_merchant_id', ['merchant_id'], unique=False)

    op.create_table('stock_transfer_line',
    sa.Column('transfer_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['transfer_id'], ['stock_transfer.id'], name=op.f('fk_stock_transfer_line_transfer_id_stock_transfer')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_stock_transfer_line_variant_id_variant')),
    sa.PrimaryKeyConstraint('transfer_id', 'variant_id', name=op.f('pk_stock_transfer_line'))
    )


def downgrade() -> None:
    op.drop_table('stock_transfer_line')
    with op.batch_alter_table('stock_threshold', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_threshold_merchant_id')

    op.drop_table('stock_threshold')
    with op.batch_alter_table('stock_transfer', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_transfer_merchant_id_id')

    op.drop_table('stock_transfer')
