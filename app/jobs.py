"""Periodic jobs inside `shop serve` (hold expiry, refund retries, ...).

Each job is safe to repeat and to run in several processes at once (rows are claimed with
SKIP LOCKED or conditional updates), so every server process may run them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.logging import get_logger

log = get_logger("app.jobs")

JobFn = Callable[[async_sessionmaker[AsyncSession], Settings], Awaitable[int]]


@dataclass(frozen=True)
class Job:
    name: str
    interval_s: float
    run: JobFn


class JobRunner:
    def __init__(self, jobs: list[Job], factory: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self.jobs = jobs
        self.factory = factory
        self.settings = settings
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        for job in self.jobs:
            self.tasks.append(asyncio.create_task(self._loop(job), name=f"job:{job.name}"))

    async def _loop(self, job: Job) -> None:
        while True:
            try:
                done = await job.run(self.factory, self.settings)
                if done:
                    log.info("job_ran", job=job.name, items=done)
            except Exception:
                log.exception("job_failed", job=job.name)
            await asyncio.sleep(job.interval_s)

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


# Done by `shop consume` from the broker instead when NATS_URL is set (app/broker/consumers.py).
BROKER_JOBS = frozenset({"deliver_webhooks", "low_stock", "search_signals"})


def all_jobs(*, broker: bool = False) -> list[Job]:
    """Every periodic job of the platform; with `broker`, less those the broker's consumers do."""
    from app.catalog.search import service as search_service
    from app.community import service as community_service
    from app.imports import service as imports_service
    from app.inventory.moves import service as moves_service
    from app.logistics import service as logistics_service
    from app.orders import cancellation as orders_cancellation
    from app.orders import legal_hold
    from app.orders import payments as orders_payments
    from app.orders.returns import service as orders_returns
    from app.retail.flash import service as flash_service
    from app.trust import closure as trust_closure
    from app.trust import ip_cases as trust_ip_cases
    from app.trust import records as trust_records
    from app.trust import reputation as trust_reputation
    from app.trust import samr as trust_samr
    from app.trust import sellers as trust_sellers
    from app.webhooks import service as webhooks_service

    every = [
        Job("expire_holds", 15.0, orders_cancellation.expire_holds),
        Job("retry_refunds", 60.0, orders_payments.retry_refunds),
        Job("settle_lost_payments", 120.0, orders_payments.settle_lost_payments),
        Job("refund_due_returns", 300.0, orders_returns.refund_due_returns),
        Job("close_group_buys", 30.0, community_service.close_due_group_buys),
        Job("flag_overdue_reverification", 3600.0, trust_sellers.flag_overdue_reverification),
        Job("flag_individual_turnover", 3600.0, trust_sellers.flag_individual_turnover),
        Job("refresh_credit_scores", 3600.0, trust_reputation.refresh_credit_scores),
        Job("close_due_shops", 600.0, trust_closure.close_due_shops),
        Job("samr_report", 3600.0, trust_samr.scheduled_report),
        Job("restore_ip_listings", 600.0, trust_ip_cases.restore_due_listings),
        Job("seal_records", 30.0, trust_records.seal_job),
        Job("deliver_webhooks", 5.0, webhooks_service.deliver_webhooks),
        Job("run_imports", 30.0, imports_service.run_queued),
        Job("low_stock", 60.0, moves_service.low_stock_job),
        Job("search_signals", 60.0, search_service.signals_job),
        Job("end_flash_sales", 10.0, flash_service.end_due_sales),
        Job("reconcile_flash_sales", 10.0, flash_service.reconcile),
        Job("auto_confirm_receipt", 600.0, logistics_service.auto_confirm),
        Job("purge_ended_legal_holds", 3600.0, legal_hold.purge_ended_holds),
    ]
    return [job for job in every if not (broker and job.name in BROKER_JOBS)]
