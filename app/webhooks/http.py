"""Webhook POSTs over kept-alive connections (aiohttp), and nothing else.

A webhook is one small signed POST whose answer is a status code. One `WebhookClient` (one aiohttp session and
connection pool) serves a whole sender or consumer, so connections to a merchant's endpoint are kept between
requests instead of opened for each.

- Redirects are not followed (a 3xx is an answer like any other non-2xx: the attempt failed).
- Up to `DRAIN_BYTES` of a response body are read and dropped so that its connection can be kept; a longer body
  is not read further and its connection is closed.
- An idle connection is kept `KEEP_ALIVE_S` (under the common 5 s of servers' keep-alive timeouts), at most
  `MAX_PER_HOST` connections to one endpoint. A request whose connection the other side closed before any answer
  (typically a kept one it let go meanwhile) is sent once more: receivers drop repeats by `Liutong-Event-Id`,
  deliveries being at least once anyway. aiohttp itself retries only idempotent methods, never a POST.
- TLS certificates are verified (the system's authorities, or the given context's).
- Errors are raised with the names a merchant reads in the console's last error (`ConnectError`, `ReadTimeout`...),
  whatever the library underneath calls them.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from types import TracebackType

import aiohttp

KEEP_ALIVE_S = 4.0
DRAIN_BYTES = 64 * 1024
MAX_PER_HOST = 32  # above the sender's requests in flight (service.CONCURRENCY): a request never waits for one
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


class WebhookClient:
    """POSTs to merchants' endpoints through one aiohttp session, its connections kept per endpoint."""

    def __init__(self, *, timeout: float, user_agent: str, ssl_context: ssl.SSLContext | None = None) -> None:
        self.timeout = timeout  # connecting, and waiting for the answer
        self._user_agent = user_agent
        self._ssl = ssl_context
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WebhookClient:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _open(self) -> aiohttp.ClientSession:
        # made on first use, not in __init__: aiohttp binds its pool to the running event loop
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                # built once per client: a TLS context costs milliseconds to make
                ssl=self._ssl if self._ssl is not None else ssl.create_default_context(),
                limit_per_host=MAX_PER_HOST, keepalive_timeout=KEEP_ALIVE_S)
            self._session = aiohttp.ClientSession(
                connector=connector,
                # connecting (TCP and TLS) within `timeout`, then each wait for bytes of the answer within
                # `timeout`; the whole request within both
                timeout=aiohttp.ClientTimeout(total=2 * self.timeout, sock_connect=self.timeout,
                                              sock_read=self.timeout),
                headers={"User-Agent": self._user_agent},
                skip_auto_headers=("Accept", "Accept-Encoding"),
                auto_decompress=False,  # the body is dropped unread
                cookie_jar=aiohttp.DummyCookieJar(),  # an endpoint's cookies are not sent back to it
                trust_env=False, raise_for_status=False)
        return self._session

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST `body` to `url`; the response's status code."""
        session = self._open()
        for attempt in (1, 2):
            try:
                async with session.post(url, data=body, headers=headers, allow_redirects=False) as resp:
                    await _drain(resp)
                    return resp.status
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError, aiohttp.ClientConnectionResetError) as exc:
                if isinstance(exc, aiohttp.ClientConnectorError):
                    raise _named(exc) from exc
                if attempt == 1:
                    continue  # closed before an answer: once more, on another connection
                raise ReadError(_line(exc, "connection closed before an answer")) from exc
            except (aiohttp.ClientError, ValueError, TimeoutError) as exc:
                raise _named(exc) from exc
        raise AssertionError("unreachable")


async def _drain(resp: aiohttp.ClientResponse) -> None:
    """Read the body to its end (so the connection is kept), unless it is longer than `DRAIN_BYTES`."""
    read = 0
    while not resp.content.at_eof():
        chunk = await resp.content.read(_READ_CHUNK)
        if not chunk:
            return
        read += len(chunk)
        if read > DRAIN_BYTES:
            resp.close()  # not read to its end: its connection cannot carry another request
            return


def _named(exc: BaseException) -> WebhookHTTPError:
    """aiohttp's exception as the console names it, its message on one line."""
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return ConnectTimeout(_line(exc, "no connection within the timeout"))
    if isinstance(exc, TimeoutError):  # reading (aiohttp's SocketTimeoutError) or the request's total
        return ReadTimeout(_line(exc, "no answer within the timeout"))
    if isinstance(exc, aiohttp.NonHttpUrlClientError | aiohttp.InvalidURL):
        return ConnectError(f"not an http(s) URL: {exc}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        return ConnectError(_line(exc, type(exc).__name__))
    if isinstance(exc, aiohttp.ClientResponseError):  # a malformed status line or headers
        return RemoteProtocolError(" ".join(exc.message.split()) or "malformed answer")
    if isinstance(exc, aiohttp.ClientPayloadError):  # a body cut short or malformed
        return RemoteProtocolError(_line(exc, "malformed body"))
    if isinstance(exc, aiohttp.ClientConnectionError):
        return ReadError(_line(exc, type(exc).__name__))
    return WebhookHTTPError(_line(exc, type(exc).__name__))


def _line(exc: BaseException, default: str) -> str:
    return " ".join(str(exc).split()) or default
