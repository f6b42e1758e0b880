"""Product options (颜色, 尺码 ... with their values); variants' barcode and weight

Revision ID: ecaf9949a85c
Revises: 380a77ffc7ff
Create Date: 2026-12-02 21:17:00.000000

Existing products get options read off their variants' attributes when every variant names the same
attributes (the rule of app/catalog/options.py `derive`, repeated here so the migration stays as written).
"""
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'ecaf9949a85c'
down_revision: str | None = '380a77ffc7ff'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _derive(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    if not rows or not rows[0]:
        return []
    names = list(rows[0])
    if len(names) > 3 or any(set(r) != set(names) for r in rows):
        return []
    values: dict[str, list[str]] = {n: [] for n in names}
    for r in rows:
        for n in names:
            if r[n] not in values[n]:
                values[n].append(r[n])
    return [{'name': n, 'values': values[n]} for n in names]


def upgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('options', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), server_default='[]', nullable=False))
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('barcode', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('weight', sa.Integer(), nullable=True))

    bind = op.get_bind()
    by_product: dict[str, list[dict[str, str]]] = {}
    for product_id, attributes in bind.execute(sa.text('SELECT product_id, attributes FROM variant ORDER BY product_id, id')):
        value = json.loads(attributes) if isinstance(attributes, str) else attributes
        by_product.setdefault(product_id, []).append(dict(value or {}))
    cast = 'CAST(:options AS jsonb)' if bind.dialect.name == 'postgresql' else ':options'
    updates = [{'id': pid, 'options': json.dumps(opts, ensure_ascii=False)}
               for pid, rows in by_product.items() if (opts := _derive(rows))]
    for start in range(0, len(updates), 1000):
        bind.execute(sa.text(f'UPDATE product SET options = {cast} WHERE id = :id'), updates[start:start + 1000])


def downgrade() -> None:
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.drop_column('weight')
        batch_op.drop_column('barcode')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('options')
