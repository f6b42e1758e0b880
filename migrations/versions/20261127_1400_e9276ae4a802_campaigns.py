"""campaigns: festival campaigns with their products and promotions

Revision ID: e9276ae4a802
Revises: 17a63a89b9f0
Create Date: 2026-11-27 13:26:56.379390
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'e9276ae4a802'
down_revision: str | None = '17a63a89b9f0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=True),
    sa.Column('slug', sa.String(length=60), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('headline', sa.String(length=300), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_campaign_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign')),
    sa.UniqueConstraint('slug', name=op.f('uq_campaign_slug'))
    )
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_starts_at'), ['starts_at'], unique=False)

    op.create_table('campaign_product',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('campaign_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('product_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_product_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_campaign_product_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_campaign_product_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_product')),
    sa.UniqueConstraint('campaign_id', 'product_id', name=op.f('uq_campaign_product_campaign_id_product_id'))
    )
    with op.batch_alter_table('campaign_product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_product_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_product_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('campaign_promotion',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('campaign_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('promotion_id', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_promotion_campaign_id_campaign')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_campaign_promotion_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotion.id'], name=op.f('fk_campaign_promotion_promotion_id_promotion')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_promotion')),
    sa.UniqueConstraint('campaign_id', 'promotion_id', name=op.f('uq_campaign_promotion_campaign_id_promotion_id'))
    )
    with op.batch_alter_table('campaign_promotion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_promotion_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_promotion_merchant_id'), ['merchant_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('campaign_promotion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_promotion_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_promotion_campaign_id'))

    op.drop_table('campaign_promotion')
    with op.batch_alter_table('campaign_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_product_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_campaign_product_campaign_id'))

    op.drop_table('campaign_product')
    with op.batch_alter_table('campaign', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaign_starts_at'))
        batch_op.drop_index(batch_op.f('ix_campaign_merchant_id'))

    op.drop_table('campaign')
