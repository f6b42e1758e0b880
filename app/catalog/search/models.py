"""Search tables: a product's tokens and ranking signals, merchants' synonyms and dictionary words, the
vocabulary suggestions come from, and the queries that found nothing.

The full-text index itself lives beside `product_search` in the database only (the migrations make it):
on PostgreSQL the generated tsvector columns `document` (everything), `head_doc` (title, options, category,
pinyin) and `title_doc` with their GIN indexes, on SQLite the FTS5 table `product_fts` whose content is
`product_search` (kept current by triggers); on both, the btree `ix_product_search_rank` in ranking order
(descending keys, which the model's index declarations do not compare well). PostgreSQL also stamps every
written row of `product` and `product_search` with its transaction's id (`changed_xid`, set by a trigger and
indexed): what each process's copy of the index catches up with (app/catalog/search/live.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base, BigIntPK, JSONType

# Objects the migration makes that no model describes (see tests/test_schema.py).
DATABASE_ONLY_TABLES = ("product_fts", "product_fts_data", "product_fts_idx", "product_fts_docsize",
                        "product_fts_config")
DATABASE_ONLY_COLUMNS = (("product_search", "document"), ("product_search", "title_doc"),
                         ("product_search", "head_doc"), ("product_search", "changed_xid"),
                         ("product", "changed_xid"))
DATABASE_ONLY_INDEXES = ("ix_product_search_document", "ix_product_search_title_doc", "ix_product_search_head_doc",
                         "ix_product_search_rank", "ix_search_term_term_trgm", "ix_search_term_pinyin_trgm",
                         "ix_product_search_changed_xid", "ix_product_changed_xid")


class ProductSearch(Base):
    """One row per product: its tokens by weight (app/catalog/search/text.py `Document`) and what ranks it."""

    __tablename__ = "product_search"

    # An integer key: SQLite's FTS5 index refers to its content rows by rowid.
    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"), unique=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text, default="")
    extra: Mapped[str] = mapped_column(Text, default="")
    pinyin: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
    grams: Mapped[str] = mapped_column(Text, default="")
    min_price: Mapped[int] = mapped_column(Int64, default=0)
    # Ranking signals, refreshed by the `search_signals` job: any stock to sell online, units sold in 30 days.
    in_stock: Mapped[bool] = mapped_column(Boolean, default=False)
    sales_30d: Mapped[int] = mapped_column(Int64, default=0)


class SearchSynonym(Base):
    """One member of a merchant's synonym group, keyed for look-up; `terms` is the whole group."""

    __tablename__ = "search_synonym"
    __table_args__ = (Index("ix_search_synonym_key", "key"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    group_no: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(40))
    terms: Mapped[list[str]] = mapped_column(JSONType)


class SearchDictionaryWord(Base):
    """A merchant's own word (a brand, a product name) that segmentation keeps whole."""

    __tablename__ = "search_dictionary_word"
    __table_args__ = (Index("ix_search_dictionary_word_word", "word"),)  # searches look words up across merchants

    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), primary_key=True)
    word: Mapped[str] = mapped_column(String(40), primary_key=True)


class SearchTerm(Base):
    """A word of some product's title, with its pinyin: what suggestions and "did you mean" offer."""

    __tablename__ = "search_term"
    __table_args__ = (
        Index("ix_search_term_pinyin", "pinyin", postgresql_ops={"pinyin": "text_pattern_ops"}),
        Index("ix_search_term_initials", "initials", postgresql_ops={"initials": "text_pattern_ops"}),
        Index("ix_search_term_term_prefix", "term", postgresql_ops={"term": "text_pattern_ops"}),
    )

    term: Mapped[str] = mapped_column(String(40), primary_key=True)
    pinyin: Mapped[str] = mapped_column(String(160), default="")
    initials: Mapped[str] = mapped_column(String(40), default="")
    products: Mapped[int] = mapped_column(BigInteger, default=0)  # listings that brought it (never decreases)


class SearchMiss(Base):
    """A query that found nothing: how often and when last, for the operator's list."""

    __tablename__ = "search_miss"

    query: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    first_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
