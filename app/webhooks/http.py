"""Webhook POSTs over kept-alive HTTP/1.1 connections, and nothing else.

A webhook is one small signed POST whose answer is a status code. A general-purpose client (httpx: its connection
pool's bookkeeping on every request, anyio underneath) spent 1-2 ms of CPU on each, twenty times the request
itself; at a thousand events a second that was more than the webhook consumer's whole core. This client writes the
request itself, reads the answer with the C parser uvicorn uses (httptools), and keeps the connection for the next
request to the same origin.

- Redirects are not followed (a 3xx is an answer like any other non-2xx: the attempt failed).
- Up to `DRAIN_BYTES` of a response body are read and dropped so that its connection can be kept; a longer body
  is not read further and its connection is closed.
- An idle connection is kept `KEEP_ALIVE_S` (under the common 5 s of servers' keep-alive timeouts). A request on a
  kept connection that the other side closed meanwhile, before any byte of an answer, is sent once more on a new
  connection: receivers drop repeats by `Liutong-Event-Id`, deliveries being at least once anyway.
- Errors are raised with the names a merchant reads in the console's last error (`ConnectError`, `ReadTimeout`...).
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import quote, urlsplit

import httptools

KEEP_ALIVE_S = 4.0
DRAIN_BYTES = 64 * 1024
MAX_IDLE_PER_ORIGIN = 32
_READ_CHUNK = 64 * 1024


class WebhookHTTPError(Exception):
    """A request that got no answer (its class name is what the console shows)."""


class ConnectError(WebhookHTTPError):
    pass


class ConnectTimeout(WebhookHTTPError):
    pass


class ReadError(WebhookHTTPError):
    pass


class ReadTimeout(WebhookHTTPError):
    pass


class RemoteProtocolError(WebhookHTTPError):
    pass


Origin = tuple[str, str, int]


@dataclass(slots=True)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    idle_since: float = 0.0

    def close(self) -> None:
        self.writer.close()


class _Answer:
    """httptools callbacks: the final (non-1xx) response's end and how much body it had."""

    __slots__ = ("body_bytes", "complete", "keep_alive", "parser", "status")

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.status = 0
        self.body_bytes = 0
        self.complete = False
        self.keep_alive = False

    def on_body(self, body: bytes) -> None:
        self.body_bytes += len(body)

    def on_message_complete(self) -> None:
        status = self.parser.get_status_code()
        if status >= 200:  # an interim answer (100, 103) is followed by the real one
            self.status = status
            self.complete = True
            # asked here: once the message is complete the parser is reset for the next one and says False
            self.keep_alive = bool(self.parser.should_keep_alive())


class WebhookClient:
    """POSTs to merchants' endpoints; one request at a time per connection, connections kept per origin."""

    def __init__(self, *, timeout: float, user_agent: str, ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout  # connecting, and waiting for the answer
        self._user_agent = user_agent
        self._ssl = ssl_context
        self._idle: dict[Origin, list[_Connection]] = {}

    async def __aenter__(self) -> WebhookClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for conns in self._idle.values():
            for conn in conns:
                conn.close()
        self._idle.clear()

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url`; the response's status code."""
        origin, head = self._request_head(url, body, headers)
        request = head + body
        while True:
            conn = self._take(origin)
            reused = conn is not None
            if conn is None:
                conn = await self._connect(origin)
            try:
                conn.writer.write(request)
                await conn.writer.drain()
                status, keep = await self._answer(conn.reader)
            except _ClosedBeforeAnswer as exc:
                conn.close()
                if reused:
                    continue  # the server let the kept connection go: once more on a new one
                raise ReadError(str(exc.__cause__ or "connection closed before an answer")) from exc
            except BaseException:  # a timeout or cancellation mid-answer: the connection's state is unknown
                conn.close()
                raise
            if keep:
                self._give_back(origin, conn)
            else:
                conn.close()
            return status

    def _request_head(self, url: str, body: bytes, headers: Mapping[str, str]) -> tuple[Origin, bytes]:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ConnectError(f"not an http(s) URL: {url}")
        host = parts.hostname
        port = parts.port or (443 if scheme == "https" else 80)
        host_header = f"[{host}]" if ":" in host else host
        if parts.port is not None:
            host_header += f":{parts.port}"
        target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=~-._") + (
            "?" + quote(parts.query, safe="/?%:@!$&'()*+,;=~-._") if parts.query else "")
        lines = [f"POST {target} HTTP/1.1", f"Host: {host_header}", f"User-Agent: {self._user_agent}",
                 f"Content-Length: {len(body)}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        return (scheme, host, port), ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _take(self, origin: Origin) -> _Connection | None:
        conns = self._idle.get(origin)
        now = time.monotonic()
        while conns:
            conn = conns.pop()
            if now - conn.idle_since < KEEP_ALIVE_S and not conn.reader.at_eof() and not conn.writer.is_closing():
                return conn
            conn.close()
        return None

    def _give_back(self, origin: Origin, conn: _Connection) -> None:
        conns = self._idle.setdefault(origin, [])
        if len(conns) >= MAX_IDLE_PER_ORIGIN:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        conns.append(conn)

    async def _connect(self, origin: Origin) -> _Connection:
        scheme, host, port = origin
        context: ssl.SSLContext | None = None
        if scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()  # once per client: building one costs milliseconds
            context = self._ssl
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, ssl=context, server_hostname=host if context else None, limit=_READ_CHUNK)
        except TimeoutError as exc:
            raise ConnectTimeout(f"no connection to {host}:{port} within {self.timeout:g} s") from exc
        except (OSError, ssl.SSLError) as exc:
            raise ConnectError(str(exc) or type(exc).__name__) from exc
        return _Connection(reader, writer)

    async def _answer(self, reader: asyncio.StreamReader) -> tuple[int, bool]:
        """The status code, and whether the connection may carry another request."""
        answer = _Answer()
        got_any = False
        try:
            async with asyncio.timeout(self.timeout):
                while not answer.complete:
                    try:
                        data = await reader.read(_READ_CHUNK)
                    except OSError as exc:
                        if not got_any:
                            raise _ClosedBeforeAnswer from exc
                        raise ReadError(str(exc) or type(exc).__name__) from exc
                    if not data:
                        if not got_any:
                            raise _ClosedBeforeAnswer
                        status = answer.parser.get_status_code()
                        if status >= 200 and not answer.parser.should_keep_alive():
                            return status, False  # a body that ends with the connection
                        raise RemoteProtocolError("connection closed mid-answer")
                    got_any = True
                    try:
                        answer.parser.feed_data(data)
                    except httptools.HttpParserUpgrade:
                        raise RemoteProtocolError("the server switched protocols") from None
                    except httptools.HttpParserError as exc:
                        raise RemoteProtocolError(str(exc) or "malformed answer") from exc
                    if answer.body_bytes > DRAIN_BYTES:
                        return answer.parser.get_status_code(), False  # not read to its end: not reusable
        except TimeoutError as exc:
            raise ReadTimeout(f"no answer within {self.timeout:g} s") from exc
        return answer.status, answer.keep_alive


class _ClosedBeforeAnswer(Exception):
    """The connection ended (or failed) before the first byte of an answer."""
