"""Orders index their customer, buyer, payment and hold only where one is set

Revision ID: c7a4e2f9d815
Revises: b5e1d7c3a902
Create Date: 2026-11-28 02:30:00.000000

A guest's cash-on-delivery order has no customer, no business buyer, no payment row and no payment hold,
yet it wrote an entry for NULL into each of these four indexes. Every query that reads them compares the
column (`customer_id = ...`, `buyer_id IN (...)`, `hold_expires_at <= ...`), which implies it is set, so
partial indexes serve the same queries and such an order writes three index entries instead of seven.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c7a4e2f9d815'
down_revision: str | None = 'b5e1d7c3a902'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_INDEXES = (
    ('ix_sales_order_customer_id_id', ['customer_id', 'id'], 'customer_id'),
    ('ix_sales_order_buyer_id', ['buyer_id'], 'buyer_id'),
    ('ix_sales_order_payment_id', ['payment_id'], 'payment_id'),
    ('ix_sales_order_hold', ['status', 'hold_expires_at'], 'hold_expires_at'),
)


def upgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        for name, columns, when in _INDEXES:
            where = sa.text(f'{when} IS NOT NULL')
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, unique=False, postgresql_where=where, sqlite_where=where)


def downgrade() -> None:
    with op.batch_alter_table('sales_order', schema=None) as batch_op:
        for name, columns, _ in _INDEXES:
            batch_op.drop_index(name)
            batch_op.create_index(name, columns, unique=False)
