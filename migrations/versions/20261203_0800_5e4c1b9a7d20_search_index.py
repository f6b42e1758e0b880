"""Search by words: product_search with a tsvector (PostgreSQL) or FTS5 (SQLite); the n-gram index goes

Revision ID: 5e4c1b9a7d20
Revises: b5e2d7a9c413
Create Date: 2026-12-03 08:00:00.000000

The hand-made index (product.search_text, confirmed by LIKE, and product.search_tokens with its GIN index) is
dropped. Each product gets a product_search row holding its tokens by weight (app/catalog/search/text.py);
PostgreSQL indexes them as a generated, weighted tsvector with a GIN index and uses pg_trgm for "did you mean";
SQLite indexes them with an FTS5 table whose content is product_search, kept current by triggers. Existing
products are indexed here.
"""
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '5e4c1b9a7d20'
down_revision: str | None = 'b5e2d7a9c413'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
_DOCUMENT = ("setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', extra), 'B') || "
             "setweight(to_tsvector('simple', pinyin), 'B') || setweight(to_tsvector('simple', body), 'C') || "
             "setweight(to_tsvector('simple', grams), 'D')")


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.create_table('product_search',
    sa.Column('id', _BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('product_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('extra', sa.Text(), nullable=False),
    sa.Column('pinyin', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('grams', sa.Text(), nullable=False),
    sa.Column('min_price', sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.Column('in_stock', sa.Boolean(), nullable=False),
    sa.Column('sales_30d', sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_product_search_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product_search')),
    sa.UniqueConstraint('product_id', name=op.f('uq_product_search_product_id')),
    )
    op.create_table('search_synonym',
    sa.Column('id', _BIGINT_PK, autoincrement=True, nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('group_no', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('terms', _JSON, nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_search_synonym_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_search_synonym')),
    )
    op.create_index('ix_search_synonym_key', 'search_synonym', ['key'])
    op.create_index(op.f('ix_search_synonym_merchant_id'), 'search_synonym', ['merchant_id'])
    op.create_table('search_dictionary_word',
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('word', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'],
                            name=op.f('fk_search_dictionary_word_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('merchant_id', 'word', name=op.f('pk_search_dictionary_word')),
    )
    op.create_index('ix_search_dictionary_word_word', 'search_dictionary_word', ['word'])
    op.create_table('search_term',
    sa.Column('term', sa.String(length=40), nullable=False),
    sa.Column('pinyin', sa.String(length=160), nullable=False),
    sa.Column('initials', sa.String(length=40), nullable=False),
    sa.Column('products', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('term', name=op.f('pk_search_term')),
    )
    op.create_index('ix_search_term_pinyin', 'search_term', ['pinyin'], postgresql_ops={'pinyin': 'text_pattern_ops'})
    op.create_index('ix_search_term_initials', 'search_term', ['initials'],
                    postgresql_ops={'initials': 'text_pattern_ops'})
    op.create_index('ix_search_term_term_prefix', 'search_term', ['term'], postgresql_ops={'term': 'text_pattern_ops'})
    op.create_table('search_miss',
    sa.Column('query', sa.String(length=200), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.Column('first_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('query', name=op.f('pk_search_miss')),
    )
    op.create_index(op.f('ix_search_miss_last_at'), 'search_miss', ['last_at'])
    op.create_index('ix_variant_sku', 'variant', ['sku'])
    op.create_index('ix_variant_barcode', 'variant', ['barcode'])

    if pg:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"ALTER TABLE product_search ADD COLUMN document tsvector GENERATED ALWAYS AS ({_DOCUMENT}) STORED")
        op.execute("CREATE INDEX ix_product_search_document ON product_search USING gin (document)")
        op.execute("CREATE INDEX ix_search_term_term_trgm ON search_term USING gin (term gin_trgm_ops)")
        op.execute("CREATE INDEX ix_search_term_pinyin_trgm ON search_term USING gin (pinyin gin_trgm_ops)")
        op.drop_index("ix_product_search_tokens", table_name="product")
    else:
        # External-content FTS5: the index reads its text from product_search; the triggers keep it current.
        op.execute("CREATE VIRTUAL TABLE product_fts USING fts5(title, extra, pinyin, body, grams, "
                   "content='product_search', content_rowid='id', tokenize='unicode61 remove_diacritics 0')")
        cols = "title, extra, pinyin, body, grams"
        new = "new.title, new.extra, new.pinyin, new.body, new.grams"
        old = "old.title, old.extra, old.pinyin, old.body, old.grams"
        op.execute(f"CREATE TRIGGER product_search_ai AFTER INSERT ON product_search BEGIN "
                   f"INSERT INTO product_fts(rowid, {cols}) VALUES (new.id, {new}); END")
        op.execute(f"CREATE TRIGGER product_search_ad AFTER DELETE ON product_search BEGIN "
                   f"INSERT INTO product_fts(product_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); END")
        op.execute(f"CREATE TRIGGER product_search_au AFTER UPDATE OF {cols} ON product_search BEGIN "
                   f"INSERT INTO product_fts(product_fts, rowid, {cols}) VALUES ('delete', old.id, {old}); "
                   f"INSERT INTO product_fts(rowid, {cols}) VALUES (new.id, {new}); END")
    # In place on SQLite too (3.35+): a batch rebuild of product would drop a table other tables refer to.
    op.execute("ALTER TABLE product DROP COLUMN search_tokens")
    op.execute("ALTER TABLE product DROP COLUMN search_text")
    _index_existing_products()


def _index_existing_products() -> None:
    from app.catalog.search import text

    bind = op.get_bind()
    categories = {r.slug: (r.name_zh, r.name_en) for r in bind.execute(sa.text(
        "SELECT slug, name_zh, name_en FROM category"))}
    insert = sa.text("INSERT INTO product_search (product_id, merchant_id, title, extra, pinyin, body, grams, "
                     "min_price, in_stock, sales_30d) VALUES (:product_id, :merchant_id, :title, :extra, :pinyin, "
                     ":body, :grams, :min_price, false, 0)")
    last = ""
    while True:
        product = sa.table("product", sa.column("id"), sa.column("merchant_id"), sa.column("title"),
                           sa.column("description"), sa.column("category"), sa.column("options", sa.JSON))
        rows = bind.execute(sa.select(product).where(product.c.id > last).order_by(product.c.id).limit(1000)).all()
        if not rows:
            return
        ids = [r.id for r in rows]
        variants: dict[str, list[Any]] = {}
        for v in bind.execute(sa.select(sa.column("product_id"), sa.column("price"),
                                        sa.column("attributes", sa.JSON)).select_from(sa.table("variant"))
                              .where(sa.column("product_id").in_(ids))):
            variants.setdefault(v.product_id, []).append(v)
        out = []
        for r in rows:
            options = r.options or []
            extra = list(categories.get(r.category, ()))
            for option in options:
                extra += [str(option.get("name", "")), *map(str, option.get("values", []))]
            for v in variants.get(r.id, []):
                extra += [str(x) for x in (v.attributes or {}).values()]
            doc = text.document(title=r.title, description=r.description, extra=dict.fromkeys(extra))
            prices = [v.price for v in variants.get(r.id, [])]
            out.append({"product_id": r.id, "merchant_id": r.merchant_id, "title": doc.title, "extra": doc.extra,
                        "pinyin": doc.pinyin, "body": doc.body, "grams": doc.grams,
                        "min_price": min(prices) if prices else 0})
        bind.execute(insert, out)
        last = ids[-1]


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.add_column('product', sa.Column('search_text', sa.Text(), nullable=False, server_default=""))
    op.add_column('product', sa.Column('search_tokens', postgresql.ARRAY(sa.Text()).with_variant(sa.JSON(), 'sqlite'),
                                       nullable=True))
    if pg:
        op.create_index("ix_product_search_tokens", "product", ["search_tokens"], postgresql_using="gin")
    else:
        for trigger in ("product_search_ai", "product_search_ad", "product_search_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS product_fts")
    op.drop_index('ix_variant_barcode', table_name='variant')
    op.drop_index('ix_variant_sku', table_name='variant')
    op.drop_table('search_miss')
    op.drop_table('search_term')
    op.drop_table('search_dictionary_word')
    op.drop_table('search_synonym')
    op.drop_table('product_search')
