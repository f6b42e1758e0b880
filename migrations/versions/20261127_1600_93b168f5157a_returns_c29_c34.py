"""returns (C29–C34): listing return classes, confirmations on order lines, refund on receipt, return history,
merchant return policies, coupon uses given back

Revision ID: 93b168f5157a
Revises: 92a2cbc3e176
Create Date: 2026-11-27 16:00:00

Existing products and order lines become `standard`; existing returns become no-reason returns refunded on
request (what they were), paid back by the buyer's own shipping.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '93b168f5157a'
down_revision: str | None = '92a2cbc3e176'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_class', sa.String(length=30), server_default='standard', nullable=False))
        batch_op.add_column(sa.Column('return_reason', sa.String(length=40), nullable=True))

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('return_class', sa.String(length=30), server_default='standard', nullable=False))
        batch_op.add_column(sa.Column('return_reason', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('return_exclusion_confirmed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coupon_released_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('order_return', schema=None) as batch_op:
        batch_op.add_column(sa.Column('coupon_amount', sa.BigInteger(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('kind', sa.String(length=20), server_default='no_reason', nullable=False))
        batch_op.add_column(sa.Column('shipping_payer', sa.String(length=10), server_default='buyer', nullable=False))
        batch_op.add_column(sa.Column('refund_on', sa.String(length=10), server_default='request', nullable=False))
        batch_op.add_column(sa.Column('return_address', JSONType, nullable=True))
        batch_op.add_column(sa.Column('requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('received_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refund_due_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refunded_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refund_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('restocked_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rejected_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rejection_code', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('evidence', JSONType, nullable=True))
        batch_op.create_index(batch_op.f('ix_order_return_refund_id'), ['refund_id'], unique=False)
        batch_op.create_index('ix_order_return_status_refund_due_at', ['status', 'refund_due_at'], unique=False)
    # Returns made before this revision were requested, received and restocked when they were created.
    op.execute("UPDATE order_return SET requested_at = created_at, restocked_at = created_at")
    op.execute("UPDATE order_return SET refunded_at = created_at WHERE status = 'refunded'")

    op.create_table('order_return_event',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('return_id', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('actor', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['return_id'], ['order_return.id'], name=op.f('fk_order_return_event_return_id_order_return')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_return_event'))
    )
    with op.batch_alter_table('order_return_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_return_event_return_id'), ['return_id'], unique=False)

    op.create_table('merchant_return_policy',
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('refund_on', sa.String(length=10), server_default='request', nullable=False),
    sa.Column('free_return_shipping', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('return_address', JSONType, nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_merchant_return_policy_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_merchant_return_policy'))
    )


def downgrade() -> None:
    op.drop_table('merchant_return_policy')
    with op.batch_alter_table('order_return_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_return_event_return_id'))
    op.drop_table('order_return_event')

    with op.batch_alter_table('order_return', schema=None) as batch_op:
        batch_op.drop_index('ix_order_return_status_refund_due_at')
        batch_op.drop_index(batch_op.f('ix_order_return_refund_id'))
        for column in ('evidence', 'rejection_code', 'rejected_at', 'restocked_at', 'refund_id', 'refunded_at',
                       'refund_due_at', 'received_at', 'requested_at', 'return_address', 'refund_on',
                       'shipping_payer', 'kind', 'coupon_amount'):
            batch_op.drop_column(column)

    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_column('coupon_released_at')

    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('return_exclusion_confirmed_at')
        batch_op.drop_column('return_reason')
        batch_op.drop_column('return_class')

    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('return_reason')
        batch_op.drop_column('return_class')
