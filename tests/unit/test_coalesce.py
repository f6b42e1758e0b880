"""Calls that arrive while one is out go together in the next: in order, each item its own result, a failure
reaching exactly the items of its call, and nothing left waiting when a caller gives up."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from app.core.coalesce import Coalescer


class _Calls:
    """A call that takes a while and records the items it was given."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.made: list[list[str]] = []
        self.fail_on = fail_on
        self.release = asyncio.Event()

    async def __call__(self, items: Sequence[str]) -> list[str]:
        self.made.append(list(items))
        await self.release.wait()
        if self.fail_on in items:
            raise RuntimeError(f"{self.fail_on} refused")
        return [f"done:{i}" for i in items]


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_first_goes_alone_and_those_arriving_meanwhile_go_together_in_order():
    c: Coalescer[str, str] = Coalescer(limit=3)
    calls = _Calls()
    tasks = [asyncio.create_task(c.run("k", f"i{n}", calls)) for n in range(6)]
    await _settle()
    calls.release.set()
    assert await asyncio.gather(*tasks) == [f"done:i{n}" for n in range(6)]
    assert calls.made == [["i0"], ["i1", "i2", "i3"], ["i4", "i5"]]  # at most `limit` a call
    # Another key never waits for this one's calls.
    other = _Calls()
    other.release.set()
    assert await c.run("other", "x", other) == "done:x" and other.made == [["x"]]


async def test_a_failed_call_reaches_its_own_items_only_and_the_next_call_still_goes():
    c: Coalescer[str, str] = Coalescer(limit=10)
    calls = _Calls(fail_on="bad")
    first = asyncio.create_task(c.run("k", "first", calls))
    await _settle()
    group = [asyncio.create_task(c.run("k", i, calls)) for i in ("a", "bad", "b")]
    await _settle()
    calls.release.set()
    assert await first == "done:first"
    results = await asyncio.gather(*group, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results), results
    assert await c.run("k", "later", calls) == "done:later"
    assert calls.made == [["first"], ["a", "bad", "b"], ["later"]]


async def test_callers_who_give_up_are_left_out_and_their_turn_passes_on():
    c: Coalescer[str, str] = Coalescer(limit=10)
    calls = _Calls()
    first = asyncio.create_task(c.run("k", "first", calls))
    await _settle()
    quitter = asyncio.create_task(c.run("k", "quitter", calls))
    stayer = asyncio.create_task(c.run("k", "stayer", calls))
    await _settle()
    quitter.cancel()
    await _settle()
    calls.release.set()
    assert await first == "done:first" and await stayer == "done:stayer"
    with pytest.raises(asyncio.CancelledError):
        await quitter
    assert calls.made == [["first"], ["stayer"]]
