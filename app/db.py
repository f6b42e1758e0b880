"""Async engine, sessions and the declarative base; SQLite (WAL) and PostgreSQL share one code path."""

from __future__ import annotations

import asyncio
import contextlib
from collections import namedtuple
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, cast

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Integer, MetaData, String, event, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.sqltypes import NullType
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
            # SQLAlchemy shields a close in a task of its own, about a third of what a checkout's session
            # costs; a unit that loaded no objects (the hot paths run Core statements) has nothing to close.
            if session.in_transaction() or session.sync_session.identity_map:
                await asyncio.shield(session.close())


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


class Rows(Protocol):
    """What `run` returns: the rows of a statement (attribute access by column name, tuple unpacking)."""

    def all(self) -> Sequence[Any]: ...

    def first(self) -> Any | None: ...


_ALONE = "db.committed_alone"


async def run(session: AsyncSession, statement: Executable,
              params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None, *, alone: bool = False) -> Rows:
    """Execute a Core statement on the session's connection, in its transaction, without ORM processing.

    The hot paths (checkout, reservation, idempotency, POS uploads) build their statements once, at import,
    with bind parameters, and run them here: no per-call statement construction, cache-key generation or
    ORM bulk-persistence bookkeeping, which is most of the CPU a small statement otherwise costs.

    On PostgreSQL a statement that needs nothing from SQLAlchemy at run time (see `_driver_form`) goes
    straight to asyncpg, inside the same transaction: SQLAlchemy's execution machinery costs about 0.2 ms
    of CPU per statement, three times what the round trip to the database does.

    `alone`: if the unit of work has not begun its transaction yet, the statement runs as a transaction of its
    own (PostgreSQL, on that path), saving the BEGIN and COMMIT round trips. For a read that needs no snapshot
    shared with later statements (under READ COMMITTED it gets one of its own anyway), or for the last write
    of a unit that wrote nothing before it: that write commits at once, so a statement run after it in the
    same unit, except another such read, is an error (RuntimeError) until the session commits or rolls back.
    """
    if not alone:
        ensure_unit_open(session.sync_session)
    conn = await session.connection()
    if conn.dialect.name == "postgresql":
        if params is None or isinstance(params, Mapping):
            form = _driver_form(statement, conn.dialect, params or {})
            if form is not None:
                if alone:
                    return await _run_alone(session, conn, form, params or {})
                return await _run_on_driver(conn, form, [params or {}], many=False)
        elif params and all(p.keys() == params[0].keys() for p in params):  # rows of one shape, no results
            form = _driver_form(statement, conn.dialect, params[0])
            if form is not None and not form.returns and form.compiled is None:
                return await _run_on_driver(conn, form, params, many=True)
    return await conn.execute(statement, params)


@dataclass(frozen=True, slots=True)
class _DriverForm:
    sql: str  # with $1, $2... as asyncpg expects
    names: tuple[str, ...]  # the bind parameter of each position
    processors: tuple[Callable[[Any], Any] | None, ...]  # SQLAlchemy's conversion of each (JSON to text...)
    returns: bool  # has result rows
    compiled: Any  # for a statement with lists to expand (`IN :ids`), else None
    writes: bool  # anything but a plain SELECT (text, DML, SELECT ... FOR UPDATE): it may change or lock rows

    expanded: dict[tuple[int, ...], tuple[str, tuple[tuple[str, int | None, Callable[[Any], Any] | None], ...]]] = (
        field(default_factory=dict))  # per length of each list: the SQL, and what each position takes

    def bind(self, params: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and the positional arguments for these parameters."""
        if self.compiled is None:
            return self.sql, [params[n] if p is None else p(params[n])
                              for n, p in zip(self.names, self.processors, strict=True)]
        lists = self.compiled.post_compile_params
        lengths = tuple(len(params[b.key]) for b in lists)
        form = self.expanded.get(lengths)
        if form is None:  # compile IN ($1, $2, ...) for lists of these lengths, once
            state = self.compiled.construct_expanded_state(params)
            slots = []
            for name in state.positiontup:
                base, _, index = name.rpartition("_")
                item = (base, int(index) - 1) if name not in params and base in params else (name, None)
                slots.append((*item, state.processors.get(name)))
            form = (state.statement, tuple(slots))
            if sum(lengths) <= _CACHED_EXPANSIONS:
                self.expanded[lengths] = form
        sql, positions = form
        args = [params[name] if index is None else params[name][index] for name, index, _ in positions]
        return sql, [a if p is None else p(a) for a, (_, _, p) in zip(args, positions, strict=True)]


_CACHED_EXPANSIONS = 32  # lists up to this many values in all keep their compiled form (a checkout's few lines)

_driver_forms: dict[tuple[int, tuple[str, ...] | None], tuple[Executable, _DriverForm | None]] = {}


def _driver_form(statement: Executable, dialect: Dialect, params: Mapping[str, Any]) -> _DriverForm | None:
    """The statement compiled once for asyncpg, with SQLAlchemy's conversion of each parameter (IN lists are
    expanded per call, as SQLAlchemy does); or None if it needs SQLAlchemy when it runs: literal parameters,
    Python-side column defaults, or result columns SQLAlchemy would convert (plain strings, numbers,
    booleans, datetimes and JSON, which asyncpg decodes itself, pass as they are)."""
    dml = getattr(statement, "is_insert", False) or getattr(statement, "is_update", False)
    columns = tuple(sorted(params)) if dml else None  # an INSERT or UPDATE sets the columns it is given
    key = (id(statement), columns)
    cached = _driver_forms.get(key)
    if cached is not None and cached[0] is statement:
        return cached[1]
    compiled = cast(Any, statement).compile(dialect=dialect, column_keys=list(columns) if columns else None)
    names = tuple(compiled.positiontup or ())
    form: _DriverForm | None = _DriverForm(compiled.string, names,
                                           tuple(compiled._bind_processors.get(n) for n in names),
                                           bool(compiled._result_columns) or bool(compiled.returning)
                                           or not (dml or getattr(statement, "is_delete", False)),
                                           compiled if compiled.post_compile_params else None,
                                           not (getattr(statement, "is_select", False)
                                                and getattr(statement, "_for_update_arg", None) is None))
    if (compiled.literal_execute_params
            or getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None)
            or any(not isinstance(col[3], _PLAIN_RESULTS) or col[3]._cached_result_processor(dialect, None) is not None
                   for col in compiled._result_columns)):
        form = None
    _driver_forms[key] = (statement, form)  # the statement is kept, so its id is never reused
    return form


# Result types SQLAlchemy does not convert on asyncpg (it registers the JSON codecs, so asyncpg decodes JSON).
_PLAIN_RESULTS = (String, Integer, Boolean, DateTime, NullType, JSON)


_row_types: dict[tuple[str, ...], type] = {}


class _DriverRows:
    def __init__(self, records: list[Any]) -> None:
        if records:
            keys = tuple(records[0].keys())
            row = _row_types.get(keys)
            if row is None:
                row = _row_types[keys] = namedtuple("Row", keys, rename=True)
            self._rows: list[Any] = [row(*r) for r in records]
        else:
            self._rows = []

    def all(self) -> list[Any]:
        return self._rows

    def first(self) -> Any | None:
        return self._rows[0] if self._rows else None


async def _run_alone(session: AsyncSession, conn: AsyncConnection, form: _DriverForm,
                     params: Mapping[str, Any]) -> _DriverRows:
    adapter = cast(Any, (await conn.get_raw_connection()).dbapi_connection)
    if adapter._transaction is not None:  # the unit's transaction has begun: the statement is part of it
        return await _run_on_driver(conn, form, [params], many=False)
    rows = await _run_on_driver(conn, form, [params], many=False, begin=False)
    if form.writes:
        session.info[_ALONE] = True
    return rows


def wrote_nothing(session: AsyncSession) -> None:
    """The statement just run `alone` changed nothing (its own checks held it back): the unit of work may go on
    as if it had not run, in a transaction of its own if it writes after all."""
    session.info.pop(_ALONE, None)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _unit_over(session: Session) -> None:
    session.info.pop(_ALONE, None)


@event.listens_for(Session, "do_orm_execute")
def _nothing_after_alone(state: ORMExecuteState) -> None:
    ensure_unit_open(state.session)


@event.listens_for(Session, "before_flush")
def _no_flush_after_alone(session: Session, _context: Any, _instances: Any) -> None:
    ensure_unit_open(session)


def ensure_unit_open(session: Session) -> None:
    """Raise if the unit of work's last write committed alone (`run`'s `alone`): whatever would be written now
    could not commit with it. Writers at commit time (outbox events, change numbers) call this too."""
    if session.info.get(_ALONE):
        raise RuntimeError("a statement after the unit of work's last write, which has committed already")


async def _run_on_driver(conn: AsyncConnection, form: _DriverForm, params: Sequence[Mapping[str, Any]], *,
                         many: bool, begin: bool = True) -> _DriverRows:
    raw = await conn.get_raw_connection()
    adapter = cast(Any, raw.dbapi_connection)  # SQLAlchemy's asyncpg adapter: it owns the transaction
    driver = cast(Any, raw.driver_connection)
    if many:
        sql, args = form.sql, [form.bind(p)[1] for p in params]
    else:
        sql, args = form.bind(params[0])
    async with adapter._execute_mutex:
        if adapter._transaction is None and begin:  # BEGIN as SQLAlchemy itself would, on the first statement
            await adapter._start_transaction()
        try:
            if many:
                await driver.executemany(sql, args)
                return _DriverRows([])
            records = await driver.fetch(sql, *args)
        except Exception as error:  # the same exception SQLAlchemy would raise (IntegrityError, ...)
            try:
                adapter._handle_exception(error)
            except Exception as dbapi_error:
                raise DBAPIError.instance(sql, args, dbapi_error, conn.dialect.loaded_dbapi.Error,
                                          dialect=conn.dialect) from error
            raise
    return _DriverRows(records)
