"""Clients that hang up or dribble, against `shop serve` over raw sockets: a body cut off by the client is the
client's event (one info line, no 500, no traceback); a body that does not arrive in time is a 408 and the connection
is closed; with `--http h11` a request head over the limit is a 400."""

from __future__ import annotations

import asyncio
import json
import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import _empty_tables
from tests.servers import Server, free_port

BODY_SECONDS = "1"


@pytest.fixture
def server(pg_url: str, tmp_path: Path) -> Iterator[Server]:
    asyncio.run(_empty_tables(pg_url))
    srv = Server(pg_url, free_port(), log_path=tmp_path / "serve.log", args=["--http", "h11"],
                 SHOP_LOG_LEVEL="info", SHOP_LOG_JSON="true", SHOP_BODY_TIMEOUT_SECONDS=BODY_SECONDS,
                 SHOP_MAX_HEADER_BYTES="8192")
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()


def _head(path: str, length: int) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def _events(server: Server, name: str) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("event") == name]


def _wait_for(server: Server, name: str, count: int) -> list[dict[str, object]]:
    """The server's `name` log lines, once there are `count` of them (the server logs as it handles the hang-up)."""
    for _ in range(300):  # waiting for the server to get there, not a timing assertion
        found = _events(server, name)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{count} {name} lines expected:\n{server.output()}")


# A route that reads its body itself (checkout) and one whose body FastAPI parses (sign-up).
HUNG_UP = ["/v1/checkout", "/v1/customers"]


def test_a_client_hanging_up_mid_body_is_one_info_line_not_a_500(server: Server):
    body = json.dumps({"email": "gone@example.com", "password": "s3cret-pass", "name": "走了", "x": "y" * 2000})
    for path in HUNG_UP:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
            s.sendall(_head(path, len(body)) + body[: len(body) // 2].encode())  # half the body, then away
    gone = _wait_for(server, "client_disconnected", len(HUNG_UP))
    assert sorted((e["path"], e["level"]) for e in gone) == sorted((p, "info") for p in HUNG_UP)
    output = server.output()
    assert "Traceback" not in output and "unhandled_error" not in output and "request_failed" not in output
    metrics = httpx.get(f"{server.base}/metrics").text
    assert 'status="500"' not in metrics
    assert httpx.get(f"{server.base}/healthz").status_code == 200


def test_a_dribbling_client_gets_408_and_its_connection_closed(server: Server):
    body = b'{"email": "slow@example.com", "password": "s3cret-pass", "name": "' + b"x" * 4000 + b'"}'
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(_head("/v1/customers", len(body)))
        for i in range(0, len(body), 10):  # ten bytes every 0.1 s (40 s for the whole body) until answered
            s.sendall(body[i:i + 10])
            if select.select([s], [], [], 0.1)[0]:
                break
        answer = b""
        try:
            while chunk := s.recv(65536):  # read until the server closes the connection
                answer += chunk
        except ConnectionResetError:
            pass
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408"), answer
    assert b"connection: close" in head.lower()
    assert json.loads(payload)["status"] == 408
    assert _events(server, "client_disconnected") == []


def test_a_request_head_over_the_limit_is_refused(server: Server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        try:
            for i in range(100):  # 100 KiB of headers; the limit is 8 KiB
                s.sendall(f"X-Junk-{i}: {'a' * 1000}\r\n".encode())
        except OSError:  # refused and closed before all of it was sent
            pass
        answer = s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 400"), answer
