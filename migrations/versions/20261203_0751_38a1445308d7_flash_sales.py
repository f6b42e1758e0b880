"""Flash sales: the sale, the stock it holds per location, the orders it sold

Revision ID: 38a1445308d7
Revises: 25fc570217d3
Create Date: 2026-12-03 07:51:45.297269
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '38a1445308d7'
down_revision: str | None = '25fc570217d3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('flash_sale',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('product_id', sa.String(length=40), nullable=False),
    sa.Column('campaign_id', sa.String(length=40), nullable=True),
    sa.Column('price', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('quantity', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('remaining', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('per_buyer_limit', sa.Integer(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('returned', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_flash_sale_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_flash_sale_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_flash_sale_product_id_product')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_flash_sale_variant_id_variant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flash_sale'))
    )
    with op.batch_alter_table('flash_sale', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flash_sale_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flash_sale_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flash_sale_product_id'), ['product_id'], unique=False)
        batch_op.create_index('ix_flash_sale_status_ends_at', ['status', 'ends_at'], unique=False)

    op.create_table('flash_hold',
    sa.Column('sale_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_flash_hold_location_id_location')),
    sa.ForeignKeyConstraint(['sale_id'], ['flash_sale.id'], name=op.f('fk_flash_hold_sale_id_flash_sale')),
    sa.PrimaryKeyConstraint('sale_id', 'location_id', name=op.f('pk_flash_hold'))
    )
    op.create_table('flash_order',
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('sale_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_flash_order_order_id_sales_order')),
    sa.ForeignKeyConstraint(['sale_id'], ['flash_sale.id'], name=op.f('fk_flash_order_sale_id_flash_sale')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_flash_order'))
    )
    with op.batch_alter_table('flash_order', schema=None) as batch_op:
        batch_op.create_index('ix_flash_order_sale_customer', ['sale_id', 'customer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('flash_order', schema=None) as batch_op:
        batch_op.drop_index('ix_flash_order_sale_customer')

    op.drop_table('flash_order')
    op.drop_table('flash_hold')
    with op.batch_alter_table('flash_sale', schema=None) as batch_op:
        batch_op.drop_index('ix_flash_sale_status_ends_at')
        batch_op.drop_index(batch_op.f('ix_flash_sale_product_id'))
        batch_op.drop_index(batch_op.f('ix_flash_sale_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_flash_sale_campaign_id'))

    op.drop_table('flash_sale')
