"""Search-box suggestions from memory.

The search box asks on every keystroke, so a suggestion must cost about what `/healthz` does: no database round
trip. Each process holds the title words (`search_term`: word, pinyin, initials, how many listings brought it) in
sorted lists and answers a prefix by binary search. The words are read again when they are older than
SHOP_SUGGEST_REFRESH_SECONDS, in the background while the old ones keep answering; only a process's first
suggestion waits for them. A new word is therefore offered within that many seconds of the listing that brought it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import heapq
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.search import text
from app.catalog.search.models import SearchTerm
from app.core.logging import get_logger
from app.db import session_scope

log = get_logger("app.search")

LIMIT = 10
_MEMO = 4_096  # answers kept per load: the prefixes typed most are a few short ones
_END = "\U0010ffff"  # sorts after every character a key can hold


@dataclass(frozen=True, slots=True)
class _Words:
    """The words in suggestion order (most listings, then shorter, then by the word), and per kind of key (the word,
    its pinyin, its initials) the sorted (key, position in that order) pairs."""

    terms: Sequence[str]
    by_term: Sequence[tuple[str, int]]
    by_pinyin: Sequence[tuple[str, int]]
    by_initials: Sequence[tuple[str, int]]


async def _read(session: AsyncSession) -> _Words:
    rows = (await session.execute(
        select(SearchTerm.term, SearchTerm.pinyin, SearchTerm.initials)
        .order_by(SearchTerm.products.desc(), func.length(SearchTerm.term), SearchTerm.term))).all()
    return _Words(
        terms=[r.term for r in rows],
        by_term=sorted((r.term, i) for i, r in enumerate(rows)),
        by_pinyin=sorted((r.pinyin, i) for i, r in enumerate(rows) if r.pinyin),
        by_initials=sorted((r.initials, i) for i, r in enumerate(rows) if r.initials))


def _starting(pairs: Sequence[tuple[str, int]], prefix: str) -> Sequence[tuple[str, int]]:
    lo = bisect.bisect_left(pairs, (prefix, -1))
    hi = bisect.bisect_left(pairs, (prefix + _END, -1), lo)
    return pairs[lo:hi]


class Suggestions:
    """One process's suggestion index (app.state.suggestions), filled from the database on first use."""

    def __init__(self, refresh_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.refresh_s = refresh_s
        self.clock = clock
        self._words: _Words | None = None
        self._loaded_at = float("-inf")
        self._memo: OrderedDict[str, list[str]] = OrderedDict()
        self._first: asyncio.Lock = asyncio.Lock()
        self._reloading: asyncio.Task[None] | None = None

    async def lookup(self, factory: Callable[[], Awaitable[async_sessionmaker[AsyncSession]]], q: str) -> list[str]:
        """Up to LIMIT words that start with `q`, or whose pinyin or initials do; most listed first. `factory`
        gives the sessionmaker to read the words with when they are missing or old."""
        prefix = text.key(q)[:40]
        if not prefix:
            return []
        if self._words is None:
            async with self._first:
                if self._words is None:
                    await self._load(factory)
        elif self.clock() - self._loaded_at >= self.refresh_s and self._reloading is None:
            self._reloading = asyncio.create_task(self._reload(factory))
        return self._answer(prefix)

    def _answer(self, prefix: str) -> list[str]:
        found = self._memo.get(prefix)
        if found is not None:
            self._memo.move_to_end(prefix)
            return found
        words = self._words
        assert words is not None
        positions = [i for _, i in _starting(words.by_term, prefix)]
        if prefix.isascii():
            positions += [i for _, i in _starting(words.by_pinyin, prefix)]
            positions += [i for _, i in _starting(words.by_initials, prefix)]
        found = [words.terms[i] for i in heapq.nsmallest(LIMIT, set(positions))]
        self._memo[prefix] = found
        if len(self._memo) > _MEMO:
            self._memo.popitem(last=False)
        return found

    async def _load(self, factory: Callable[[], Awaitable[async_sessionmaker[AsyncSession]]]) -> None:
        async with session_scope(await factory()) as session:
            words = await _read(session)
        self._words, self._loaded_at = words, self.clock()
        self._memo.clear()

    async def _reload(self, factory: Callable[[], Awaitable[async_sessionmaker[AsyncSession]]]) -> None:
        try:
            await self._load(factory)
        except Exception as exc:  # the old words keep answering; tried again after another interval
            log.warning("suggestions_reload_failed", error=str(exc))
            self._loaded_at = self.clock()
        finally:
            self._reloading = None

    async def close(self) -> None:
        """Waits for a reload under way (at shutdown, so that none outlives the engine)."""
        if self._reloading is not None:
            with contextlib.suppress(Exception):
                await self._reloading
