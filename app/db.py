"""Async engine, sessions and the declarative base; SQLite (WAL) and PostgreSQL share one code path."""

from __future__ import annotations

import asyncio
import contextlib
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import starmap
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, cast

import asyncpg
from sqlalchemy import JSON, BigInteger, ColumnElement, Integer, MetaData, String, any_, bindparam, event, literal, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult, Dialect, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, QueryableAttribute, Session
from sqlalchemy.pool import ConnectionPoolEntry, NullPool
from sqlalchemy.sql.base import Executable
from sqlalchemy.types import TypeEngine

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


def binary_string(length: int) -> TypeEngine[str]:
    """Text compared byte by byte: identifiers and keys that are only looked up, never sorted for people.

    On PostgreSQL that is the "C" collation; a unique index over such a column compares with memcmp instead of
    the locale's strcoll, which is most of what inserting a row into it costs. SQLite compares bytes already.
    """
    return String(length).with_variant(String(length, collation="C"), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONType}


def is_sqlite_url(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, *, pool_size: int = 10, pool_timeout: float = 30.0, echo: bool = False) -> AsyncEngine:
    """Build the engine for `url`. SQLite gets WAL, a busy timeout and IMMEDIATE write transactions.

    On PostgreSQL the pool holds `pool_size` connections and never opens more: under a burst a request waits up to
    `pool_timeout` seconds for one to come free (then `sqlalchemy.exc.TimeoutError`, a 503) instead of opening
    connections the database may not have (`plan_pool` sizes it).
    """
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
        max_overflow=0,
        pool_timeout=pool_timeout,
        pool_pre_ping=False,
        pool_use_lifo=True,
        pool_recycle=1800,
        # Prepared statements keep PostgreSQL's default plan caching: the hot paths' statements (checkout,
        # reservation, idempotency) are planned once per connection instead of at every execution. Listing
        # and search statements opt out per transaction (`custom_plans`).
        connect_args={"server_settings": {"application_name": "liutong", "timezone": "UTC"}},
    )


# ---- pool sizing -----------------------------------------------------------------------------------------

DEFAULT_POOL_SIZE = 10  # per worker, when nothing sized it (an app built outside `shop serve`)
MAX_POOL_SIZE = 20  # per worker, when sized: one process on one core gains nothing from more


@dataclass(frozen=True, slots=True)
class PoolPlan:
    """Connections per worker, what the database allows this server, and what is wrong with that, if anything."""

    pool_size: int
    allowed: int | None  # connections this server may hold across its workers; None when unknown
    warning: str | None = None


def plan_pool(*, workers: int, requested: int | None, allowed: int | None) -> PoolPlan:
    """Each worker's pool: `requested` (SHOP_DB_POOL_SIZE) if set, else an equal share of `allowed`, at most
    MAX_POOL_SIZE and at least one. Warns when the workers' pools together cannot fit in `allowed`."""
    if allowed is None:
        return PoolPlan(requested or DEFAULT_POOL_SIZE, None)
    pool = requested or max(1, min(MAX_POOL_SIZE, allowed // workers))
    if workers * pool <= allowed:
        return PoolPlan(pool, allowed)
    return PoolPlan(pool, allowed, (
        f"{workers} workers x {pool} connections = {workers * pool}, but the database allows this server {allowed}: "
        "under load requests will wait for connections and may be answered 503, or be refused by the database; "
        "lower SHOP_DB_POOL_SIZE or --workers, or raise the database's max_connections"))


def usable_connections(limit: int) -> int:
    """Of the connections the database allows, what one server may take: a tenth (at least one) stays free for
    migrations, jobs run by hand, psql and monitoring."""
    return max(1, limit - max(1, limit // 10))


# The connections a session of this role may open in this database: the server's limit less its reserved slots,
# and the database's and the role's own limits (-1: none; superusers are held to neither).
_CONNECTION_LIMITS = text("""
SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int
         - coalesce(current_setting('reserved_connections', true)::int, 0) AS server,
       CASE WHEN r.rolsuper THEN -1 ELSE d.datconnlimit END AS database,
       CASE WHEN r.rolsuper THEN -1 ELSE r.rolconnlimit END AS role
FROM pg_database d, pg_roles r
WHERE d.datname = current_database() AND r.rolname = current_user
""")


async def connection_limit(url: str) -> int:
    """How many connections the database at `url` (PostgreSQL) lets this user open, by every limit it sets."""
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(_CONNECTION_LIMITS)).one()
    finally:
        await engine.dispose()
    return min(int(limit) for limit in (row.server, row.database, row.role) if limit >= 0)


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


@contextlib.asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One session per unit of work; anything not committed is rolled back."""
    session = factory()
    try:
        yield session
    finally:
        try:
            if session.in_transaction():
                await session.rollback()
        finally:
            # Closing forgets the session's objects (its connection went back with the commit or rollback).
            # SQLAlchemy shields a close in a task of its own, a large part of what a small request's session
            # costs; a unit that loaded no objects (the hot paths run Core statements) has nothing to close.
            if session.in_transaction() or session.sync_session.identity_map:
                await asyncio.shield(session.close())


DIALECTS = ("postgresql", "sqlite")
_T = TypeVar("_T")
BATCH = 500  # rows per statement: well inside SQLite's and asyncpg's bound-parameter limits


def in_batches(items: list[_T], size: int = BATCH) -> list[list[_T]]:
    """`items` in consecutive slices of at most `size`: the rows or keys of one statement each."""
    return [items[i:i + size] for i in range(0, len(items), size)]


def in_list(column: ColumnElement[Any] | QueryableAttribute[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """`column IN :name` in a statement built once (per dialect) that takes a list of any length: one array
    parameter on PostgreSQL (`= ANY`), planned once; an expanded list on SQLite."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))


def one_of(session: AsyncSession, column: QueryableAttribute[str], values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN values` for thousands of values: one array parameter on PostgreSQL (`= ANY(:array)`), which
    compiles and plans in constant time; an expanded IN on SQLite."""
    if dialect_of(session) == "postgresql":
        return column == any_(literal(list(values), postgresql.ARRAY(String)))
    return column.in_(list(values))


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


def sqlstate(exc: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE of a database error (the driver's error, or the one it wraps); None on SQLite."""
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return str(code) if code else None


def dialect_of(session: AsyncSession | Session) -> str:
    """"postgresql" or "sqlite": the few statements that differ between the two ask this."""
    return session.get_bind().dialect.name


class Rows(Protocol):
    """The rows of a statement run by `fetch`, `execute` or `finish` (attribute access by column name, tuple
    unpacking), read once; `unpacked(rows)` for unpacking only."""

    def all(self) -> Sequence[Any]: ...

    def first(self) -> Any | None: ...


def unpacked(rows: Rows) -> Sequence[Any]:
    """All of `rows`, to be unpacked or indexed by position only: asyncpg's records as they are, not made rows read
    by attribute (a big read skips making tens of thousands of them)."""
    return rows.records if isinstance(rows, _Buffered) else rows.all()


# ---- the hot statements ----------------------------------------------------------------------------------
#
# The few statements every checkout, token lookup and POS upload runs are built once, at import, with bind
# parameters, and run through `fetch`, `execute`, `execute_many` or `finish`. On PostgreSQL they go to asyncpg,
# the driver under SQLAlchemy, as SQL compiled once per statement: SQLAlchemy's execution machinery costs more
# CPU than the round trip to the database does (bench/checkout.py). On SQLite they run through the session.
#
# Transactions stay SQLAlchemy's: the session begins one with its first statement and `session.commit()` ends it.
# A hot statement runs in the transaction the connection has open (asyncpg tells whether it has one). What it
# does when none is open is what its function says:
#
#   fetch    a read: runs as a transaction of its own. Under READ COMMITTED a statement sees its own snapshot
#            anyway; reads before a unit's first write need no BEGIN and COMMIT.
#   execute  a write: begins the session's transaction (through SQLAlchemy) and runs in it.
#   finish   the unit's last write: runs as a transaction of its own, or in the open one, which it then commits.
#            Either way the unit of work is over when it returns.


async def fetch(session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None) -> Rows:
    """Run a read in the session's open transaction, or as a transaction of its own if none is open."""
    driver = await _driver(session)
    if driver is None:
        return await session.execute(statement, params)
    return await _on_driver(driver, session.get_bind().dialect, statement, params or {})


async def execute(session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None) -> Rows:
    """Run a write in the session's transaction (beginning it if none is open)."""
    driver = await _driver(session)
    if driver is None or not driver.is_in_transaction():
        return await session.execute(statement, params)  # SQLAlchemy begins the transaction, then runs it
    return await _on_driver(driver, session.get_bind().dialect, statement, params or {})


async def execute_many(session: AsyncSession, statement: Executable, rows: Sequence[Mapping[str, Any]]) -> None:
    """Run a write once per row (an executemany: rows of one shape, nothing returned) in the session's transaction."""
    if not rows:
        return
    driver = await _driver(session)
    if driver is None or not driver.is_in_transaction() or any(r.keys() != rows[0].keys() for r in rows):
        await session.execute(statement, rows)
        return
    form = driver_form(statement, session.get_bind().dialect, rows[0])
    if form.returns or form.expands:
        raise TypeError("execute_many runs statements without results or lists")
    await _guarded(form.sql, [form.bind(r) for r in rows], driver.executemany)


async def finish(session: AsyncSession, statement: Executable, params: Mapping[str, Any] | None = None) -> Rows:
    """Run the unit of work's last write and end the unit: in the open transaction, which is then committed, or,
    if none is open (PostgreSQL), as a transaction of its own, which saves the BEGIN and COMMIT round trips."""
    driver = await _driver(session)
    if driver is None or driver.is_in_transaction():
        result = cast(CursorResult[Any], await session.execute(statement, params))
        rows = _Buffered(list(result.all()) if result.returns_rows else [], as_is=True)
    else:
        rows = await _on_driver(driver, session.get_bind().dialect, statement, params or {})
    await session.commit()
    return rows


async def _driver(session: AsyncSession) -> Any | None:
    """The asyncpg connection under the session's connection (PostgreSQL), else None."""
    if dialect_of(session) != "postgresql":
        return None
    raw = await (await session.connection()).get_raw_connection()
    return raw.driver_connection


@dataclass(frozen=True, slots=True)
class DriverForm:
    """A statement as asyncpg runs it: SQL with $1, $2 ..., and what each position takes."""

    sql: str
    names: tuple[str, ...]  # the bind parameter of each position
    processors: tuple[Callable[[Any], Any] | None, ...]  # SQLAlchemy's conversion of each (JSON to text ...)
    returns: bool  # has result rows
    compiled: Any  # the compiled statement
    expands: bool  # has lists to expand (`IN :ids`), bound per call
    constants: dict[str, Any]  # the values of parameters the statement carries itself (`status == "active"`)
    expansions: dict[tuple[int, ...], tuple[str, tuple[tuple[str, int | None, Callable[[Any], Any] | None], ...]]] = (
        field(default_factory=dict))  # per length of each list: the SQL, and what each position takes

    def bind(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional arguments for these parameters (a statement without lists)."""
        if self.constants:
            params = {**self.constants, **params}
        return [params[n] if p is None else p(params[n]) for n, p in zip(self.names, self.processors, strict=True)]

    def bind_expanded(self, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and the positional arguments for these parameters, lists expanded (`IN ($1, $2, ...)`)."""
        if self.constants:
            params = {**self.constants, **params}
        lengths = tuple(len(params[b.key]) for b in self.compiled.post_compile_params)
        form = self.expansions.get(lengths)
        if form is None:  # compile IN ($1, $2, ...) for lists of these lengths
            state = self.compiled.construct_expanded_state(params)
            slots = []
            for name in state.positiontup:
                base, _, index = name.rpartition("_")
                item = (base, int(index) - 1) if name not in params and base in params else (name, None)
                slots.append((*item, state.processors.get(name)))
            form = (state.statement, tuple(slots))
            if sum(lengths) <= _CACHED_EXPANSIONS:
                self.expansions[lengths] = form
        sql, positions = form
        args = [params[name] if index is None else params[name][index] for name, index, _ in positions]
        return sql, [a if p is None else p(a) for a, (_, _, p) in zip(args, positions, strict=True)]


_CACHED_EXPANSIONS = 32  # lists up to this many values in all keep their compiled form (a checkout's few lines)
_forms: dict[tuple[int, tuple[str, ...] | None], tuple[Executable, DriverForm]] = {}


def driver_form(statement: Executable, dialect: Dialect, params: Mapping[str, Any]) -> DriverForm:
    """The statement compiled once for asyncpg (per set of columns, for an INSERT or UPDATE, which sets the columns
    it is given). TypeError if it needs SQLAlchemy when it runs: literal parameters, Python-side column defaults,
    or result columns SQLAlchemy would convert (strings, numbers, booleans, times and JSON pass as asyncpg
    decodes them)."""
    dml = bool(getattr(statement, "is_insert", False) or getattr(statement, "is_update", False))
    columns = tuple(sorted(params)) if dml else None
    key = (id(statement), columns)
    cached = _forms.get(key)
    if cached is not None and cached[0] is statement:
        return cached[1]
    compiled: Any = cast(Any, statement).compile(dialect=dialect, column_keys=list(columns) if columns else None)
    if compiled.literal_execute_params or compiled.insert_prefetch or compiled.update_prefetch:
        raise TypeError(f"not a statement for the driver (literal parameters or Python-side defaults): {statement}")
    results = tuple(getattr(statement, "exported_columns", ()) or ())
    converted = [c for c in results if c.type.dialect_impl(dialect).result_processor(dialect, None) is not None]
    if converted:
        raise TypeError(f"results SQLAlchemy would convert ({', '.join(str(c) for c in converted)}): {statement}")
    names = tuple(compiled.positiontup or ())
    returns = bool(results) or not (dml or getattr(statement, "is_delete", False))
    form = DriverForm(compiled.string, names,
                      tuple(compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names),
                      returns, compiled, bool(compiled.post_compile_params),
                      {n: b.effective_value for n, b in compiled.binds.items() if not b.required})
    _forms[key] = (statement, form)  # the statement is kept, so its id is never reused
    return form


@dataclass(frozen=True, slots=True)
class _Buffered:
    """Rows read in full: asyncpg's records (unpacked and indexed like tuples), made rows read by attribute, like
    SQLAlchemy's, when asked for."""

    records: list[Any]
    as_is: bool = False  # the records are SQLAlchemy's rows already

    def all(self) -> list[Any]:
        return self.records if self.as_is else _named(self.records)

    def first(self) -> Any | None:
        first = self.records[:1] if self.as_is else _named(self.records[:1])
        return first[0] if first else None


_row_types: dict[tuple[str, ...], type] = {}


def _named(records: list[Any]) -> list[Any]:
    """asyncpg's records as rows read by attribute (one namedtuple type per column list)."""
    if not records:
        return []
    keys = tuple(records[0].keys())
    row = _row_types.get(keys)
    if row is None:
        row = _row_types[keys] = namedtuple("Row", keys, rename=True)
    return list(starmap(row, records))


async def _on_driver(driver: Any, dialect: Dialect, statement: Executable, params: Mapping[str, Any]) -> _Buffered:
    form = driver_form(statement, dialect, params)
    sql, args = form.bind_expanded(params) if form.expands else (form.sql, form.bind(params))
    return _Buffered(await _guarded(sql, args, lambda q, a: driver.fetch(q, *a)))


async def _guarded(sql: str, args: Any, call: Callable[[str, Any], Any]) -> Any:
    """Run a driver call, raising what SQLAlchemy would for a database error (IntegrityError, DBAPIError)."""
    try:
        return await call(sql, args)
    except asyncpg.PostgresError as error:
        kind = IntegrityError if str(error.sqlstate or "").startswith("23") else DBAPIError
        raise kind(sql, args, error) from error
