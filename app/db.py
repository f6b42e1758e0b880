"""Async engine, sessions and the declarative base; SQLite (WAL) and PostgreSQL share one code path."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Integer, MetaData, event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.base import Executable

NAMING = {
    "pk": "pk_%(table_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
}

# JSON documents: JSONB on PostgreSQL, JSON text on SQLite.
JSONType = JSON().with_variant(postgresql.JSONB(), "postgresql")
# Auto-increment big integers that SQLite also auto-increments (it only does so for INTEGER PRIMARY KEY).
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONType}


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, pool_size: int = 10, echo: bool = False) -> AsyncEngine:
    """Build the engine for `url`. SQLite gets WAL, a busy timeout and IMMEDIATE write transactions."""
    if is_sqlite_url(url):
        db_path = make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 60})
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=pool_size,
        max_overflow=2 * pool_size,
        pool_pre_ping=False,
        pool_recycle=1800,
        # Prepared statements keep PostgreSQL's default plan caching: the hot paths' statements (checkout,
        # reservation, idempotency) are planned once per connection instead of at every execution. Listing
        # and search statements opt out per transaction (`custom_plans`).
        connect_args={"server_settings": {"application_name": "liutong", "timezone": "UTC"}},
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    """Serialise SQLite writers up front.

    A deferred SQLite transaction that reads and then writes can fail with SQLITE_BUSY when another
    writer got there first, and the busy timeout cannot help. Every transaction therefore starts with
    BEGIN IMMEDIATE: writers queue on the busy timeout instead of failing, and a conditional UPDATE
    sees the latest committed row, which is what keeps reservations exact.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
        dbapi_conn.isolation_level = None  # let us emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session per unit of work; anything not committed is rolled back."""
    async with factory() as session:
        try:
            yield session
        finally:
            if session.in_transaction():
                await session.rollback()


def insert_ignore(session_dialect: str, table: Any, index_elements: list[str]) -> Any:
    """`INSERT ... ON CONFLICT (index_elements) DO NOTHING` for either database."""
    make = pg_insert if session_dialect == "postgresql" else sqlite_insert
    return make(table).on_conflict_do_nothing(index_elements=index_elements)


_CUSTOM_PLANS = text("SET LOCAL plan_cache_mode = force_custom_plan")


async def custom_plans(session: AsyncSession) -> None:
    """Plan this transaction's statements for their actual values (PostgreSQL).

    Search and listing statements are reused with very different parameters (a rare word, a common one,
    a category, none), and a cached generic plan is far slower for them than one made for the values at
    hand; a statement run with much the same parameters every time is better off with the cached plan.
    """
    if dialect_of(session) == "postgresql":
        await session.execute(_CUSTOM_PLANS)


def dialect_of(session: AsyncSession | Session) -> str:
    """"postgresql" or "sqlite": the few statements that differ between the two ask this."""
    return session.get_bind().dialect.name


async def run(session: AsyncSession, statement: Executable,
              params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None
              ) -> CursorResult[*tuple[Any, ...]]:
    """Execute a Core statement on the session's connection, in its transaction, without ORM processing.

    The hot paths (checkout, reservation, idempotency, the outbox) build their statements once, at import,
    with bind parameters, and run them here: no per-call statement construction, cache-key generation or
    ORM bulk-persistence bookkeeping, which is most of the CPU a small statement otherwise costs.
    """
    conn = await session.connection()
    return await conn.execute(statement, params)
