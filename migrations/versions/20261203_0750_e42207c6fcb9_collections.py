"""Collections: a merchant's own groupings of products, picked by hand or by a rule

Revision ID: e42207c6fcb9
Revises: 4b29148dd86a
Create Date: 2026-12-03 07:50:53.286313
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'e42207c6fcb9'
down_revision: str | None = '4b29148dd86a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('collection',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('rule', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_collection_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection'))
    )
    with op.batch_alter_table('collection', schema=None) as batch_op:
        batch_op.create_index('ix_collection_merchant_id_id', ['merchant_id', 'id'], unique=False)

    op.create_table('collection_product',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('collection_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('product_id', sa.String(length=40), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collection.id'], name=op.f('fk_collection_product_collection_id_collection')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_collection_product_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_collection_product_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_product')),
    sa.UniqueConstraint('collection_id', 'product_id', name=op.f('uq_collection_product_collection_id_product_id'))
    )
    with op.batch_alter_table('collection_product', schema=None) as batch_op:
        batch_op.create_index('ix_collection_product_collection_id_position', ['collection_id', 'position'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_product_product_id'), ['product_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('collection_product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_product_product_id'))
        batch_op.drop_index('ix_collection_product_collection_id_position')

    op.drop_table('collection_product')
    with op.batch_alter_table('collection', schema=None) as batch_op:
        batch_op.drop_index('ix_collection_merchant_id_id')

    op.drop_table('collection')
