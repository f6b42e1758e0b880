"""The webhook sender's HTTP client against real servers on 127.0.0.1: connections kept for the next request, a
kept connection the server let go replaced without losing the request, answers of every shape read to their status,
an endpoint's cookies not kept, HTTPS verified, and no answer named as the console shows it."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.webhooks import http
from app.webhooks.http import WebhookClient

Answer = Callable[[int], bytes | None]  # the n-th request's raw answer; None: close without answering


@dataclass
class Server:
    """An HTTP/1.1 endpoint that reads each request whole and writes `answer(n)`; counts connections."""

    answer: Answer
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)
    close_after_answer: bool = False
    port: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                              if line.lower().startswith(b"content-length:"))
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                raw = self.answer(len(self.requests))
                if raw is None:
                    break
                writer.write(raw)
                await writer.drain()
                if self.close_after_answer:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks?shop=1"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[..., Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer, **kw: bool) -> Server:
        s = Server(answer, **kw)
        srv = await asyncio.start_server(s.handle, "127.0.0.1", 0)
        s.port = srv.sockets[0].getsockname()[1]
        servers.append(srv)
        return s

    yield start
    for srv in servers:
        srv.close()


NO_CONTENT = b"HTTP/1.1 204 No Content\r\n\r\n"


def client() -> WebhookClient:
    return WebhookClient(timeout=2.0, user_agent="Liutong-Webhooks/1")


async def test_requests_to_one_endpoint_share_a_kept_connection(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve(lambda n: NO_CONTENT)
    async with client() as c:
        codes = [await c.post(server.url, b'{"id":"evt_%d"}' % i, {"Liutong-Event-Id": f"evt_{i}"}) for i in range(5)]
    assert codes == [204] * 5
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /hooks?shop=1 HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in first and b"\r\nLiutong-Event-Id: evt_0\r\n" in first
    assert b"\r\nUser-Agent: Liutong-Webhooks/1\r\n" in first
    assert first.endswith(b'\r\n\r\n{"id":"evt_0"}')


async def test_a_kept_connection_the_server_dropped_is_replaced_and_the_request_sent(
        serve: Callable[..., Awaitable[Server]]) -> None:
    # the second request finds its kept connection closed without an answer: it goes again on a new one
    server = await serve(lambda n: None if n == 2 else NO_CONTENT)
    async with client() as c:
        assert await c.post(server.url, b"{}", {}) == 204
        assert await c.post(server.url, b"{}", {}) == 204
    assert server.connections == 2 and len(server.requests) == 3


async def test_answers_with_bodies_are_read_to_their_status(serve: Callable[..., Awaitable[Server]]) -> None:
    answers = {
        1: b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        2: b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        3: b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n",
        4: b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/elsewhere\r\nContent-Length: 0\r\n\r\n",
        5: b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\nerror",
    }
    server = await serve(lambda n: answers[n])
    async with client() as c:
        codes = [await c.post(server.url, b"{}", {}) for _ in answers]
    assert codes == [200, 200, 202, 302, 500]  # a redirect is an answer, not followed
    assert server.connections == 1


async def test_a_long_answer_is_not_read_to_its_end_and_its_connection_not_kept(
        serve: Callable[..., Awaitable[Server]]) -> None:
    big = b"x" * (http.DRAIN_BYTES * 4)
    server = await serve(lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
    async with client() as c:
        assert [await c.post(server.url, b"{}", {}) for _ in range(2)] == [200, 200]
    assert server.connections == 2


async def test_an_answer_that_ends_with_the_connection(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve(lambda n: b"HTTP/1.0 200 OK\r\n\r\nbody until close", close_after_answer=True)
    async with client() as c:
        assert [await c.post(server.url, b"{}", {}) for _ in range(2)] == [200, 200]
    assert server.connections == 2


async def test_no_answer_is_an_error_named_for_the_console(serve: Callable[..., Awaitable[Server]]) -> None:
    async with client() as c:
        with pytest.raises(http.ConnectError):  # nothing listens on port 1
            await c.post("http://127.0.0.1:1/hooks", b"{}", {})
        silent = await serve(lambda n: None)  # every connection closed without a word
        with pytest.raises(http.ReadError):
            await c.post(silent.url, b"{}", {})
        assert len(silent.requests) == 2  # tried once more, then given up
        garbled = await serve(lambda n: b"NOT HTTP AT ALL\r\n\r\n")
        with pytest.raises(http.RemoteProtocolError):
            await c.post(garbled.url, b"{}", {})


async def test_an_answer_cut_short_is_a_protocol_error(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve(lambda n: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", close_after_answer=True)
    async with client() as c:
        with pytest.raises(http.RemoteProtocolError, match="received 3 of 10 bytes"):
            await c.post(server.url, b"{}", {})
    assert len(server.requests) == 1  # an answer began: not sent again


async def test_an_endpoints_cookies_are_not_sent_back(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve(lambda n: b"HTTP/1.1 204 No Content\r\nSet-Cookie: session=abc; Path=/\r\n\r\n")
    async with client() as c:
        url = server.url.replace("127.0.0.1", "localhost")  # a cookie jar takes no cookies from an IP address
        assert [await c.post(url, b"{}", {}) for _ in range(2)] == [204, 204]
    assert all(b"\r\ncookie:" not in r.lower() for r in server.requests)


async def test_an_endpoint_that_never_answers_times_out(serve: Callable[..., Awaitable[Server]]) -> None:
    hold = asyncio.Event()

    async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hold.wait()
        writer.close()

    srv = await asyncio.start_server(stall, "127.0.0.1", 0)
    port = srv.sockets[0].getsockname()[1]
    try:
        async with WebhookClient(timeout=0.2, user_agent="t") as c:
            with pytest.raises(http.ReadTimeout):
                await c.post(f"http://127.0.0.1:{port}/", b"{}", {})
    finally:
        hold.set()
        srv.close()


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=1))
            .not_valid_after(now + timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


async def test_https_endpoints_are_verified_and_their_connections_kept(tmp_path: Path) -> None:
    cert_file, key_file = _self_signed(tmp_path)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_file, key_file)
    server = Server(lambda n: NO_CONTENT)
    srv = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=server_tls)
    url = f"https://127.0.0.1:{srv.sockets[0].getsockname()[1]}/hooks"
    try:
        trusting = ssl.create_default_context(cafile=str(cert_file))
        async with WebhookClient(timeout=2.0, user_agent="t", ssl_context=trusting) as c:
            assert [await c.post(url, b"{}", {}) for _ in range(3)] == [204, 204, 204]
        assert server.connections == 1
        async with WebhookClient(timeout=2.0, user_agent="t") as c:  # the system's authorities: not trusted
            with pytest.raises(http.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await c.post(url, b"{}", {})
    finally:
        srv.close()
