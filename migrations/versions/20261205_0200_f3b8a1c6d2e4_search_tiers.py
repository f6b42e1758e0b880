"""Search by tiers: the title and the head (title, options, category, pinyin) as tsvectors of their own, and the
ranking signals' order as an index

Revision ID: f3b8a1c6d2e4
Revises: e1a4c7d2b905
Create Date: 2026-12-05 02:00:00.000000

A search's first page comes from the best tier that fills it: products whose title holds every term, then those
whose head does, then the rest (app/catalog/search/service.py). Each tier is read in the order of the ranking
signals (in stock, 30-day sales, newest): a common word's page from the top of that order (this btree), a rare
word's matches from the tier's own GIN index. SQLite reads its tiers from the FTS5 columns and gets the same
btree.
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'f3b8a1c6d2e4'
down_revision: str | None = 'e1a4c7d2b905'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TITLE_DOC = "to_tsvector('simple', title)"
_HEAD_DOC = "to_tsvector('simple', title || ' ' || extra || ' ' || pinyin)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        # One statement, so the table is rewritten once. The row keeps what ranking and the head tiers read
        # (ids, signals, title_doc, head_doc, uncompressed) and moves the long texts and `document` out of line:
        # a tier's matches are then a few rows per page, and their ids compare without being fetched.
        op.execute(f"""ALTER TABLE product_search
            SET (toast_tuple_target = 1024),
            ALTER COLUMN product_id SET STORAGE PLAIN,
            ALTER COLUMN merchant_id SET STORAGE PLAIN,
            ADD COLUMN title_doc tsvector GENERATED ALWAYS AS ({_TITLE_DOC}) STORED,
            ADD COLUMN head_doc tsvector GENERATED ALWAYS AS ({_HEAD_DOC}) STORED,
            ALTER COLUMN title_doc SET STORAGE MAIN,
            ALTER COLUMN head_doc SET STORAGE MAIN""")
        op.execute("CREATE INDEX ix_product_search_title_doc ON product_search USING gin (title_doc)")
        op.execute("CREATE INDEX ix_product_search_head_doc ON product_search USING gin (head_doc)")
    op.execute("CREATE INDEX ix_product_search_rank ON product_search (in_stock DESC, sales_30d DESC, "
               "product_id DESC)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_product_search_rank")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_product_search_head_doc")
        op.execute("DROP INDEX ix_product_search_title_doc")
        op.execute("ALTER TABLE product_search DROP COLUMN head_doc, DROP COLUMN title_doc, "
                   "ALTER COLUMN product_id SET STORAGE EXTENDED, ALTER COLUMN merchant_id SET STORAGE EXTENDED, "
                   "RESET (toast_tuple_target)")
