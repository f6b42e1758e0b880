"""`app.db.run`: hot statements, on PostgreSQL straight to the driver, in the session's own transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.exc import IntegrityError

from app.core import events, idempotency
from app.core.models import IdempotencyRecord
from app.db import _driver_form, dialect_of, run

_RECORD = {"scope": "test", "request_hash": "h", "status_code": 200, "response_body": "{}"}
_COUNT = select(IdempotencyRecord.key).where(IdempotencyRecord.scope == bindparam("scope"))
_JSON = text("SELECT CAST(:doc AS jsonb) AS doc, 7 AS n")


def _record(dialect: str) -> Any:
    return idempotency._record(dialect)


def _params(key: str) -> dict[str, Any]:
    from app.core.clock import utcnow

    return {**_RECORD, "key": key, "created_at": utcnow()}


async def _keys(app: Any) -> list[str]:
    async with app.state.sessionmaker() as session:
        return sorted(r.key for r in (await run(session, _COUNT, {"scope": "test"})).all())


async def test_statements_run_in_the_session_transaction(app: Any) -> None:
    async with app.state.sessionmaker() as session:
        if dialect_of(session) == "postgresql":  # the case under test: these go to asyncpg directly
            assert _driver_form(_record("postgresql"), session.get_bind().dialect, _params("x")) is not None
            assert _driver_form(_COUNT, session.get_bind().dialect, {"scope": "test"}) is not None
        first = (await run(session, _record(dialect_of(session)), _params("undone"))).first()
        assert first is not None and first.id > 0  # rows read by attribute, like SQLAlchemy's
        await session.rollback()  # the first statement began the transaction: rolling back undoes it
    assert await _keys(app) == []
    async with app.state.sessionmaker() as session:
        await run(session, _record(dialect_of(session)), _params("kept"))
        assert [r.key for r in (await run(session, _COUNT, {"scope": "test"})).all()] == ["kept"]
        await session.commit()
    assert await _keys(app) == ["kept"]


async def test_a_failing_statement_raises_what_sqlalchemy_raises_and_rolls_back(app: Any) -> None:
    stmt = text("INSERT INTO idempotency_key (scope, key, request_hash, status_code, response_body, created_at) "
                "VALUES (:scope, :key, :request_hash, :status_code, :response_body, :created_at)")
    async with app.state.sessionmaker() as session:
        await run(session, stmt, _params("twice"))
        with pytest.raises(IntegrityError) as raised:
            await run(session, stmt, _params("twice"))
        if dialect_of(session) == "postgresql":
            assert getattr(raised.value.orig, "sqlstate", None) == "23505"
        await session.rollback()
        await run(session, stmt, _params("after"))  # the session is usable again
        await session.commit()
    assert await _keys(app) == ["after"]


async def test_json_results_are_decoded(app: Any, pg_only: None) -> None:
    async with app.state.sessionmaker() as session:
        assert _driver_form(_JSON, session.get_bind().dialect, {}) is not None
        row = (await run(session, _JSON, {"doc": '{"a": [1, 2]}'})).first()
        assert row is not None and (row.doc, row.n) == ({"a": [1, 2]}, 7)
        await session.rollback()


async def test_many_rows_with_converted_parameters(app: Any) -> None:
    from app.core.clock import utcnow
    from app.core.events import _INSERT as insert_events
    from app.core.models import OutboxEvent

    rows = [{"kind": "test.many", "merchant_id": None, "payload": {"n": n, "名": "流通"}, "created_at": utcnow()}
            for n in range(3)]
    async with app.state.sessionmaker() as session:
        if dialect_of(session) == "postgresql":  # a JSON column: SQLAlchemy's conversion, applied by run
            assert _driver_form(insert_events, session.get_bind().dialect, rows[0]) is not None
        await run(session, insert_events, rows)
        await session.commit()
    async with app.state.sessionmaker() as session:
        found = (await session.scalars(select(OutboxEvent.payload).where(OutboxEvent.kind == "test.many")
                                       .order_by(OutboxEvent.seq))).all()
    assert list(found) == [r["payload"] for r in rows]


async def test_lists_expand_per_call(app: Any) -> None:
    keys_in = select(IdempotencyRecord.key).where(IdempotencyRecord.key.in_(bindparam("keys", expanding=True)))
    async with app.state.sessionmaker() as session:
        if dialect_of(session) == "postgresql":
            assert _driver_form(keys_in, session.get_bind().dialect, {}) is not None
        for key in ("a", "b", "c"):
            await run(session, _record(dialect_of(session)), _params(key))
        for wanted in ([], ["b"], ["a", "c", "zz"], ["c", "b", "a"], ["zz"], ["a"], [], ["b", "c", "a"]):
            found = sorted(r.key for r in (await run(session, keys_in, {"keys": wanted})).all())
            assert found == sorted(k for k in wanted if k in "abc")
        # A list beside plain parameters, of a length seen before: the cached expansion binds these values.
        scoped = keys_in.where(IdempotencyRecord.scope == bindparam("scope"))
        for scope, wanted in (("test", ["a", "b"]), ("other", ["a", "b"]), ("test", ["c", "zz"]), ("test", ["a"] * 40)):
            found = sorted(r.key for r in (await run(session, scoped, {"keys": wanted, "scope": scope})).all())
            assert found == (sorted({k for k in wanted if k in "abc"}) if scope == "test" else [])
        await session.rollback()


async def test_a_last_write_alone_commits_at_once_and_nothing_may_follow_it(app: Any) -> None:
    async with app.state.sessionmaker() as session:
        pg = dialect_of(session) == "postgresql"
        assert (await run(session, _COUNT, {"scope": "test"}, alone=True)).all() == []  # a read alone
        await run(session, _record(dialect_of(session)), _params("alone"), alone=True)
        if pg:  # it ran as its own transaction: another session sees it before this one commits
            assert await _keys(app) == ["alone"]
            assert (await run(session, _COUNT, {"scope": "test"}, alone=True)).all()  # reads alone still may
            with pytest.raises(RuntimeError, match="last write"):
                await run(session, _record("postgresql"), _params("after"))
            with pytest.raises(RuntimeError, match="last write"):  # nor through the session
                await session.execute(select(IdempotencyRecord.key))
            session.add(IdempotencyRecord(**_params("added")))
            with pytest.raises(RuntimeError, match="last write"):
                await session.flush()
            session.expunge_all()
            await events.emit(session, kind="test.after", merchant_id=None, payload={})
            with pytest.raises(RuntimeError, match="last write"):  # nor at commit, as an outbox event
                await session.commit()
        await session.rollback()
        # A rollback ends the unit (and cannot undo a write that committed alone); the next unit runs as usual.
        await run(session, _record(dialect_of(session)), _params("next"))
        await session.commit()
    assert await _keys(app) == (["alone", "next"] if pg else ["next"])


async def test_a_statement_alone_joins_a_transaction_already_begun(app: Any, pg_only: None) -> None:
    async with app.state.sessionmaker() as session:
        await run(session, _record(dialect_of(session)), _params("first"))
        await run(session, _record(dialect_of(session)), _params("second"), alone=True)
        assert await _keys(app) == []  # neither is visible: both wait for the unit's commit
        await run(session, _record(dialect_of(session)), _params("third"))
        await session.rollback()
    assert await _keys(app) == []
