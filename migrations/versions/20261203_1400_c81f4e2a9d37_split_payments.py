"""Payments per merchant and combined payments; refunds that end later; merchants' tokens kept encrypted

Revision ID: c81f4e2a9d37
Revises: 5e4c1b9a7d20
Create Date: 2026-12-03 14:00:00.000000

A checkout across merchants paid into each merchant's own account has one payment per merchant: `payment.group_ref`
names the combined payment several of them share at the provider, `payment.client` keeps what the buyer needs to pay
(shown again on the pay page). `refund.settled_at` is when a refund's outcome came (a notification or a query).
`payment_account.auth_token` and `payment.account` hold encrypted tokens (longer); `refresh_token` is new.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c81f4e2a9d37'
down_revision: str | None = '5e4c1b9a7d20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')


def upgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.alter_column('account', existing_type=sa.String(length=128), type_=sa.String(length=512),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('group_ref', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('client', _JSON, nullable=True))
        batch_op.create_index('ix_payment_group_ref', ['group_ref'], unique=False,
                              postgresql_where=sa.text('group_ref IS NOT NULL'),
                              sqlite_where=sa.text('group_ref IS NOT NULL'))
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.add_column(sa.Column('settled_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('payment_account', schema=None) as batch_op:
        batch_op.alter_column('auth_token', existing_type=sa.String(length=128), type_=sa.String(length=512),
                              existing_nullable=True)
        batch_op.add_column(sa.Column('refresh_token', sa.String(length=512), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment_account', schema=None) as batch_op:
        batch_op.drop_column('refresh_token')
        batch_op.alter_column('auth_token', existing_type=sa.String(length=512), type_=sa.String(length=128),
                              existing_nullable=True)
    with op.batch_alter_table('refund', schema=None) as batch_op:
        batch_op.drop_column('settled_at')
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_group_ref', postgresql_where=sa.text('group_ref IS NOT NULL'),
                            sqlite_where=sa.text('group_ref IS NOT NULL'))
        batch_op.drop_column('client')
        batch_op.drop_column('group_ref')
        batch_op.alter_column('account', existing_type=sa.String(length=512), type_=sa.String(length=128),
                              existing_nullable=True)
