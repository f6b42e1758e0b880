"""Where the public catalogue reads go: a streaming replica (DATABASE_REPLICA_URL) while it keeps up, else the
primary.

Only reads whose answer may be a moment old use it (`ReadSessionDep`: the public listing, search, product pages,
the availability they show). Whatever decides a write (checkout, reservations, POS uploads and their change feed)
and whatever a merchant reads right after writing keeps `SessionDep`, the primary. The replica is asked how far
behind it is at most every CHECK_EVERY_S; past SHOP_REPLICA_MAX_LAG_SECONDS, or unreachable, or no longer
streaming from the primary, reads go to the primary until it has caught up again. `/readyz` tells which.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from app.core.logging import get_logger

log = get_logger("app.replica")

CHECK_EVERY_S = 0.5
CHECK_TIMEOUT_S = 3.0
# The replica's lag: none while it has replayed all it received (an idle primary sends nothing, and the last
# replayed transaction grows old without the replica falling behind), else the age of the last one it replayed.
# A replica no longer receiving from the primary is not streaming, however small that looks.
_LAG = text("""
SELECT pg_is_in_recovery() AS standby,
       EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status IS NULL OR status = 'streaming') AS streaming,
       CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
            ELSE coalesce(extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp()), 0)
       END AS lag
""")


@dataclass(frozen=True, slots=True)
class ReplicaState:
    usable: bool
    reason: str  # "ok", "lagging", "down", "not streaming", "not a replica"
    lag_seconds: float | None


class ReadRouter:
    """The session factory of the public reads, and the replica's health as last checked."""

    def __init__(self, primary: async_sessionmaker[AsyncSession], replica: AsyncEngine | None, *,
                 max_lag_seconds: float) -> None:
        self.primary = primary
        self.engine = replica
        self.replica = async_sessionmaker(replica, expire_on_commit=False, autoflush=False) if replica else None
        self.max_lag = max_lag_seconds
        self.state = ReplicaState(False, "down", None)
        self.checked_at = float("-inf")
        self.replica_connections = 0  # connections the reads took from the replica's pool (who read where)
        self._lock = asyncio.Lock()
        self._checking: asyncio.Task[ReplicaState] | None = None
        # The health checks connect afresh each time (at most every CHECK_EVERY_S): a dead server shows at once,
        # not as a pooled connection that fails a shopper's request.
        self.probe = create_async_engine(replica.url, poolclass=NullPool) if replica is not None else None
        if replica is not None:
            @event.listens_for(replica.sync_engine, "checkout")
            def _counted(*_: Any) -> None:
                self.replica_connections += 1

    async def factory(self) -> async_sessionmaker[AsyncSession]:
        """The replica while usable (checked at most every CHECK_EVERY_S), else the primary."""
        if self.replica is None:
            return self.primary
        if self.checked_at == float("-inf"):
            await self.check()  # the first read waits for the first answer
        elif time.monotonic() - self.checked_at >= CHECK_EVERY_S and self._checking is None:
            # later reads go on with the last answer while the next one comes in
            self._checking = asyncio.create_task(self.check())
            self._checking.add_done_callback(self._checked)
        return self.replica if self.state.usable else self.primary

    def _checked(self, task: asyncio.Task[ReplicaState]) -> None:
        self._checking = None
        if not task.cancelled() and task.exception() is not None:
            log.warning("replica_check_failed", error=str(task.exception()))

    async def check(self) -> ReplicaState:
        """Ask the replica now (one caller at a time; the others take its answer)."""
        assert self.probe is not None
        started = time.monotonic()
        async with self._lock:
            if self.checked_at >= started:
                return self.state
            state = await self._ask(self.probe)
            if state.usable != self.state.usable:
                (log.info if state.usable else log.warning)("replica_" + ("in_use" if state.usable else "left"),
                                                            reason=state.reason, lag_seconds=state.lag_seconds)
                if not state.usable and self.engine is not None:
                    await self.engine.dispose()  # its pooled connections may be dead; new ones once it is back
            self.state, self.checked_at = state, time.monotonic()
            return state

    async def _ask(self, engine: AsyncEngine) -> ReplicaState:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_S), engine.connect() as conn:
                row = (await conn.execute(_LAG)).one()
        except Exception as exc:  # refused, timed out, shutting down: all mean "not now"
            log.debug("replica_unreachable", error=f"{type(exc).__name__}: {exc}"[:300])
            return ReplicaState(False, "down", None)
        lag = float(row.lag)
        if not row.standby:
            return ReplicaState(False, "not a replica", None)
        if not row.streaming:
            return ReplicaState(False, "not streaming", lag)
        if lag > self.max_lag:
            return ReplicaState(False, "lagging", lag)
        return ReplicaState(True, "ok", lag)

    async def dispose(self) -> None:
        if self._checking is not None:
            self._checking.cancel()
        for engine in (self.engine, self.probe):
            if engine is not None:
                await engine.dispose()

    async def readiness(self) -> dict[str, Any] | None:
        """What `/readyz` says of the replica (None without one): checked now."""
        if self.engine is None:
            return None
        state = await self.check()
        return {"reads": "replica" if state.usable else "primary", "replica": state.reason,
                "replica_lag_seconds": None if state.lag_seconds is None else round(state.lag_seconds, 3)}
