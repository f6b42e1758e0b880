"""Product pictures: stored files (media_asset, by content hash), their places on products and variants

Revision ID: 380a77ffc7ff
Revises: d4a8f1c6e2b7
Create Date: 2026-12-02 21:07:08.380775

New tables only; nothing to backfill.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '380a77ffc7ff'
down_revision: str | None = 'd4a8f1c6e2b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('media_asset',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('source_width', sa.Integer(), nullable=False),
    sa.Column('source_height', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('storage', sa.String(length=20), nullable=False),
    sa.Column('thumb_url', sa.String(length=500), nullable=False),
    sa.Column('medium_url', sa.String(length=500), nullable=False),
    sa.Column('large_url', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_media_asset'))
    )
    op.create_table('product_media',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('product_id', sa.String(length=40), nullable=False),
    sa.Column('asset_id', sa.String(length=64), nullable=False),
    sa.Column('alt', sa.String(length=500), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['media_asset.id'], name=op.f('fk_product_media_asset_id_media_asset')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_product_media_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_media_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_media'))
    )
    with op.batch_alter_table('product_media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_media_asset_id'), ['asset_id'], unique=False)
        batch_op.create_index('ix_product_media_product_id_position', ['product_id', 'position'], unique=False)

    op.create_table('variant_media',
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('media_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['media_id'], ['product_media.id'], name=op.f('fk_variant_media_media_id_product_media'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_variant_media_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_variant_media_variant_id_variant')),
    sa.PrimaryKeyConstraint('variant_id', 'media_id', name=op.f('pk_variant_media'))
    )
    with op.batch_alter_table('variant_media', schema=None) as batch_op:
        batch_op.create_index('ix_variant_media_media_id', ['media_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('variant_media', schema=None) as batch_op:
        batch_op.drop_index('ix_variant_media_media_id')

    op.drop_table('variant_media')
    with op.batch_alter_table('product_media', schema=None) as batch_op:
        batch_op.drop_index('ix_product_media_product_id_position')
        batch_op.drop_index(batch_op.f('ix_product_media_asset_id'))

    op.drop_table('product_media')
    op.drop_table('media_asset')
