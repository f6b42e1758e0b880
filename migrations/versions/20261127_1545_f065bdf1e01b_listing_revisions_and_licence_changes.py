"""listing revisions (what each order line was sold under) and seller licence change requests

Revision ID: f065bdf1e01b
Revises: 92a2cbc3e176
Create Date: 2026-11-27 15:45:00

Every existing product gets revision 1, built from its current data (the same content and hash as
app/catalog/revisions.py). Listing revisions are append-only: the database refuses to change them
(and, on PostgreSQL, to delete them).
"""
import hashlib
import json
import secrets
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = 'f065bdf1e01b'
down_revision: str | None = '92a2cbc3e176'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql')
BACKFILL_BATCH = 1000

# TRUNCATE (used by the test suite between tests) is not a row operation and still works on PostgreSQL;
# SQLite only refuses updates, as for the audit log, since the test suite empties its tables with DELETE.
PG_APPEND_ONLY = ("""
CREATE FUNCTION listing_revision_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'listing_revision is append-only';
END $$
""", """
CREATE TRIGGER listing_revision_append_only BEFORE UPDATE OR DELETE ON listing_revision
    FOR EACH ROW EXECUTE FUNCTION listing_revision_append_only()
""")
SQLITE_APPEND_ONLY = """
CREATE TRIGGER listing_revision_no_update BEFORE UPDATE ON listing_revision
BEGIN
    SELECT RAISE(ABORT, 'listing_revision is append-only');
END
"""

_product = sa.table('product', sa.column('id', sa.String), sa.column('merchant_id', sa.String),
                    sa.column('title', sa.String), sa.column('description', sa.Text),
                    sa.column('category', sa.String), sa.column('updated_at', sa.DateTime(timezone=True)),
                    sa.column('current_revision_id', sa.String))
_variant = sa.table('variant', sa.column('id', sa.String), sa.column('product_id', sa.String),
                    sa.column('sku', sa.String), sa.column('price', sa.Integer), sa.column('currency', sa.String),
                    sa.column('attributes', JSON), sa.column('wholesale', sa.Boolean), sa.column('moq', sa.Integer),
                    sa.column('pack_size', sa.Integer))
_tier = sa.table('price_tier', sa.column('variant_id', sa.String), sa.column('min_qty', sa.Integer),
                 sa.column('unit_price', sa.Integer))
_merchant = sa.table('merchant', sa.column('id', sa.String), sa.column('name', sa.String))
_category = sa.table('category', sa.column('slug', sa.String), sa.column('returnable', sa.Boolean))
_revision = sa.table('listing_revision', sa.column('id', sa.String), sa.column('product_id', sa.String),
                     sa.column('merchant_id', sa.String), sa.column('revision', sa.Integer),
                     sa.column('content', JSON), sa.column('content_hash', sa.String),
                     sa.column('created_at', sa.DateTime(timezone=True)))


def _content(p: Any, merchant_name: str, returnable: bool, return_terms: tuple[str, str | None], variants: list[Any],
             tiers: dict[str, list[dict[str, int]]]) -> dict[str, Any]:
    return {
        "version": 1,
        "title": p.title,
        "description": p.description,
        "category": p.category,
        "merchant": {"id": p.merchant_id, "name": merchant_name},
        "after_sales": {"category_returnable": bool(returnable), "return_class": return_terms[0],
                        "return_reason": return_terms[1]},
        "variants": [{
            "id": v.id, "sku": v.sku, "price": v.price, "currency": v.currency,
            "attributes": dict(v.attributes or {}),
            "wholesale": ({"moq": v.moq, "pack_size": v.pack_size, "tiers": tiers[v.id]} if v.wholesale else None),
        } for v in variants],
    }


def _hash(content: dict[str, Any]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _backfill() -> None:
    bind = op.get_bind()
    # The return class columns come with another branch of migrations that may run before or after this one;
    # products that predate them are `standard` without a reason.
    has_return_class = "return_class" in {c["name"] for c in sa.inspect(bind).get_columns("product")}
    return_class = sa.column('return_class', sa.String) if has_return_class else sa.literal("standard")
    return_reason = sa.column('return_reason', sa.String) if has_return_class else sa.null()
    last = ""
    while True:
        rows = bind.execute(
            sa.select(_product.c.id, _product.c.merchant_id, _product.c.title, _product.c.description,
                      _product.c.category, _product.c.updated_at, _merchant.c.name, _category.c.returnable,
                      return_class.label('return_class'), return_reason.label('return_reason'))
            .select_from(_product).join(_merchant, _merchant.c.id == _product.c.merchant_id)
            .join(_category, _category.c.slug == _product.c.category)
            .where(_product.c.id > last).order_by(_product.c.id).limit(BACKFILL_BATCH)).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        variants: dict[str, list[Any]] = defaultdict(list)
        for v in bind.execute(sa.select(_variant).where(_variant.c.product_id.in_(ids))
                              .order_by(_variant.c.product_id, _variant.c.id)).all():
            variants[v.product_id].append(v)
        tiers: dict[str, list[dict[str, int]]] = defaultdict(list)
        wholesale = [v.id for vs in variants.values() for v in vs if v.wholesale]
        if wholesale:
            for t in bind.execute(sa.select(_tier).where(_tier.c.variant_id.in_(wholesale))
                                  .order_by(_tier.c.variant_id, _tier.c.min_qty)).all():
                tiers[t.variant_id].append({"min_qty": t.min_qty, "unit_price": t.unit_price})
        revisions = []
        for p in rows:
            content = _content(p, p.name, p.returnable, (p.return_class or "standard", p.return_reason),
                               variants[p.id], tiers)
            revisions.append({"id": "lrv_" + secrets.token_hex(13), "product_id": p.id, "merchant_id": p.merchant_id,
                              "revision": 1, "content": content, "content_hash": _hash(content),
                              "created_at": p.updated_at})
        bind.execute(_revision.insert(), revisions)
        bind.execute(_product.update().where(_product.c.id == sa.bindparam('b_id'))
                     .values(current_revision_id=sa.bindparam('b_rev')),
                     [{"b_id": r["product_id"], "b_rev": r["id"]} for r in revisions])
        last = ids[-1]


def upgrade() -> None:
    op.create_table('listing_revision',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('product_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('content', JSON, nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_listing_revision_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_listing_revision_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_listing_revision')),
    sa.UniqueConstraint('product_id', 'revision', name=op.f('uq_listing_revision_product_id_revision'))
    )
    with op.batch_alter_table('listing_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_listing_revision_merchant_id'), ['merchant_id'], unique=False)
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('current_revision_id', sa.String(length=40), nullable=True))
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.add_column(sa.Column('listing_revision_id', sa.String(length=40), nullable=True))
    op.create_table('licence_change',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('changes', JSON, nullable=False),
    sa.Column('previous', JSON, nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('submitted_by', sa.String(length=60), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_by', sa.String(length=60), nullable=True),
    sa.Column('decision_reason', sa.String(length=500), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_licence_change_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licence_change'))
    )
    with op.batch_alter_table('licence_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_licence_change_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_licence_change_status_id', ['status', 'id'], unique=False)
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_APPEND_ONLY:
            op.execute(statement)
    else:
        op.execute(SQLITE_APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS listing_revision_append_only ON listing_revision")
        op.execute("DROP FUNCTION IF EXISTS listing_revision_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS listing_revision_no_update")
    with op.batch_alter_table('licence_change', schema=None) as batch_op:
        batch_op.drop_index('ix_licence_change_status_id')
        batch_op.drop_index(batch_op.f('ix_licence_change_merchant_id'))
    op.drop_table('licence_change')
    with op.batch_alter_table('listing_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_listing_revision_merchant_id'))
    op.drop_table('listing_revision')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_column('listing_revision_id')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('current_revision_id')
