"""community

Revision ID: 4b0f52605850
Revises: 17a63a89b9f0
Create Date: 2026-11-27 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '4b0f52605850'
down_revision: str | None = '17a63a89b9f0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('pickup_point',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('leader_name', sa.String(length=100), nullable=False),
    sa.Column('leader_phone', sa.String(length=30), nullable=False),
    sa.Column('commission_rate', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_pickup_point_location_id_location')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_pickup_point_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pickup_point')),
    sa.UniqueConstraint('location_id', name=op.f('uq_pickup_point_location_id'))
    )
    with op.batch_alter_table('pickup_point', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pickup_point_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('group_buy',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('min_quantity', sa.Integer(), nullable=False),
    sa.Column('max_quantity', sa.Integer(), nullable=False),
    sa.Column('joined_quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('pickup_date', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_by', sa.String(length=20), nullable=True),
    sa.Column('committed_quantity', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('joined_quantity >= 0 AND joined_quantity <= max_quantity', name=op.f('ck_group_buy_joined_within_max')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_group_buy_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_group_buy_variant_id_variant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_buy'))
    )
    with op.batch_alter_table('group_buy', schema=None) as batch_op:
        batch_op.create_index('ix_group_buy_merchant_id_id', ['merchant_id', 'id'], unique=False)
        batch_op.create_index('ix_group_buy_status_closes_at', ['status', 'closes_at'], unique=False)

    op.create_table('service_slot',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('booked >= 0 AND booked <= capacity', name=op.f('ck_service_slot_booked_within_capacity')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_service_slot_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_service_slot_variant_id_variant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_slot'))
    )
    with op.batch_alter_table('service_slot', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_slot_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_service_slot_variant_id_starts_at', ['variant_id', 'starts_at'], unique=False)

    op.create_table('group_buy_join',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('group_buy_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('pickup_point_id', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['group_buy_id'], ['group_buy.id'], name=op.f('fk_group_buy_join_group_buy_id_group_buy')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_group_buy_join_order_id_sales_order')),
    sa.ForeignKeyConstraint(['pickup_point_id'], ['pickup_point.id'], name=op.f('fk_group_buy_join_pickup_point_id_pickup_point')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_group_buy_join')),
    sa.UniqueConstraint('order_id', name=op.f('uq_group_buy_join_order_id'))
    )
    with op.batch_alter_table('group_buy_join', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_group_buy_join_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_group_buy_join_group_buy_id_status', ['group_buy_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_group_buy_join_pickup_point_id'), ['pickup_point_id'], unique=False)

    op.create_table('group_buy_point',
    sa.Column('group_buy_id', sa.String(length=40), nullable=False),
    sa.Column('pickup_point_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['group_buy_id'], ['group_buy.id'], name=op.f('fk_group_buy_point_group_buy_id_group_buy')),
    sa.ForeignKeyConstraint(['pickup_point_id'], ['pickup_point.id'], name=op.f('fk_group_buy_point_pickup_point_id_pickup_point')),
    sa.PrimaryKeyConstraint('group_buy_id', 'pickup_point_id', name=op.f('pk_group_buy_point'))
    )
    op.create_table('service_booking',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('slot_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_service_booking_order_id_sales_order')),
    sa.ForeignKeyConstraint(['slot_id'], ['service_slot.id'], name=op.f('fk_service_booking_slot_id_service_slot')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_service_booking')),
    sa.UniqueConstraint('order_id', name=op.f('uq_service_booking_order_id'))
    )
    with op.batch_alter_table('service_booking', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_service_booking_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_service_booking_slot_id_status', ['slot_id', 'status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('service_booking', schema=None) as batch_op:
        batch_op.drop_index('ix_service_booking_slot_id_status')
        batch_op.drop_index(batch_op.f('ix_service_booking_customer_id'))

    op.drop_table('service_booking')
    op.drop_table('group_buy_point')
    with op.batch_alter_table('group_buy_join', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_group_buy_join_pickup_point_id'))
        batch_op.drop_index('ix_group_buy_join_group_buy_id_status')
        batch_op.drop_index(batch_op.f('ix_group_buy_join_customer_id'))

    op.drop_table('group_buy_join')
    with op.batch_alter_table('service_slot', schema=None) as batch_op:
        batch_op.drop_index('ix_service_slot_variant_id_starts_at')
        batch_op.drop_index(batch_op.f('ix_service_slot_merchant_id'))

    op.drop_table('service_slot')
    with op.batch_alter_table('group_buy', schema=None) as batch_op:
        batch_op.drop_index('ix_group_buy_status_closes_at')
        batch_op.drop_index('ix_group_buy_merchant_id_id')

    op.drop_table('group_buy')
    with op.batch_alter_table('pickup_point', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pickup_point_merchant_id'))

    op.drop_table('pickup_point')
