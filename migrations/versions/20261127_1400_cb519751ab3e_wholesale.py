"""wholesale

Revision ID: cb519751ab3e
Revises: 17a63a89b9f0
Create Date: 2026-11-27 13:10:38.402402
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'cb519751ab3e'
down_revision: str | None = '17a63a89b9f0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('wholesale_buyer',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('credit_limit', sa.BigInteger(), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_wholesale_buyer_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wholesale_buyer'))
    )
    with op.batch_alter_table('wholesale_buyer', schema=None) as batch_op:
        batch_op.create_index('ix_wholesale_buyer_merchant_id_id', ['merchant_id', 'id'], unique=False)

    op.create_table('wholesale_order',
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('buyer_id', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('mode', sa.String(length=20), nullable=False),
    sa.Column('rejected_lines', sa.Integer(), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['wholesale_buyer.id'], name=op.f('fk_wholesale_order_buyer_id_wholesale_buyer')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_wholesale_order_order_id_sales_order')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_wholesale_order'))
    )
    with op.batch_alter_table('wholesale_order', schema=None) as batch_op:
        batch_op.create_index('ix_wholesale_order_buyer_id_order_id', ['buyer_id', 'order_id'], unique=False)

    op.create_table('wholesale_quote',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('buyer_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('order_id', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['buyer_id'], ['wholesale_buyer.id'], name=op.f('fk_wholesale_quote_buyer_id_wholesale_buyer')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_wholesale_quote_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wholesale_quote'))
    )
    with op.batch_alter_table('wholesale_quote', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wholesale_quote_buyer_id'), ['buyer_id'], unique=False)
        batch_op.create_index('ix_wholesale_quote_merchant_id_id', ['merchant_id', 'id'], unique=False)

    op.create_table('wholesale_buyer_price',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('buyer_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('min_qty', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_id'], ['wholesale_buyer.id'], name=op.f('fk_wholesale_buyer_price_buyer_id_wholesale_buyer')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_wholesale_buyer_price_variant_id_variant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wholesale_buyer_price')),
    sa.UniqueConstraint('buyer_id', 'variant_id', 'min_qty', name=op.f('uq_wholesale_buyer_price_buyer_id_variant_id_min_qty'))
    )
    op.create_table('wholesale_quote_line',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('quote_id', sa.String(length=40), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['quote_id'], ['wholesale_quote.id'], name=op.f('fk_wholesale_quote_line_quote_id_wholesale_quote')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wholesale_quote_line'))
    )
    with op.batch_alter_table('wholesale_quote_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_wholesale_quote_line_quote_id'), ['quote_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('wholesale_quote_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_wholesale_quote_line_quote_id'))

    op.drop_table('wholesale_quote_line')
    op.drop_table('wholesale_buyer_price')
    with op.batch_alter_table('wholesale_quote', schema=None) as batch_op:
        batch_op.drop_index('ix_wholesale_quote_merchant_id_id')
        batch_op.drop_index(batch_op.f('ix_wholesale_quote_buyer_id'))

    op.drop_table('wholesale_quote')
    with op.batch_alter_table('wholesale_order', schema=None) as batch_op:
        batch_op.drop_index('ix_wholesale_order_buyer_id_order_id')

    op.drop_table('wholesale_order')
    with op.batch_alter_table('wholesale_buyer', schema=None) as batch_op:
        batch_op.drop_index('ix_wholesale_buyer_merchant_id_id')

    op.drop_table('wholesale_buyer')
