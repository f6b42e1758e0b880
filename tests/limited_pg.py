"""A PostgreSQL database reached through a role with a connection limit of its own: the way to meet "too many
clients" in a test without taking connections from anyone else on the server (the limit binds this role only;
superusers, as the tests' own, are held to none)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg
from sqlalchemy.engine import make_url

from app.migrate import upgrade
from tests.conftest import PG_BASE, _pg_admin, asyncpg_dsn


@contextmanager
def limited_database(connections: int) -> Iterator[str]:
    """A fresh, migrated database owned by a new role that may hold `connections` connections; its URL."""
    name = f"liutong_test_limited_{secrets.token_hex(4)}"
    asyncio.run(_pg_admin(f'CREATE ROLE "{name}" LOGIN CONNECTION LIMIT {connections}'))
    try:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{name}" OWNER "{name}"'))
        try:
            url = make_url(PG_BASE).set(username=name, password=None, database=name).render_as_string(False)
            upgrade(url)
            yield url
        finally:
            asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        asyncio.run(_pg_admin(f'DROP ROLE IF EXISTS "{name}"'))


async def hold_connections(url: str, count: int) -> list[asyncpg.Connection]:
    """`count` connections opened (and kept) as the URL's role."""
    return [await asyncpg.connect(asyncpg_dsn(url)) for _ in range(count)]
