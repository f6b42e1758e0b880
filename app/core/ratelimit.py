"""Rate limits per client address and per bearer token, with `Retry-After`.

An address is charged for every request without a token and for every request answered 401 (a bad token, a
wrong password), and once it is over its limit every request from it is refused, whatever token it sends: junk
tokens cannot buy a fresh budget each, and password guessing is bounded per address. A request whose token is
good counts against that token alone, so a busy client behind a shared address keeps its own budget.

Fixed one-minute windows. With `REDIS_URL` set the counters live in Redis, so every server process
shares them; otherwise each process counts for itself (fine for one process, generous for several).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.http import problem
from app.core.logging import get_logger

log = get_logger("app.ratelimit")
WINDOW_S = 60
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/v1/payments/stripe/webhook", "/static", "/docs",
                   "/openapi.json")


class Counter(Protocol):
    async def hit(self, key: str, window: int, amount: int = 1) -> int:
        """Count `amount` requests (0: none) for `key` in window number `window`; return the count so far."""


class MemoryCounter:
    def __init__(self) -> None:
        self.window = -1
        self.counts: dict[str, int] = {}

    async def hit(self, key: str, window: int, amount: int = 1) -> int:
        if window != self.window:  # a new minute: forget the old one
            self.window, self.counts = window, {}
        count = self.counts.get(key, 0) + amount
        if amount:
            self.counts[key] = count
        return count


# One round trip: count, and give a window's counter its expiry when it has none yet.
_HIT = """
local n = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return n
"""


class RedisCounter:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url)
        self._hit = self.redis.register_script(_HIT)

    async def hit(self, key: str, window: int, amount: int = 1) -> int:
        return int(await self._hit(keys=[f"liutong:rl:{window}:{key}"], args=[amount, WINDOW_S * 2]))


def client_key(headers: Iterable[tuple[bytes, bytes]], client: tuple[str, int] | None) -> tuple[str, bool]:
    """(key, is_token): the bearer token's hash when one is sent, else the client address."""
    token = _bearer(headers)
    if token is not None:
        return "t:" + hashlib.sha256(token.encode()).hexdigest()[:24], True
    return address_key(client), False


def address_key(client: tuple[str, int] | None) -> str:
    return "ip:" + (client[0] if client else "unknown")


def _bearer(headers: Iterable[tuple[bytes, bytes]]) -> str | None:
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    return None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, per_ip: int, per_token: int, counter: Counter) -> None:
        self.app = app
        self.per_ip = per_ip
        self.per_token = per_token
        self.counter = counter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        key, is_token = client_key(scope.get("headers", []), scope.get("client"))
        address = address_key(scope.get("client")) if is_token else key
        now = time.time()
        window = int(now // WINDOW_S)
        # A token's request reads its address's count (and is refused when the address is over its limit); a
        # request without one is charged to the address.
        checks = [(address, self.per_ip, 0 if is_token else 1)]
        if is_token:
            checks.append((key, self.per_token, 1))
        for bucket, limit, amount in checks:
            # A read counts this request as if charged: the address has no room left for one more failure.
            if limit > 0 and await self._count(bucket, window, amount) + (1 - amount) > limit:
                retry = max(1, int((window + 1) * WINDOW_S - now) + 1)
                response = problem(429, f"more than {limit} requests a minute; retry in {retry} s",
                                   type_slug="rate-limited", headers={"Retry-After": str(retry)})
                await response(scope, receive, send)
                return
        if not is_token or self.per_ip <= 0:
            await self.app(scope, receive, send)
            return

        async def charge_failures(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                await self._count(address, window, 1)  # a bad token: the address pays for it
            await send(message)

        await self.app(scope, receive, charge_failures)

    async def _count(self, key: str, window: int, amount: int) -> int:
        try:
            return await self.counter.hit(key, window, amount)
        except Exception as exc:  # the limiter must never take the shop down with it
            log.warning("rate_limit_unavailable", error=str(exc))
            return 0


def make_counter(redis_url: str | None) -> Counter:
    return RedisCounter(redis_url) if redis_url else MemoryCounter()
