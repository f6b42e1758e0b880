"""The HTTP server under each sandbox: a ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread.

Besides plain requests it can answer ``CONNECT`` for a few named hosts and serve them itself over TLS, with a
certificate from its own throw-away authority (``ca_bundle_path``). That lets an SDK whose only way to another
server is a forward proxy (WeChat Pay's) talk to the sandbox unmodified. Nothing is ever forwarded anywhere.
"""

from __future__ import annotations

import html
import ipaddress
import json
import ssl
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit

import httpx

from app.payments.sandbox.keys import tls_identity

__all__ = ["Delivery", "Request", "Response", "SandboxServer", "post_to_loopback", "sandbox_page"]


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # the request target exactly as sent (path and query): what request signatures cover
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes
    tunnel_host: str | None  # the host a CONNECT tunnel was opened to; None for a direct request

    def form(self) -> dict[str, str]:
        """Query and form-encoded body parameters together (the body wins)."""
        fields = dict(self.query)
        if self.body and "application/x-www-form-urlencoded" in self.headers.get("content-type", ""):
            fields.update(parse_qsl(self.body.decode("utf-8", "replace"), keep_blank_values=True))
        return fields


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        return cls(status, body, {"Content-Type": "application/json; charset=utf-8", **(headers or {})})

    @classmethod
    def text(cls, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> Response:
        return cls(status, text.encode(), {"Content-Type": content_type})

    @classmethod
    def redirect(cls, location: str) -> Response:
        return cls(303, b"", {"Location": location})


@dataclass(frozen=True)
class Delivery:
    """What the receiver answered to a delivered notification."""

    status: int
    text: str


def _is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def post_to_loopback(url: str, *, content: bytes, headers: Mapping[str, str]) -> Delivery:
    """POST a notification to ``url``, which must be on this machine: a sandbox never reaches further."""
    if not _is_loopback(urlsplit(url).hostname):
        raise ValueError(f"a sandbox delivers notifications to loopback addresses only, not {url!r}")
    with httpx.Client(timeout=10, trust_env=False) as client:
        response = client.post(url, content=content, headers=dict(headers))
    return Delivery(response.status_code, response.text)


def sandbox_page(title: str, body_html: str) -> str:
    """A sandbox page, marked as one on top: no money moves here."""
    return (
        "<!doctype html><html lang=zh><meta charset=utf-8>"
        "<meta name=viewport content='width=device-width,initial-scale=1'>"
        f"<title>{html.escape(title)} · 沙箱 / sandbox</title>"
        "<p style='background:#c00;color:#fff;padding:4px 8px'>沙箱 / sandbox — 不会扣款 / no money moves</p>"
        f"<h1>{html.escape(title)}</h1>{body_html}</html>"
    )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # idle keep-alive connections must not hold up stop()
    owner: SandboxServer


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    timeout = 30
    tunnel_host: str | None = None

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_CONNECT(self) -> None:
        host = self.path.rsplit(":", 1)[0]
        context = self.server.owner.tls_context
        if context is None or host not in self.server.owner.tls_hosts:
            self.send_error(403, "This sandbox serves its own hosts only and forwards nothing")
            return
        self.send_response(200, "Connection Established")
        self.end_headers()
        self.wfile.flush()
        try:
            tls = context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError):
            self.close_connection = True
            return
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = tls.makefile("wb")
        self.tunnel_host = host
        self.close_connection = False  # the requests inside the tunnel follow on this connection

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        request = Request(
            method=self.command,
            target=self.path,
            path=split.path,
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            tunnel_host=self.tunnel_host,
        )
        try:
            response = self.server.owner.handle(request)
        except Exception as exc:  # a bug in the sandbox: answer it, keep serving
            response = Response.text(500, f"sandbox error: {exc!r}")
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            if self.tunnel_host is not None:
                self.connection.close()


class SandboxServer:
    """Serves :meth:`handle` on 127.0.0.1 from a daemon thread; ``tls_hosts`` are served inside CONNECT."""

    thread_name = "payment-sandbox"

    def __init__(self, *, tls_hosts: tuple[str, ...] = ()) -> None:
        self.lock = threading.RLock()
        self.url = ""
        self.tls_hosts = tls_hosts
        self.tls_context: ssl.SSLContext | None = None
        self.ca_bundle_path: str | None = None  # the authority to trust for ``tls_hosts`` (REQUESTS_CA_BUNDLE)
        self._files: tempfile.TemporaryDirectory[str] | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def handle(self, request: Request) -> Response:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is not None:
            return self
        if self.tls_hosts and self.tls_context is None:
            identity = tls_identity(list(self.tls_hosts))
            self._files = tempfile.TemporaryDirectory(prefix="payment-sandbox-")
            folder = Path(self._files.name)
            (folder / "ca.pem").write_text(identity.ca_pem)
            (folder / "server.pem").write_text(identity.certificate_pem + identity.key_pem)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(folder / "server.pem")
            self.tls_context = context
            self.ca_bundle_path = str(folder / "ca.pem")
        server = _Server(("127.0.0.1", 0), _Handler)
        server.owner = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        # a short poll interval keeps stop() quick; the idle cost is a few wake-ups a second
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        if self._files is not None:
            self._files.cleanup()
            self._files = None
            self.tls_context = None
            self.ca_bundle_path = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
