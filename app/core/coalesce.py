"""Calls that arrive while another of their kind is out wait for it, and then go together in the next (a group
commit). Under a rush the cost of a call (a round trip, a transaction) is then shared by everything that was
waiting for it instead of being paid by each; when nothing is out, a call goes at once, alone, and waits for
nothing."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")
R = TypeVar("R")
_GO = object()  # a waiting item's turn: it makes the next call, for itself and whoever waits then
_KEPT_LINES = 1_000  # idle lines (one per key and event loop) kept before they are dropped


@dataclass(slots=True)
class _Line:
    out: bool = False  # a call of this key is out
    waiting: deque[tuple[Any, asyncio.Future[Any]]] = field(default_factory=deque)


class Coalescer(Generic[T, R]):
    """Calls per key (a flash sale, say): `run` gives an item's result of a call made for it together with every
    item of its key that waited meanwhile, up to `limit` in one call."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lines: dict[tuple[asyncio.AbstractEventLoop, Hashable], _Line] = {}

    async def run(self, key: Hashable, item: T, call: Callable[[Sequence[T]], Awaitable[Sequence[R]]]) -> R:
        """`item`'s result. `call` gets the items of one call, the caller's own first, and returns a result for
        each, in order; it is the function of whichever caller makes the call. If it raises, every item of that
        call gets the exception."""
        loop = asyncio.get_running_loop()
        line = self._line(loop, key)
        if line.out:
            future: asyncio.Future[Any] = loop.create_future()
            line.waiting.append((item, future))
            try:
                turn = await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled() and future.result() is _GO:
                    _next(line)
                raise
            if turn is not _GO:
                return cast(R, turn)
        else:
            line.out = True
        batch: list[tuple[Any, asyncio.Future[Any]]] = []
        try:
            while line.waiting and len(batch) < self.limit - 1:
                waiter = line.waiting.popleft()
                if not waiter[1].done():
                    batch.append(waiter)
            try:
                results = await call([item, *(i for i, _ in batch)])
            except Exception as exc:
                for _, waiting in batch:
                    if not waiting.done():
                        waiting.set_exception(exc)
                batch = []
                raise
            for (_, waiting), result in zip(batch, results[1:], strict=True):
                if not waiting.done():
                    waiting.set_result(result)
            batch = []
            return results[0]
        finally:
            for waiter in reversed(batch):  # not sent (this caller was cancelled): the next call takes them
                line.waiting.appendleft(waiter)
            _next(line)

    def _line(self, loop: asyncio.AbstractEventLoop, key: Hashable) -> _Line:
        line = self._lines.get((loop, key))
        if line is None:
            if len(self._lines) >= _KEPT_LINES:
                self._lines = {k: v for k, v in self._lines.items() if v.out or v.waiting}
            line = self._lines[(loop, key)] = _Line()
        return line


def _next(line: _Line) -> None:
    """The first item still waiting makes the next call; none: no call is out."""
    while line.waiting:
        _, future = line.waiting.popleft()
        if not future.done():
            future.set_result(_GO)
            return
    line.out = False
