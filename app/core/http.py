"""HTTP edge: problem+json (RFC 9457) for every error, the body's size and time limits, request metrics and logs."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi import HTTPException as FastAPIHTTPException
from fastapi.exceptions import RequestValidationError
from prometheus_client import Counter, Histogram
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import DomainError
from app.core.logging import get_logger
from app.db import sqlstate

log = get_logger("app.http")
PROBLEM = "application/problem+json"

REQUESTS = Counter("shop_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("shop_http_request_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))

_TITLES = {400: "Bad request", 401: "Authentication required", 403: "Forbidden", 404: "Not found",
           405: "Method not allowed", 408: "Request timeout", 409: "Conflict", 413: "Payload too large",
           415: "Unsupported media type", 422: "Invalid input", 429: "Too many requests",
           500: "Internal server error"}


_RESERVED = {"type", "title", "status", "detail", "instance", "headers", "type_slug"}


def problem(status: int, detail: str, *, type_slug: str | None = None, title: str | None = None,
            instance: str | None = None, headers: Mapping[str, str] | None = None, **extra: Any) -> Response:
    body: dict[str, Any] = {
        "type": f"https://liutong.dev/problems/{type_slug or _TITLES.get(status, 'error').lower().replace(' ', '-')}",
        "title": title or _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM, headers=headers)


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if len(parts) > 1 else parts
    return ".".join(parts)


async def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": "body" if e.get("type") == "json_invalid" else _field(e.get("loc", ())),
               "message": e.get("msg", "invalid"), "type": e.get("type")} for e in exc.errors()]
    fields = ", ".join(dict.fromkeys(e["field"] for e in errors)) or "request"
    return problem(422, f"invalid input: {fields}", type_slug="validation-error",
                   instance=request.url.path, errors=errors)


def domain_problem(request: Request, exc: DomainError) -> Response:
    """The problem response of a domain error, as its exception handler answers it."""
    extra = {k: v for k, v in exc.extra.items() if k not in _RESERVED}
    return problem(exc.status, exc.detail, type_slug=exc.type_slug, title=exc.title,
                   instance=request.url.path, headers=exc.headers or None, **extra)


async def _domain_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return domain_problem(request, exc)


async def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, ClientDisconnect):  # FastAPI's "error parsing the body" of a body never sent
        return await _client_gone(request, exc.__cause__)
    detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "error")
    if isinstance(exc, InputProblem) and exc.errors:
        return problem(exc.status_code, detail, type_slug="validation-error" if exc.status_code == 422 else None,
                       instance=request.url.path, headers=exc.headers, errors=exc.errors)
    return problem(exc.status_code, detail, instance=request.url.path, headers=exc.headers)


class InputProblem(FastAPIHTTPException):
    """A body refused while it is read (from `receive`): FastAPI passes HTTP exceptions met there on to the
    handlers, which answer the problem with its `errors`."""

    def __init__(self, status: int, detail: str, *, errors: list[dict[str, Any]] | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code=status, detail=detail, headers=dict(headers) if headers else None)
        self.errors = errors or []


async def _unhandled(request: Request, exc: Exception) -> Response:
    log.exception("unhandled_error", path=request.url.path, method=request.method)
    return problem(500, "an unexpected error occurred; it has been logged", instance=request.url.path)


CLIENT_CLOSED = 499  # what proxies log for a client that hung up; nobody receives it


async def _client_gone(request: Request, exc: Exception) -> Response:
    """The client hung up before its request body arrived: its own doing, not a failure of ours."""
    log.info("client_disconnected", method=request.method, path=request.url.path)
    return Response(status_code=CLIENT_CLOSED)


# PostgreSQL refusing a connection: too many clients (53300), or starting up or shutting down (57P03).
_REFUSED = frozenset({"53300", "57P03"})
RETRY_AFTER_S = 1


def _busy(request: Request, reason: str) -> Response:
    log.warning("database_busy", method=request.method, path=request.url.path, reason=reason)
    return problem(503, "the service is busy; send the same request again shortly", type_slug="busy", title="Busy",
                   instance=request.url.path, headers={"Retry-After": str(RETRY_AFTER_S)})


async def _pool_timeout(request: Request, exc: Exception) -> Response:
    return _busy(request, "no database connection came free in time")


async def _database_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DBAPIError)
    if sqlstate(exc) in _REFUSED:
        return _busy(request, "the database refused a connection")
    return await _unhandled(request, exc)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(DomainError, _domain_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(ClientDisconnect, _client_gone)
    app.add_exception_handler(PoolTimeout, _pool_timeout)
    app.add_exception_handler(DBAPIError, _database_error)
    app.add_exception_handler(Exception, _unhandled)


class BodyLimitMiddleware:
    """The request body's limits: 413 for a body over the size limit (by Content-Length or by counting a streamed
    body), 408 for one that does not arrive in time.

    `larger` lets a few routes take more (picture uploads, CSV imports): path pattern -> limit in bytes. The time
    allowed is `read_seconds` from the first read, plus a second per `MIN_RATE` bytes received: a large upload
    at a decent rate is never cut off, a client dribbling a few bytes at a time is, and its connection closed.
    """

    MIN_RATE = 64 * 1024  # bytes a second

    def __init__(self, app: ASGIApp, max_bytes: int, larger: Mapping[str, int] | None = None,
                 read_seconds: float | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.larger = [(re.compile(pattern), limit) for pattern, limit in (larger or {}).items()]
        self.read_seconds = read_seconds

    def _limit(self, path: str) -> int:
        for pattern, limit in self.larger:
            if pattern.match(path):
                return limit
        return self.max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self._limit(scope.get("path", "")) if self.larger else self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > max_bytes
                except ValueError:
                    too_big = False
                if too_big:
                    await self._reject(scope, receive, send, _TooLarge(max_bytes))
                    return
        seen = 0
        started = False
        complete = False
        first_read: float | None = None

        async def limited_receive() -> Message:
            nonlocal seen, complete, first_read
            if complete or self.read_seconds is None:  # later reads wait for the client to leave: no deadline
                message = await receive()
            else:
                loop = asyncio.get_running_loop()
                if first_read is None:
                    first_read = loop.time()
                try:
                    async with asyncio.timeout_at(first_read + self.read_seconds + seen / self.MIN_RATE):
                        message = await receive()
                except TimeoutError:
                    raise _TooSlow(self.read_seconds) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > max_bytes:
                    raise _TooLarge(max_bytes)
                complete = not message.get("more_body", False)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except (_TooLarge, _TooSlow) as refused:  # read outside a route's body parsing (e.g. by middleware)
            if not started:
                await self._reject(scope, receive, send, refused)

    @staticmethod
    async def _reject(scope: Scope, receive: Receive, send: Send, refused: FastAPIHTTPException) -> None:
        response = problem(refused.status_code, str(refused.detail), headers=refused.headers)
        await response(scope, receive, send)


class _TooLarge(FastAPIHTTPException):
    """Raised from `receive`; FastAPI re-raises HTTP exceptions met while reading a body."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status_code=413, detail=f"request body exceeds {max_bytes} bytes",
                         headers={"Connection": "close"})


class _TooSlow(FastAPIHTTPException):
    """Raised from `receive` when the body's time is up; the connection is closed with the answer."""

    def __init__(self, seconds: float) -> None:
        super().__init__(status_code=408, detail=f"the request body did not arrive in time ({seconds:g} s, and a "
                         f"second per {BodyLimitMiddleware.MIN_RATE // 1024} KiB)", headers={"Connection": "close"})


class MetricsMiddleware:
    """Counts and times requests by route template (not raw path, to bound label cardinality)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", "unmatched")
            elapsed = time.perf_counter() - start
            REQUESTS.labels(scope["method"], path, str(status)).inc()
            LATENCY.labels(scope["method"], path).observe(elapsed)
            if status >= 500:
                log.error("request_failed", method=scope["method"], route=path, status=status,
                          ms=round(elapsed * 1000, 1))
