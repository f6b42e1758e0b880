"""Periodic jobs inside `shop serve` (hold expiry, ...). Each run is safe to repeat and to race."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.core.logging import get_logger

log = get_logger("app.jobs")

Job = Callable[[async_sessionmaker[AsyncSession]], Awaitable[int]]
JOBS: list[tuple[str, float, Job]] = []  # (name, interval seconds, job); channels register theirs


def register(name: str, interval_s: float, job: Job) -> None:
    JOBS.append((name, interval_s, job))


class JobRunner:
    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for name, interval, job in JOBS:
            self.tasks.append(asyncio.create_task(self._loop(name, interval, job), name=f"job:{name}"))

    async def _loop(self, name: str, interval: float, job: Job) -> None:
        while True:
            try:
                done = await job(self.app.state.sessionmaker)
                if done:
                    log.info("job_ran", job=name, items=done)
            except Exception:
                log.exception("job_failed", job=name)
            await asyncio.sleep(interval)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
