"""POS events live in the stock ledger: one row per event instead of an event row plus a ledger row

Revision ID: 3f6b8d1e0a27
Revises: 7e3c9a2d4f61
Create Date: 2026-11-27 21:30:00.000000

A till's event was written twice: a `pos_event` row (what the till sent) and a `stock_movement` row (what it
moved), each with four indexes. Inserting an index entry is most of what storing an event costs, so:

* `stock_movement` gains what only `pos_event` held (`event_id`, `quantity`, `unit_price`, `amount`,
  `currency`); a count becomes a `pos_count` movement of 0 (its effect is in the `pos_fold` rows, as before).
  The ledger's unique `idempotency_key` (`pos:<merchant>:<event id>`) makes an event id apply once.
* Store sales per day for the channel-share report are summed as they arrive, per till, in `pos_sales_day`,
  instead of being read through an index on every event's time.
* `stock_movement`'s `merchant_id` index goes: only a whole-merchant ledger rebuild used it, and that reads
  the merchant's locations through the level index now.
* On PostgreSQL, `idempotency_key` and `event_id` compare bytes (collation "C"): a unique index on text
  otherwise compares with the locale's strcoll.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3f6b8d1e0a27'
down_revision: str | None = '7e3c9a2d4f61'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SHANGHAI_DAY = {'postgresql': "CAST(timezone('Asia/Shanghai', occurred_at) AS date)",
                 'sqlite': "date(occurred_at, '+8 hours')"}


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    binary = 'C' if dialect == 'postgresql' else None
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('event_id', sa.String(length=100, collation=binary), nullable=True))
        batch_op.add_column(sa.Column('quantity', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('unit_price', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('amount', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.drop_index('ix_stock_movement_merchant_id')
    if dialect == 'postgresql':
        op.execute('ALTER TABLE stock_movement ALTER COLUMN idempotency_key TYPE varchar(200) COLLATE "C"')

    op.execute("""
        UPDATE stock_movement SET event_id = p.event_id, quantity = p.quantity, unit_price = p.unit_price,
                                  amount = p.amount, currency = p.currency
          FROM pos_event p
         WHERE stock_movement.idempotency_key = 'pos:' || p.merchant_id || ':' || p.event_id""")
    op.execute("""
        INSERT INTO stock_movement (merchant_id, location_id, variant_id, kind, on_hand_delta, reserved_delta, source,
                                    idempotency_key, occurred_at, recorded_at, event_id, quantity, unit_price,
                                    amount, currency)
        SELECT merchant_id, location_id, variant_id, 'pos_count', 0, 0, 'pos:' || device_id,
               'pos:' || merchant_id || ':' || event_id, occurred_at, recorded_at, event_id, quantity, 0, 0, currency
          FROM pos_event WHERE type = 'count' ORDER BY id""")

    op.create_table('pos_sales_day',
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('units', sa.BigInteger(), nullable=False),
    sa.Column('sales', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('merchant_id', 'day', 'location_id', 'device_id', name=op.f('pk_pos_sales_day'))
    )
    op.create_index('ix_pos_sales_day_day', 'pos_sales_day', ['day'])
    op.execute(f"""
        INSERT INTO pos_sales_day (merchant_id, day, location_id, device_id, amount, units, sales)
        SELECT merchant_id, {_SHANGHAI_DAY[dialect]}, location_id, device_id, sum(amount), sum(quantity), count(*)
          FROM pos_event WHERE type = 'sale'
         GROUP BY merchant_id, {_SHANGHAI_DAY[dialect]}, location_id, device_id""")
    op.drop_table('pos_event')


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table('pos_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('device_id', sa.String(length=40), nullable=False),
    sa.Column('event_id', sa.String(length=100), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('on_hand_delta', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.BigInteger(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pos_event')),
    sa.UniqueConstraint('merchant_id', 'event_id', name=op.f('uq_pos_event_merchant_id_event_id'))
    )
    op.create_index('ix_pos_event_level', 'pos_event', ['location_id', 'variant_id', 'occurred_at'])
    op.create_index('ix_pos_event_merchant_id_occurred_at', 'pos_event', ['merchant_id', 'occurred_at'])
    op.execute("""
        INSERT INTO pos_event (merchant_id, location_id, variant_id, device_id, event_id, type, quantity, on_hand_delta,
                               unit_price, amount, currency, occurred_at, recorded_at)
        SELECT merchant_id, location_id, variant_id, substr(source, 5), event_id, substr(kind, 5), quantity,
               on_hand_delta, coalesce(unit_price, 0), coalesce(amount, 0), coalesce(currency, 'CNY'), occurred_at,
               recorded_at
          FROM stock_movement WHERE event_id IS NOT NULL ORDER BY id""")
    op.execute("DELETE FROM stock_movement WHERE kind = 'pos_count'")
    op.drop_table('pos_sales_day')
    if dialect == 'postgresql':
        op.execute('ALTER TABLE stock_movement ALTER COLUMN idempotency_key TYPE varchar(200) COLLATE "default"')
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index('ix_stock_movement_merchant_id', ['merchant_id'], unique=False)
        batch_op.drop_column('currency')
        batch_op.drop_column('amount')
        batch_op.drop_column('unit_price')
        batch_op.drop_column('quantity')
        batch_op.drop_column('event_id')
