"""Rate limits per bearer token and per client IP, with `Retry-After`.

Fixed one-minute windows. With `REDIS_URL` set the counters live in Redis, so every server process
shares them; otherwise each process counts for itself (fine for one process, generous for several).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable
from typing import Protocol

from starlette.types import ASGIApp, Receive, Scope, Send

from app.core.http import problem
from app.core.logging import get_logger

log = get_logger("app.ratelimit")
WINDOW_S = 60
EXEMPT_PREFIXES = ("/healthz", "/readyz", "/metrics", "/v1/payments/stripe/webhook", "/static", "/docs",
                   "/openapi.json")


class Counter(Protocol):
    async def hit(self, key: str, window: int) -> int:
        """Count one request for `key` in window number `window`; return the count so far."""


class MemoryCounter:
    def __init__(self) -> None:
        self.window = -1
        self.counts: dict[str, int] = {}

    async def hit(self, key: str, window: int) -> int:
        if window != self.window:  # a new minute: forget the old one
            self.window, self.counts = window, {}
        self.counts[key] = self.counts.get(key, 0) + 1
        return self.counts[key]


class RedisCounter:
    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self.redis = redis.from_url(url)

    async def hit(self, key: str, window: int) -> int:
        name = f"liutong:rl:{window}:{key}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(name)
            pipe.expire(name, WINDOW_S * 2)
            count, _ = await pipe.execute()
        return int(count)


def client_key(headers: Iterable[tuple[bytes, bytes]], client: tuple[str, int] | None) -> tuple[str, bool]:
    """(key, is_token): the bearer token's hash when one is sent, else the client address."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return "t:" + hashlib.sha256(token.strip().encode()).hexdigest()[:24], True
    return "ip:" + (client[0] if client else "unknown"), False


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
        limit = self.per_token if is_token else self.per_ip
        if limit > 0:
            now = time.time()
            window = int(now // WINDOW_S)
            try:
                count = await self.counter.hit(key, window)
            except Exception as exc:  # the limiter must never take the shop down with it
                log.warning("rate_limit_unavailable", error=str(exc))
                count = 0
            if count > limit:
                retry = max(1, int((window + 1) * WINDOW_S - now) + 1)
                response = problem(429, f"more than {limit} requests a minute; retry in {retry} s",
                                   type_slug="rate-limited", headers={"Retry-After": str(retry)})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def make_counter(redis_url: str | None) -> Counter:
    return RedisCounter(redis_url) if redis_url else MemoryCounter()
