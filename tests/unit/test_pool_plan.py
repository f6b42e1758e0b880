"""Sharing the database's connections out among a server's workers."""

from __future__ import annotations

from app.db import plan_pool, usable_connections


def test_pools_are_shared_out_and_a_plan_that_cannot_fit_is_named():
    assert usable_connections(100) == 90 and usable_connections(3) == 2 and usable_connections(1) == 1
    assert plan_pool(workers=2, requested=None, allowed=90).pool_size == 20  # at most 20 a worker
    sized = plan_pool(workers=4, requested=None, allowed=30)
    assert (sized.pool_size, sized.warning) == (7, None)
    assert plan_pool(workers=8, requested=None, allowed=5).pool_size == 1
    too_many = plan_pool(workers=2, requested=60, allowed=90)
    assert too_many.pool_size == 60 and too_many.warning and "2 workers x 60 connections = 120" in too_many.warning
    assert plan_pool(workers=2, requested=None, allowed=None).pool_size == 10  # the database could not be asked
