"""till promotion redemptions: coupons taken at store tills, one usage limit with online checkout

Revision ID: 4d4fd2c4b8d9
Revises: 92a2cbc3e176
Create Date: 2026-11-27 16:06:00

Existing uses (`promotion.used_count`) were all online checkouts; nothing to backfill.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '4d4fd2c4b8d9'
down_revision: str | None = '92a2cbc3e176'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('promotion_redemption',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('redemption_id', sa.String(length=100), nullable=False),
    sa.Column('promotion_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('discount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_promotion_redemption_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['promotion_id'], ['promotion.id'], name=op.f('fk_promotion_redemption_promotion_id_promotion')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promotion_redemption')),
    sa.UniqueConstraint('merchant_id', 'redemption_id', name=op.f('uq_promotion_redemption_merchant_id_redemption_id'))
    )
    with op.batch_alter_table('promotion_redemption', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promotion_redemption_promotion_id'), ['promotion_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('promotion_redemption', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promotion_redemption_promotion_id'))

    op.drop_table('promotion_redemption')
