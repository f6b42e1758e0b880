"""Orders lose the index on `checkout_id`, which no query reads

Revision ID: b5e1d7c3a902
Revises: 8d2c4e6a1b93
Create Date: 2026-11-28 00:40:00.000000

Every order carries the id of the checkout that placed it (a record of which orders were bought together),
but nothing looks orders up by it: payments find their orders by `payment_id`. The index cost every order
an insertion.
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'b5e1d7c3a902'
down_revision: str | None = '8d2c4e6a1b93'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.drop_index('ix_sales_order_checkout_id')


def downgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        batch_op.create_index('ix_sales_order_checkout_id', ['checkout_id'], unique=False)
