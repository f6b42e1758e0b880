"""`app.db`'s hot statements: on PostgreSQL straight to the driver, in the session's own transaction when one is
open; `fetch` and `finish` as transactions of their own when none is."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError

from app.core import idempotency
from app.core.clock import utcnow
from app.core.models import IdempotencyRecord
from app.db import dialect_of, driver_form, execute, execute_many, fetch, finish, unpacked

_RECORD = {"scope": "test", "request_hash": "h", "status_code": 200, "response_body": "{}"}
_COUNT = select(IdempotencyRecord.key).where(IdempotencyRecord.scope == bindparam("scope"))
_JSON = text("SELECT CAST(:doc AS jsonb) AS doc, 7 AS n")
_INSERT = text("INSERT INTO idempotency_key (scope, key, request_hash, status_code, response_body, created_at) "
               "VALUES (:scope, :key, :request_hash, :status_code, :response_body, :created_at) RETURNING id")


def _params(key: str) -> dict[str, Any]:
    return {**_RECORD, "key": key, "created_at": utcnow()}


async def _keys(app: Any) -> list[str]:
    async with app.state.sessionmaker() as session:
        return sorted(r.key for r in (await fetch(session, _COUNT, {"scope": "test"})).all())


async def test_statements_run_in_the_session_transaction(app: Any) -> None:
    async with app.state.sessionmaker() as session:
        if dialect_of(session) == "postgresql":  # the case under test: these go to asyncpg directly
            assert driver_form(_INSERT, session.get_bind().dialect, _params("x")).returns
            assert driver_form(_COUNT, session.get_bind().dialect, {"scope": "test"}).returns
        first = (await execute(session, _INSERT, _params("undone"))).first()
        assert first is not None and first.id > 0  # rows read by attribute, like SQLAlchemy's
        second = (await execute(session, _INSERT, _params("undone too"))).first()  # in the transaction begun
        assert second is not None and second.id > first.id
        assert [r.key for r in (await fetch(session, _COUNT, {"scope": "test"})).all()] == ["undone", "undone too"]
        if dialect_of(session) == "postgresql":  # (SQLite's open writer would hold the other session off)
            assert await _keys(app) == []  # nothing is visible before the commit
        await session.rollback()  # the first statement began the transaction: rolling back undoes both
    assert await _keys(app) == []
    async with app.state.sessionmaker() as session:
        await execute(session, _INSERT, _params("kept"))
        await session.commit()
    assert await _keys(app) == ["kept"]


async def test_a_failing_statement_raises_what_sqlalchemy_raises_and_rolls_back(app: Any) -> None:
    async with app.state.sessionmaker() as session:
        await execute(session, _INSERT, _params("twice"))
        with pytest.raises(IntegrityError) as raised:
            await execute(session, _INSERT, _params("twice"))
        if dialect_of(session) == "postgresql":
            assert getattr(raised.value.orig, "sqlstate", None) == "23505"
        await session.rollback()
        await execute(session, _INSERT, _params("after"))  # the session is usable again
        await session.commit()
    assert await _keys(app) == ["after"]


async def test_json_results_are_decoded(app: Any, pg_only: None) -> None:
    async with app.state.sessionmaker() as session:
        assert driver_form(_JSON, session.get_bind().dialect, {"doc": "{}"}).returns
        row = (await fetch(session, _JSON, {"doc": '{"a": [1, 2]}'})).first()
        assert row is not None and (row.doc, row.n) == ({"a": [1, 2]}, 7)
        await session.rollback()


async def test_many_rows_with_converted_parameters(app: Any) -> None:
    from sqlalchemy import insert

    from app.core.models import OutboxEvent

    insert_events = insert(OutboxEvent)

    rows = [{"kind": "test.many", "merchant_id": None, "payload": {"n": n, "名": "流通"}, "created_at": utcnow()}
            for n in range(3)]
    async with app.state.sessionmaker() as session:
        await execute(session, insert_events, rows[0])  # begins the transaction: the rest go to the driver
        if dialect_of(session) == "postgresql":  # a JSON column: SQLAlchemy's conversion, applied on the driver
            assert driver_form(insert_events, session.get_bind().dialect, rows[1]).processors != (None,) * 4
        await execute_many(session, insert_events, rows[1:])
        await session.commit()
    async with app.state.sessionmaker() as session:
        found = (await session.scalars(select(OutboxEvent.payload).where(OutboxEvent.kind == "test.many")
                                       .order_by(OutboxEvent.seq))).all()
    assert list(found) == [r["payload"] for r in rows]


async def test_lists_expand_per_call(app: Any) -> None:
    keys_in = select(IdempotencyRecord.key).where(IdempotencyRecord.key.in_(bindparam("keys", expanding=True)))
    async with app.state.sessionmaker() as session:
        if dialect_of(session) == "postgresql":
            assert driver_form(keys_in, session.get_bind().dialect, {}).expands
        for key in ("a", "b", "c"):
            await execute(session, _INSERT, _params(key))
        for wanted in ([], ["b"], ["a", "c", "zz"], ["c", "b", "a"], ["zz"], ["a"], [], ["b", "c", "a"]):
            found = sorted(r.key for r in (await fetch(session, keys_in, {"keys": wanted})).all())
            assert found == sorted(k for k in wanted if k in "abc")
        # A list beside plain parameters, of a length seen before: the cached expansion binds these values.
        scoped = keys_in.where(IdempotencyRecord.scope == bindparam("scope"))
        for scope, wanted in (("test", ["a", "b"]), ("other", ["a", "b"]), ("test", ["c", "zz"]), ("test", ["a"] * 40)):
            found = sorted(r.key for r in (await fetch(session, scoped, {"keys": wanted, "scope": scope})).all())
            assert found == (sorted({k for k in wanted if k in "abc"}) if scope == "test" else [])
        await session.rollback()


async def test_reads_and_a_last_write_run_alone_when_no_transaction_is_open(app: Any, pg_only: None) -> None:
    async with app.state.sessionmaker() as session:
        assert (await fetch(session, _COUNT, {"scope": "test"})).all() == []  # a read of its own
        row = (await finish(session, _INSERT, _params("alone"))).first()  # its own transaction: committed
        assert row is not None
        assert await _keys(app) == ["alone"]
        # The unit is over: the next statement begins a unit of its own, rolled back here.
        await execute(session, _INSERT, _params("next"))
        await session.rollback()
    assert await _keys(app) == ["alone"]


async def test_finish_commits_the_transaction_it_joins(app: Any) -> None:
    async with app.state.sessionmaker() as session:
        await execute(session, _INSERT, _params("first"))
        if dialect_of(session) == "postgresql":
            assert await _keys(app) == []
        await finish(session, _INSERT, _params("last"))  # the last write of the open transaction, then its commit
        assert await _keys(app) == ["first", "last"]
        await session.rollback()  # nothing left to undo
    assert await _keys(app) == ["first", "last"]


async def test_a_read_joins_a_transaction_already_begun(app: Any) -> None:
    async with app.state.sessionmaker() as session:
        await execute(session, _INSERT, _params("first"))
        assert [r.key for r in (await fetch(session, _COUNT, {"scope": "test"})).all()] == ["first"]
        await session.rollback()
    assert await _keys(app) == []


async def test_idempotency_records_once_per_key(app: Any) -> None:
    row = idempotency.answer_row(scope="test", key="k", fingerprint="h", result=(201, {"ok": True}))
    async with app.state.sessionmaker() as session:
        assert await idempotency.record(session, row)
        await session.commit()
    async with app.state.sessionmaker() as session:
        assert not await idempotency.record(session, {**row, "created_at": utcnow()})
        await session.rollback()
    assert await _keys(app) == ["k"]


async def test_rows_read_by_attribute_or_only_unpacked(app: Any) -> None:
    both = text("SELECT key, status_code FROM idempotency_key WHERE scope = :scope ORDER BY key")
    async with app.state.sessionmaker() as session:
        for key in ("b", "a"):
            await execute(session, _INSERT, _params(key))
        # (a result is read once, as SQLAlchemy's are)
        named = (await fetch(session, both, {"scope": "test"})).all()
        assert [(r.key, r.status_code) for r in named] == [("a", 200), ("b", 200)]
        plain = unpacked(await fetch(session, both, {"scope": "test"}))
        assert [(k, code) for k, code in plain] == [("a", 200), ("b", 200)] and plain[1][0] == "b"
        assert (await fetch(session, both, {"scope": "test"})).first().key == "a"
        assert (await fetch(session, both, {"scope": "none"})).all() == []
        assert unpacked(await fetch(session, both, {"scope": "none"})) == []
        assert (await fetch(session, both, {"scope": "none"})).first() is None
        await session.rollback()
