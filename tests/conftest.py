"""Test databases: every API test runs on SQLite and on the local PostgreSQL.

Each run makes its own throw-away PostgreSQL database (dropped at the end) and its own SQLite file;
the schema comes from the Alembic migrations, as in production. Tables are emptied between tests.
PostgreSQL tests skip when no server answers, except under CI=true, where they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import text

from app.config import Settings
from app.core import clock
from app.db import Base, make_engine
from app.main import create_app
from app.migrate import upgrade
from app.models import load_all
from tests.fakes.stripe_server import FakeStripe

ADMIN_TOKEN = "test-admin-token-" + secrets.token_hex(8)
PG_BASE = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
KEEP_TABLES = {"category", "alembic_version"}

load_all()


def _asyncpg_dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def _pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(_asyncpg_dsn(PG_BASE), timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    name = f"liutong_test_{secrets.token_hex(4)}"
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    yield url
    asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("db") / "shop.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    return url


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


async def _empty_tables(url: str) -> None:
    engine = make_engine(url, pool_size=1)
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP_TABLES]
    async with engine.begin() as conn:
        if url.startswith("postgresql"):
            await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                await conn.execute(text(f"DELETE FROM {name}"))
    await engine.dispose()


STRIPE_KEY = "sk_test_liutong"
WEBHOOK_SECRET = "whsec_test_" + secrets.token_hex(8)


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
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
async def app(db_url: str, fake_stripe: FakeStripe, tmp_path: Path) -> AsyncIterator[object]:
    await _empty_tables(db_url)
    clock.reset()
    fake_stripe.reset()
    application = create_app(make_settings(db_url, stripe_api_base=fake_stripe.url,
                                           shop_media_root=str(tmp_path / "media")))
    yield application
    clock.reset()
    await application.state.engine.dispose()


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as c:
        yield c


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
