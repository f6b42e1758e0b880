"""A short-lived, in-process cache of public catalogue pages.

Anonymous catalogue reads (listing, search) are the hottest requests on a sale day and the same for
every shopper, so each process keeps the bytes of a page for `SHOP_CATALOG_CACHE_SECONDS` (1 s by
default; 0 turns it off). A transaction that changes what a page may show (a product, its variants, a
merchant's status, a takedown) marks the session with `mark_changed`; when it commits, every cache of
this process is emptied. Other processes drop their copies when the TTL runs out, so a listing is at
most that many seconds stale; checkout always re-reads the database, so a stale page can never sell
anything that is not for sale.

Such a transaction also counts `catalog_version` up as it commits, which is how other processes' longer-lived
copies (the search index's, app/catalog/search/live.py) learn that they are behind.
"""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import event, text
from sqlalchemy.orm import Session

_KEY = "catalog.changed"
# Counted up by every transaction that changes the catalogue, as it commits: how other processes' copies of it
# (app/catalog/search/live.py) learn that they are behind. The row lock orders those commits.
_BUMP = text("UPDATE catalog_version SET n = n + 1 WHERE id = 1")


class Clearable(Protocol):
    def clear(self) -> None: ...


_caches: weakref.WeakSet[Clearable] = weakref.WeakSet()
V = TypeVar("V")


def register(copy: Clearable) -> None:
    """`copy.clear()` is called whenever this process commits a change to the catalogue."""
    _caches.add(copy)


class Flights(Generic[V]):
    """Computations under way, by key: a caller that finds one under way waits for its result instead of doing
    the same work again (a burst of identical work exactly when load is highest). If the caller doing it is
    cancelled, a waiting one does it instead; if it fails, the waiting ones get its exception."""

    def __init__(self) -> None:
        self._pending: dict[tuple[asyncio.AbstractEventLoop, Hashable], asyncio.Future[V]] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def under_way(self, key: Hashable) -> bool:
        return (asyncio.get_running_loop(), key) in self._pending

    def forget(self) -> None:
        """Callers already waiting keep their result; later ones no longer join them."""
        self._pending.clear()

    async def run(self, key: Hashable, compute: Callable[[], Awaitable[V]]) -> V:
        slot = (asyncio.get_running_loop(), key)
        while (waiting := self._pending.get(slot)) is not None:
            try:
                return await asyncio.shield(waiting)
            except asyncio.CancelledError:
                if not waiting.cancelled():
                    raise
        future = self._pending[slot] = slot[0].create_future()
        try:
            value = await compute()
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: the waiters (if any) re-raise it
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            if self._pending.get(slot) is future:
                del self._pending[slot]
        future.set_result(value)
        return value


class PageCache:
    def __init__(self, ttl_s: float, max_entries: int = 2_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self.clock = clock
        self.entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self.pending: Flights[bytes] = Flights()
        register(self)

    @property
    def enabled(self) -> bool:
        return self.ttl_s > 0

    def get(self, key: str) -> bytes | None:
        found = self.entries.get(key)
        if found is None:
            return None
        expires, body = found
        if self.clock() >= expires:
            del self.entries[key]
            return None
        return body

    def put(self, key: str, body: bytes) -> None:
        self.entries[key] = (self.clock() + self.ttl_s, body)
        self.entries.move_to_end(key)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    def clear(self) -> None:
        self.entries.clear()
        self.pending.forget()  # requests already computing keep their own result; nobody joins them now

    async def get_or_compute(self, key: str, compute: Callable[[], Awaitable[bytes]]) -> bytes:
        """The cached page, or compute it once however many requests ask at the same moment.

        Without this, every request arriving while a popular page is being recomputed (just after it
        expired) would run the same queries: a burst of identical work exactly when load is highest.
        """
        hit = self.get(key)
        if hit is not None:
            return hit

        async def computed() -> bytes:
            body = await compute()
            self.put(key, body)
            return body

        return await self.pending.run(key, computed)


def mark_changed(session: Any) -> None:
    """This transaction changes what public catalogue pages show: empty the caches when it commits."""
    session.info[_KEY] = True


def invalidate_all() -> None:
    for cache in list(_caches):
        cache.clear()


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get(_KEY):
        session.execute(_BUMP)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_KEY, False):
        invalidate_all()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
