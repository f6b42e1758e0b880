"""One process's copy of the search index (memory.py) and of the listed products' JSON, kept current.

Every transaction that changes what catalogue pages show (`cache.mark_changed`) counts `catalog_version` up as it
commits. The copy knows the version it reflects:
- a change committed by this process marks it behind at once (`clear`);
- another process's is seen by reading the version: in the background every SHOP_SEARCH_POLL_SECONDS while
  searches come, and before answering when none came for longer.

A search that finds the copy behind waits for it to catch up, which on PostgreSQL reads only the rows written
since its last read: those a transaction at or after that read's oldest running one wrote (a trigger stamps each
row with its writer, `changed_xid`, and an index finds them), in milliseconds. A whole load (the first, and every
one on SQLite, whose embedded catalogues are small) runs in the background while the database answers, in
batches so that requests keep being served.
Until the copy is current nothing is answered from it: the database does (service.py).

A product's JSON is kept until a catch-up reads its row again: every write that changes what its JSON shows
rewrites its `product` row (`updated_at`, which the JSON shows) or its `product_search` row (re-indexed with its
variants' prices and options), and a whole load forgets all of them.

Only anonymous shoppers and customers are answered from it: a merchant sees its own writes at once through the
database, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.search import memory
from app.catalog.search.models import SearchDictionaryWord, SearchSynonym
from app.config import Settings
from app.core import cache, heap
from app.core.logging import get_logger
from app.db import dialect_of, session_scope
from app.merchants.models import Merchant

log = get_logger("app.search")

_BATCH = 2_000  # rows applied between two turns of the event loop
_ROWS = """
SELECT ps.id, ps.product_id, ps.merchant_id, p.category, p.status, ps.min_price, ps.in_stock, ps.sales_30d,
       ps.title, ps.extra, ps.pinyin, ps.body, ps.grams
FROM product_search ps JOIN product p ON p.id = ps.product_id
"""
# Products written by transactions at or after :low (PostgreSQL's trigger stamps them, and an index finds them),
# then their rows: in two statements, as the planner cannot know how few the first finds.
_CHANGED_IDS = """SELECT product_id FROM product_search WHERE changed_xid >= :low
                  UNION SELECT id FROM product WHERE changed_xid >= :low"""
_CHANGED = _ROWS + "WHERE ps.product_id = ANY(:ids)"

Fetch = Callable[[AsyncSession, Sequence[str]], Awaitable[dict[str, bytes]]]


class LiveIndex:
    """`app.state.search_live`. `current()` gives the copy when it reflects the catalogue as last known."""

    def __init__(self, factory: async_sessionmaker[AsyncSession], *, poll_s: float, json_entries: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.factory = factory
        self.poll_s = poll_s
        self.json_entries = json_entries
        self.clock = clock
        self.index: memory.Index | None = None
        self.version: int | None = None
        self._low: int | None = None  # PostgreSQL: the oldest running transaction when the last read began
        self._changes = 0  # changes known to this process; a refresh reflects those counted before it began
        self._reflected = -1
        self._whole = True  # the next refresh loads everything
        self._refreshing: asyncio.Task[None] | None = None
        self._polling: asyncio.Task[None] | None = None
        self._polled_at = float("-inf")
        self._retry_at = float("-inf")  # after a failed refresh, none before this
        self._json: dict[str, bytes] = {}
        self._json_generation = 0
        cache.register(self)

    @classmethod
    def from_settings(cls, factory: async_sessionmaker[AsyncSession], settings: Settings) -> LiveIndex:
        return cls(factory, poll_s=settings.shop_search_poll_seconds, json_entries=settings.shop_product_json_cache)

    @property
    def state(self) -> str:
        """`ready` (current), `behind` (catching up) or `loading` (no copy yet): for /readyz."""
        if self.index is None:
            return "loading"
        return "ready" if self._reflected == self._changes else "behind"

    def clear(self) -> None:
        """The catalogue changed (this process committed it, or the version moved)."""
        self._changes += 1

    def start(self) -> None:
        """Begins the first load (at startup, so that the first searches need not wait for it)."""
        self._refresh_task()

    async def current(self) -> memory.Index | None:
        """The copy, caught up first when it is a short way behind; None while it is loading whole."""
        now = self.clock()
        since = now - self._polled_at
        if since >= self.poll_s and self._polling is None:
            self._polled_at = now
            polling = self._polling = asyncio.create_task(self._poll_in_background())
            if since >= 2 * self.poll_s:  # no search for a while: the version last read may be long out of date
                await asyncio.shield(polling)
        if self._reflected == self._changes and self.index is not None:
            return self.index
        task = self._refresh_task()
        if task is None or self.index is None or self._whole:
            return None
        with contextlib.suppress(Exception):
            await asyncio.shield(task)
        return self.index if self._reflected == self._changes else None

    async def caught_up(self) -> memory.Index:
        """The copy once it reflects every change known when this is called, a whole load waited for too."""
        changes = self._changes
        while self._reflected < changes or self.index is None:
            self._retry_at = float("-inf")
            task = self._refresh_task()
            assert task is not None
            await asyncio.shield(task)
            if self._retry_at > float("-inf"):
                raise RuntimeError("the search copy could not be refreshed (see the log)")
        return self.index

    async def close(self, wait_s: float = 10.0) -> None:
        """Lets a read under way finish (cancelled in the middle of a statement, it could keep its connection, and
        on SQLite the write lock, past the engine's disposal); one that takes longer than `wait_s` is cancelled."""
        tasks = [t for t in (self._refreshing, self._polling) if t is not None]
        if not tasks:
            return
        _, late = await asyncio.wait(tasks, timeout=wait_s)
        for task in late:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    # ---- the products' JSON ----------------------------------------------------------------------------

    def _drop_json(self, product_ids: Sequence[str] | None = None) -> None:
        """Forgets these products' JSON (None: every product's)."""
        if product_ids is None:
            self._json.clear()
        else:
            for product_id in product_ids:
                self._json.pop(product_id, None)
        self._json_generation += 1

    async def page(self, session: AsyncSession, ids: Sequence[str], fetch: Fetch) -> bytes:
        """The JSON array of these products, in this order, from memory where it is there."""
        generation = self._json_generation
        missing = [i for i in ids if i not in self._json]
        fetched = await fetch(session, missing) if missing else {}
        if fetched and generation == self._json_generation:  # else it may predate a change: not kept
            self._json.update(fetched)
            if len(self._json) > self.json_entries:  # the older half goes
                kept = list(self._json.items())[len(self._json) // 2:]
                self._json = dict(kept)
        json = self._json
        parts = [found for i in ids if (found := json.get(i) or fetched.get(i)) is not None]
        return b"[" + b",".join(parts) + b"]"

    # ---- catching up -----------------------------------------------------------------------------------

    def _refresh_task(self) -> asyncio.Task[None] | None:
        if self._refreshing is None and self.clock() >= self._retry_at:
            self._refreshing = asyncio.create_task(self._refresh())
        return self._refreshing

    async def poll(self) -> None:
        """Reads the catalogue's version; the copy is behind when another process moved it."""
        async with session_scope(self.factory) as session:
            version = await _version(session)
        if version != self.version and self.index is not None and self._reflected == self._changes:
            self.clear()

    async def _poll_in_background(self) -> None:
        try:
            await self.poll()
        except Exception as exc:  # the copy stays as it is; tried again after another interval
            log.warning("search_poll_failed", error=str(exc))
        finally:
            self._polling = None

    async def _refresh(self) -> None:
        changes = self._changes
        started = self.clock()
        try:
            async with session_scope(self.factory) as session:
                pg = dialect_of(session) == "postgresql"
                low = int(await session.scalar(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"))
                          ) if pg else None
                version = await _version(session)
                whole = self.index is None or not pg or self._low is None
                index = memory.Index() if whole else self.index
                assert index is not None
                changed: list[str] = []
                rows: Sequence[Any] = []
                if pg:  # PostgreSQL's reads lock nothing: the rows are taken in as they come
                    ids = [] if whole else list((await session.scalars(text(_CHANGED_IDS), {"low": self._low})).all())
                    result = await session.stream(text(_ROWS if whole else _CHANGED), {} if whole else {"ids": ids})
                    async for batch in result.partitions(_BATCH):
                        index.put(memory.Row(*r) for r in batch)
                        changed += [r[1] for r in batch]
                        await asyncio.sleep(0)
                else:  # SQLite's transactions take the write lock (app/db.py): read, let go, then build
                    rows = (await session.execute(text(_ROWS))).all()
                words = await _words(session)
            for i in range(0, len(rows), _BATCH):
                index.put(memory.Row(*r) for r in rows[i:i + _BATCH])
                changed += [r[1] for r in rows[i:i + _BATCH]]
                await asyncio.sleep(0)
            index.set_merchants(words[0])
            index.set_words(words[1], words[2])
            if whole:
                index.rechunk()
                heap.keep_loaded()
            self.index, self.version, self._low = index, version, low
            self._whole = not pg
            self._reflected = changes
            self._drop_json(None if whole else changed)
            log.info("search_copy_refreshed", whole=whole, rows=len(changed), products=len(index),
                     ms=round((self.clock() - started) * 1000, 1))
        except Exception as exc:  # the database keeps answering; a search tries again after an interval
            self._retry_at = self.clock() + self.poll_s
            log.warning("search_copy_refresh_failed", error=str(exc))
        finally:
            self._refreshing = None


async def _version(session: AsyncSession) -> int | None:
    found: Any = await session.scalar(text("SELECT n FROM catalog_version WHERE id = 1"))
    return None if found is None else int(found)


async def _words(session: AsyncSession) -> tuple[Sequence[str], Sequence[str], list[tuple[str, int, str, list[str]]]]:
    """Merchants that sell publicly, dictionary words and synonyms: small tables, read whole each time."""
    merchants = (await session.scalars(select(Merchant.id).where(Merchant.status == "active", Merchant.listed))).all()
    dictionary = (await session.scalars(select(SearchDictionaryWord.word).distinct())).all()
    synonyms = (await session.execute(select(SearchSynonym.merchant_id, SearchSynonym.id, SearchSynonym.key,
                                             SearchSynonym.terms))).all()
    return merchants, dictionary, [(r.merchant_id, r.id, r.key, list(r.terms)) for r in synonyms]
