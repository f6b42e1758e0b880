"""The schema the migrations build is the one the models describe, on both databases."""

from __future__ import annotations

import re
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, Index, text

from app.catalog.search import models as search_models
from app.db import Base, make_engine


def _partial_indexes(dialect: str) -> dict[str, str]:
    """Name → WHERE clause of every model index that is partial on `dialect`."""
    found: dict[str, str] = {}
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where: Any = index.dialect_options[dialect]["where"]
            if where is not None:
                found[_name(index)] = str(where)
    return found


def _name(index: Index) -> str:
    assert index.name is not None
    return str(index.name)


def _elsewhere(dialect: str) -> set[str]:
    """Indexes the models build on another database only (`ddl_if`)."""
    return {_name(index) for table in Base.metadata.tables.values() for index in table.indexes
            if (only := getattr(index, "_ddl_if", None)) is not None and only.dialect not in (None, dialect)}


def _plain(clause: str) -> str:
    """A WHERE clause without the casts and parentheses PostgreSQL adds when it prints one back."""
    return " ".join(re.sub(r"::\w+(?: varying)?|[()]", "", clause).split())


def _database_only(diff: Any) -> bool:
    """The search index's parts that live in the database only (app/catalog/search/models.py)."""
    if diff[0] == "remove_table":
        return str(diff[1].name) in search_models.DATABASE_ONLY_TABLES
    if diff[0] == "remove_column":
        return (diff[2], diff[3].name) in search_models.DATABASE_ONLY_COLUMNS
    if diff[0] == "remove_index":
        return str(diff[1].name) in search_models.DATABASE_ONLY_INDEXES
    return False


async def test_migrations_build_the_models_schema(db_url: str) -> None:
    engine = make_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            dialect = conn.dialect.name
            elsewhere = _elsewhere(dialect)

            def differences(sync: Connection) -> list[Any]:
                return [d for d in compare_metadata(MigrationContext.configure(sync), Base.metadata)
                        if not (d[0] in ("add_index", "remove_index") and d[1].name in elsewhere)
                        and not _database_only(d)]

            assert await conn.run_sync(differences) == []
            # Alembic does not compare an index's WHERE clause: a partial index must be partial in the database.
            if dialect == "postgresql":
                rows = (await conn.execute(text(
                    "SELECT c.relname, pg_get_expr(i.indpred, i.indrelid) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indpred IS NOT NULL"))).all()
            else:
                rows = (await conn.execute(text(
                    "SELECT name, substr(sql, instr(sql, ' WHERE ') + 7) FROM sqlite_master "
                    "WHERE type = 'index' AND sql LIKE '% WHERE %'"))).all()
    finally:
        await engine.dispose()
    wanted = {name: _plain(where) for name, where in _partial_indexes(dialect).items()}
    assert "ix_sales_order_customer_id_id" in wanted
    assert {name: _plain(where) for name, where in rows} == wanted


async def test_idempotency_answers_are_compressed_with_lz4(db_url: str, pg_only: None) -> None:
    engine = make_engine(db_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            compression = (await conn.execute(text(
                "SELECT attcompression FROM pg_attribute WHERE attrelid = 'idempotency_key'::regclass "
                "AND attname = 'response_body'"))).scalar_one()
    finally:
        await engine.dispose()
    assert compression in ("l", b"l")  # a "char": asyncpg reads it as bytes
