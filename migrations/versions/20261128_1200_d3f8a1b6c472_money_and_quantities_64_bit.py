"""Every money and quantity column is 64-bit

Revision ID: d3f8a1b6c472
Revises: c7a4e2f9d815
Create Date: 2026-11-28 12:00:00.000000

The API takes prices up to 10^12 fen and stock up to 10^9 units, but a variant's price, price tiers, buyer
prices, quoted prices, group-buy prices, stock levels, the ledger's quantities and a till's count of sales a
day were 32-bit on PostgreSQL: a price above 2^31 - 1 fen failed the request with "value out of int32 range".
They become BIGINT, like the order totals already are. SQLite's INTEGER is 64-bit whatever the declared type, so only PostgreSQL changes.

On PostgreSQL each table is rewritten once (all its columns in one ALTER TABLE) under an exclusive lock: on a
large `stock_movement` run it in a maintenance window.
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'd3f8a1b6c472'
down_revision: str | None = 'c7a4e2f9d815'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS: dict[str, tuple[str, ...]] = {
    'variant': ('price', 'moq', 'pack_size'),
    'price_tier': ('min_qty', 'unit_price'),
    'group_buy': ('price', 'min_quantity', 'max_quantity', 'joined_quantity', 'committed_quantity'),
    'group_buy_join': ('quantity',),
    'stock_level': ('on_hand', 'reserved', 'safety_stock'),
    'stock_conflict': ('shortfall',),
    'pos_sales_day': ('sales',),
    'stock_movement': ('on_hand_delta', 'reserved_delta', 'quantity'),
    'allocation': ('quantity',),
    'wholesale_buyer_price': ('min_qty', 'unit_price'),
    'wholesale_quote_line': ('quantity', 'unit_price'),
    'order_line': ('quantity', 'returned_quantity'),
    'cart_item': ('quantity',),
    'promotion': ('value',),
}


def _alter(type_: str) -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for table, columns in COLUMNS.items():
        changes = ', '.join(f'ALTER COLUMN {column} TYPE {type_}' for column in columns)
        op.execute(f'ALTER TABLE {table} {changes}')


def upgrade() -> None:
    _alter('bigint')


def downgrade() -> None:
    _alter('integer')  # fails if a value no longer fits, which is the point of going up
