"""Test databases: every API test runs on SQLite and on the local PostgreSQL.

Each test process (the run, or each pytest-xdist worker) has its own throw-away PostgreSQL database (dropped
at the end) and its own SQLite file. The schema comes from the Alembic migrations, as in production, applied
once per run to a template that every process then copies: `CREATE DATABASE ... TEMPLATE` on PostgreSQL, a
file copy on SQLite. Tables are emptied between tests. PostgreSQL tests skip when no server answers, except
under CI=true, where they fail instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import fnmatch
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI

from app.config import Settings
from app.core import clock, heap
from app.db import Base
from app.main import configure, create_app
from app.migrate import upgrade
from app.models import load_all
from tests.fakes.stripe_server import FakeStripe

ADMIN_TOKEN = "test-admin-token-" + secrets.token_hex(8)
PG_BASE = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
KEEP_TABLES = {"category", "alembic_version", "catalog_version"}

# pytest-xdist names each worker (gw0, gw1, ...) and gives all workers of one run the same id.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
SHOP = Path(sys.executable).parent / "shop"
RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID", secrets.token_hex(8))[:8]

load_all()


def asyncpg_dsn(url: str) -> str:
    """The DSN asyncpg takes for one of SQLAlchemy's PostgreSQL URLs."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


def _pg_url(name: str) -> str:
    return PG_BASE.rsplit("/", 1)[0] + f"/{name}"


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(PG_BASE), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class _PgAdmin:
    """A blocking connection to the server's maintenance database, on an event loop of its own, so that it
    can hold an advisory lock while `upgrade` (which runs its own loop) migrates the template."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        try:
            self.conn: asyncpg.Connection = self.loop.run_until_complete(
                asyncpg.connect(asyncpg_dsn(PG_BASE), timeout=5))
        except BaseException:
            self.loop.close()
            raise

    def value(self, sql: str, *args: object) -> Any:
        return self.loop.run_until_complete(self.conn.fetchval(sql, *args))

    def execute(self, sql: str) -> None:
        self.loop.run_until_complete(self.conn.execute(sql))

    @contextlib.contextmanager
    def locked(self, name: str) -> Iterator[None]:
        """The run's template is made, copied and dropped by one process at a time."""
        self.value("SELECT pg_advisory_lock(hashtext($1))", name)
        try:
            yield
        finally:
            self.value("SELECT pg_advisory_unlock(hashtext($1))", name)

    def close(self) -> None:
        self.loop.run_until_complete(self.conn.close())
        self.loop.close()


def _pg_database(admin: _PgAdmin, template: str, name: str) -> None:
    """`name`, a copy of the run's migrated template, which the first process to need it builds.

    The template is migrated under another name and renamed when complete, so no process ever copies
    a half-migrated one; nothing stays connected to it, as `CREATE DATABASE ... TEMPLATE` requires."""
    with admin.locked(template):
        if not admin.value("SELECT count(*) FROM pg_database WHERE datname = $1", template):
            building = f"{template}_building"
            admin.execute(f'DROP DATABASE IF EXISTS "{building}"')
            admin.execute(f'CREATE DATABASE "{building}"')
            try:
                upgrade(_pg_url(building))
            except BaseException:
                admin.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
                raise
            admin.execute(f'ALTER DATABASE "{building}" RENAME TO "{template}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')


def _pg_drop(admin: _PgAdmin, template: str, name: str) -> None:
    """Drops this process's database, and the template once no other process of the run has one left (a
    process that needs one later simply builds the template again)."""
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    with admin.locked(template):
        others = admin.value("SELECT count(*) FROM pg_database WHERE datname LIKE $1 AND datname <> $2",
                             f"liutong_test_{RUN}_%", template)
        if not others:
            admin.execute(f'DROP DATABASE IF EXISTS "{template}"')


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    template, name = f"liutong_test_{RUN}_template", f"liutong_test_{RUN}_{WORKER}"
    try:
        admin = _PgAdmin()
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    try:
        _pg_database(admin, template, name)
        yield _pg_url(name)
    finally:
        try:
            _pg_drop(admin, template, name)
        finally:
            admin.close()


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sqlite_copy(source: Path, target: Path) -> str:
    """A consistent copy of a SQLite database (its write-ahead log included); the copy's URL."""
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    return f"sqlite+aiosqlite:///{target}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's migrated SQLite file, to copy (`sqlite_copy`), never to open: made by the first process
    that needs it. The workers of one run share the parent of their base folders; a run without workers
    has its own."""
    shared = _shared_folder(tmp_path_factory)
    template = shared / f"liutong-{RUN}-template.db"
    with _file_lock(shared / f"liutong-{RUN}-template.lock"):
        if not template.exists():
            building = shared / f"liutong-{RUN}-building.db"
            upgrade(f"sqlite+aiosqlite:///{building}")
            sqlite_copy(building, template)
    return template


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder the workers of one run share (the parent of their base folders); a run without workers has
    its own."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if WORKER != "main" else base


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder as `make run` leaves it before it serves: `shop migrate` and `shop demo` run in it as the README
    says (the demo's database in var/shop.db, its pictures in var/media). Made once per run, by the first process
    that needs it (the demo takes seconds of CPU); to copy (`demo_copy`), never to serve."""
    shared = _shared_folder(tmp_path_factory)
    folder = shared / f"liutong-{RUN}-demo"
    with _file_lock(shared / f"liutong-{RUN}-demo.lock"):
        if not folder.exists():
            building = shared / f"liutong-{RUN}-demo-building"
            shutil.rmtree(building, ignore_errors=True)
            (building / "var").mkdir(parents=True)
            env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{building / 'var' / 'shop.db'}",
                   "SHOP_BACKGROUND_JOBS": "false", "SHOP_LOG_LEVEL": "warning"}
            env.pop("SHOP_ADMIN_TOKEN", None)
            for step in ("migrate", "demo"):
                done = subprocess.run([str(SHOP), step], cwd=building, env=env, capture_output=True, text=True,
                                      timeout=300)
                assert done.returncode == 0, f"shop {step}: {done.stdout}{done.stderr}"
            building.rename(folder)
    return folder


def demo_copy(demo_folder: Path, target: Path) -> str:
    """A copy of the demo's folder at `target`, to serve; its database's URL."""
    shutil.copytree(demo_folder, target, dirs_exist_ok=True)
    return f"sqlite+aiosqlite:///{target / 'var' / 'shop.db'}"


@pytest.fixture(scope="session")
def sqlite_url(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return sqlite_copy(sqlite_template, tmp_path_factory.mktemp("db") / "shop.db")


@pytest.fixture
def db_url(request: pytest.FixtureRequest) -> str:
    """The database of this run of the test (parametrised in `pytest_generate_tests`)."""
    name = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
def pg_only(db_url: str) -> None:
    """Marks a test that needs PostgreSQL; `pytest_generate_tests` runs it on PostgreSQL alone."""
    assert db_url.startswith("postgresql")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every database test runs on SQLite and PostgreSQL; tests asking for `pg_only` on PostgreSQL only."""
    if "db_url" in metafunc.fixturenames:
        backends = ["postgresql"] if "pg_only" in metafunc.fixturenames else ["sqlite", "postgresql"]
        metafunc.parametrize("db_url", backends, indirect=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    """As a server does once started (app.main's lifespan): what is loaded by now lives as long as the process, so
    the cycle collector stops walking it again and again, and young collections come as seldom as a server's."""
    heap.settle()


# Tests that start servers, commands or a browser: each takes seconds to tens of seconds. They run first, so that
# the workers share them out while most tests are still to come, rather than one worker finishing alone on them.
LONG = ("tests/web/test_*browser*.py", "tests/test_readme.py", "tests/test_tour.py", "tests/test_cli.py",
        "tests/test_production_startup.py", "tests/test_serve_admin_token.py", "tests/resilience/*.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuses two tests with one id: they cannot be selected or re-run apart, and pytest-xdist's by-id
    schedulers (--dist loadscope, loadfile, loadgroup) would run only one of them. Then puts the `LONG` ones first
    (in their order)."""
    ids = Counter(item.nodeid for item in items)
    twins = sorted(nodeid for nodeid, count in ids.items() if count > 1)
    if twins:
        raise pytest.UsageError("tests that share an id (give each its own parameter id):\n  " + "\n  ".join(twins))
    items.sort(key=lambda item: not any(fnmatch.fnmatch(item.nodeid.split("::", 1)[0], p) for p in LONG))


# Children before parents: the order rows can be deleted in.
_TABLES = [t.name for t in reversed(Base.metadata.sorted_tables) if t.name not in KEEP_TABLES]

# PostgreSQL, in one round trip: delete the rows of the tables that have any and restart their sequences.
# Most tests fill a handful of tables with a few rows; TRUNCATE of every table (new files for each table
# and index, and CASCADE reaching nearly all of them through `merchant`) cost about a second per test.
# Tables whose triggers refuse DELETE (the append-only audit log and listing revisions) are truncated:
# TRUNCATE is not a row operation, and no foreign key points at them. Other triggers run as for any DELETE.
_PG_EMPTY = """
DO $$
DECLARE
    t text;
    filled boolean;
BEGIN
    FOREACH t IN ARRAY ARRAY[%s] LOOP
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %%I)', t) INTO filled;
        CONTINUE WHEN NOT filled;
        BEGIN
            EXECUTE format('DELETE FROM %%I', t);
        EXCEPTION WHEN raise_exception THEN  -- a trigger refuses row deletion
            EXECUTE format('TRUNCATE %%I', t);
        END;
    END LOOP;
    PERFORM setval(s.seqrelid, s.seqstart, false)
    FROM pg_sequence s JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
    JOIN pg_class owner ON owner.oid = d.refobjid
    WHERE d.refclassid = 'pg_class'::regclass AND owner.relname = ANY(ARRAY[%s]);
END $$
""" % ((", ".join(f"'{t}'" for t in _TABLES),) * 2)

_SQLITE_FILLED = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM {t})" for t in _TABLES)


_EMPTYING: dict[str, asyncpg.Connection] = {}


@pytest.fixture(scope="session", autouse=True)
async def _emptying_closed() -> AsyncIterator[None]:
    yield
    for conn in _EMPTYING.values():
        conn.terminate()  # the database may be gone already (dropped with its connections)


async def _empty_tables(url: str, *, keep: bool = False) -> None:
    """Every table empty again (but the categories), as after migrating; PostgreSQL's sequences restarted.
    `keep`: on PostgreSQL, through a connection kept for the session's event loop (the tests' fixtures): a new one
    per test cost a new server process and its catalogue caches, most of the emptying's time."""
    if url.startswith("postgresql"):
        conn = _EMPTYING.get(url) if keep else None
        if conn is None or conn.is_closed():
            conn = await asyncpg.connect(asyncpg_dsn(url), timeout=10)
            if keep:
                _EMPTYING[url] = conn
        try:
            await conn.execute(_PG_EMPTY)
        finally:
            if not keep:
                await conn.close()
        return
    db = sqlite3.connect(url.split(":///", 1)[1], timeout=60, isolation_level=None)
    try:
        db.execute("PRAGMA foreign_keys=ON")
        filled = {row[0] for row in db.execute(_SQLITE_FILLED)}
        db.execute("BEGIN IMMEDIATE")
        for name in _TABLES:
            if name in filled:
                db.execute(f"DELETE FROM {name}")
        db.execute("COMMIT")
    finally:
        db.close()


STRIPE_KEY = "sk_test_liutong"
WEBHOOK_SECRET = "whsec_test_" + secrets.token_hex(8)
KUAIDI100_SALT = "kd100-salt-" + secrets.token_hex(8)


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    with FakeStripe(api_key=STRIPE_KEY) as fake:
        yield fake


def make_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "stripe_api_key": STRIPE_KEY, "stripe_webhook_secret": WEBHOOK_SECRET,
        "database_url": url, "shop_admin_token": ADMIN_TOKEN, "shop_secret_key": "test-secret-" + "x" * 32,
        "shop_background_jobs": False, "shop_log_json": False, "shop_log_level": "warning",
        "shop_db_pool_size": 20, "shop_db_pool_timeout": 60,  # races of hundreds of requests wait, never 503
        "shop_rate_limit_ip_per_minute": 0, "shop_rate_limit_token_per_minute": 0,
        "shop_flash_customer_per_second": 0, "shop_flash_address_per_second": 0,
        "shop_webhook_allow_private": True,  # the tests' receivers listen on 127.0.0.1
        "shop_import_allow_private_urls": True,  # and so do the picture servers imports fetch from
        "shop_kuaidi100_salt": KUAIDI100_SALT,  # tracking pushes (tests/api/test_delivery.py) are signed with it
        # argon2 at its lowest cost: the tests make hundreds of accounts, and the default cost takes 0.2 s of CPU
        # per hash or check (tests/unit/test_ids.py checks the default)
        "shop_password_hash_time_cost": 1, "shop_password_hash_memory_kib": 1_024, "shop_password_hash_parallelism": 1,
        # The database answers searches: every process's copy of the index answers the same (tests/search/conftest.py
        # turns it on there, and tests/search/test_copy.py compares the two), at the cost of a load per test.
        "shop_search_memory": False,
    }
    values.update(overrides)
    # Settings read the environment for every field not given, a few milliseconds each time: the same values and
    # environment give a copy of the settings made the first time. The media folder, a test's own, is a plain
    # path set on the copy.
    media = values.pop("shop_media_root", None)
    key = repr((sorted(values.items()), sorted(kv for kv in os.environ.items() if kv[0] != "PYTEST_CURRENT_TEST")))
    made = _SETTINGS.get(key)
    if made is None:
        made = _SETTINGS[key] = Settings(**values)  # type: ignore[arg-type]
    return made.model_copy(update={} if media is None else {"shop_media_root": str(media)}, deep=True)


_SETTINGS: dict[str, Settings] = {}


# One app per database for the test process: its routes are built once (FastAPI works out every route's
# dependencies per app, the larger part of a short test's time), and `configure` gives it fresh state for each
# test: settings, caches, media folder, flash-sale gates. Tests needing other settings make their own app.
_APPS: dict[str, FastAPI] = {}


@pytest.fixture
async def app(db_url: str, fake_stripe: FakeStripe, tmp_path: Path) -> AsyncIterator[FastAPI]:
    await _empty_tables(db_url, keep=True)
    clock.reset()
    fake_stripe.reset()
    settings = make_settings(db_url, stripe_api_base=fake_stripe.url, shop_media_root=str(tmp_path / "media"))
    application = _APPS.get(db_url)
    if application is None:
        application = _APPS[db_url] = create_app(settings)
    else:
        # the engine too, and its pooled connections: its statements, compiled once, serve every later test (a new
        # engine compiled each one again: a tenth of the tests' time), and on PostgreSQL its connections keep
        # their server processes and prepared statements (new ones for each test cost most of a short test's
        # time in the database). A pooled connection holds no transaction, so emptying the tables never waits.
        configure(application, settings, engine=application.state.engine)
    live = application.state.search_live  # a test may take it away: its reads are stopped all the same
    yield application
    clock.reset()
    if live is not None:
        await live.close()


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as c:
        yield c


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
