"""Merchant payment accounts, payment discrepancies, reconciliation runs; a payment's account

Revision ID: a7c3e91b5d20
Revises: 38a1445308d7
Create Date: 2026-12-03 08:00:00.000000

Alipay and WeChat Pay pay each merchant's own account (service-provider mode): `payment_account` holds it per
merchant and provider, `payment.account` the one a payment went to. `payment_discrepancy` keeps the provider
notifications whose amount differs from ours; `reconciliation_run` each comparison with a daily statement.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'a7c3e91b5d20'
down_revision: str | None = '38a1445308d7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

def upgrade() -> None:
    op.create_table('payment_account',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('sub_merchant_id', sa.String(length=64), nullable=False),
    sa.Column('auth_token', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_payment_account_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_account')),
    sa.UniqueConstraint('merchant_id', 'provider', name=op.f('uq_payment_account_merchant_id_provider'))
    )
    op.create_table('payment_discrepancy',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('event_id', sa.String(length=120), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=True),
    sa.Column('provider_ref', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('expected', sa.BigInteger(), nullable=True),
    sa.Column('received', sa.BigInteger(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_discrepancy')),
    sa.UniqueConstraint('provider', 'event_id', name=op.f('uq_payment_discrepancy_provider_event_id'))
    )
    op.create_table('reconciliation_run',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('statement_lines', sa.Integer(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('findings', sa.JSON().with_variant(postgresql.JSONB(), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_run'))
    )
    with op.batch_alter_table('reconciliation_run', schema=None) as batch_op:
        batch_op.create_index('ix_reconciliation_run_provider_created_at', ['provider', 'created_at'], unique=False)
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('payment', schema=None) as batch_op:
        batch_op.drop_column('account')
    with op.batch_alter_table('reconciliation_run', schema=None) as batch_op:
        batch_op.drop_index('ix_reconciliation_run_provider_created_at')
    op.drop_table('reconciliation_run')
    op.drop_table('payment_discrepancy')
    op.drop_table('payment_account')
