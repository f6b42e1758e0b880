"""`shop serve` as a real process on 127.0.0.1: the resilience tests, the browser tests and the tour use it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[2]


class Listener(ThreadingHTTPServer):
    """A test's own HTTP endpoint (a merchant's webhook receiver...): a thread per connection, and a listen backlog
    for senders that open many connections at once. The backlog is fixed as the socket starts listening, in the
    constructor: a class attribute, not one set on the server afterwards."""

    request_queue_size = 128
    daemon_threads = True


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`shop serve` on a fixed port, with more `args` and `env` over the defaults (None unsets one); `kill()` is
    SIGKILL to its whole process group. What it prints goes to `log_path` (`output()`; when none is given, a file
    of its own that `stop()` removes)."""

    def __init__(self, db_url: str, port: int, *, args: Sequence[str] = (), log_path: Path | None = None,
                 cwd: Path = ROOT, **env: str | None) -> None:
        self.port = port
        self.cwd = cwd
        self.args = list(args)
        self.base = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "DATABASE_URL": db_url, "SHOP_ADMIN_TOKEN": ADMIN_TOKEN,
                    "SHOP_SECRET_KEY": "crash-test-" + "k" * 32, "SHOP_BACKGROUND_JOBS": "false",
                    "SHOP_LOG_LEVEL": "warning", "SHOP_RATE_LIMIT_IP_PER_MINUTE": "0",
                    "SHOP_RATE_LIMIT_TOKEN_PER_MINUTE": "0", "SHOP_DB_POOL_SIZE": "10",
                    "SHOP_DB_POOL_TIMEOUT": "60",
                    # the lowest argon2 cost, as in tests/conftest.py's settings
                    "SHOP_PASSWORD_HASH_TIME_COST": "1", "SHOP_PASSWORD_HASH_MEMORY_KIB": "1024",
                    "SHOP_PASSWORD_HASH_PARALLELISM": "1",
                    # the tests start dozens of servers, most of which never search: the dictionary on first use
                    "SHOP_SEARCH_WARM_UP": "false"}
        self.set_env(env)
        self.own_log = log_path is None
        if log_path is None:
            handle, name = tempfile.mkstemp(prefix="shop-serve-", suffix=".log")
            os.close(handle)
            log_path = Path(name)
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def set_env(self, env: Mapping[str, str | None]) -> None:
        """More variables for the server's environment; None unsets one."""
        self.env.update({k: v for k, v in env.items() if v is not None})
        for name in (k for k, v in env.items() if v is None):
            self.env.pop(name, None)

    def start(self) -> None:
        shop = Path(sys.executable).parent / "shop"
        with self.log_path.open("wb") as log:  # the child keeps its own descriptor
            self.proc = subprocess.Popen([str(shop), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                                          *self.args], env=self.env, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        for _ in range(300):  # the server starting up, not a timing assertion
            if self.proc.poll() is not None:
                raise RuntimeError(f"shop serve exited: {self.output()}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("shop serve did not become ready")

    def output(self) -> str:
        """What the server printed so far (its log lines)."""
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)

    def stop(self) -> None:
        try:
            self._stop()
        finally:
            if self.own_log:
                self.log_path.unlink(missing_ok=True)

    def _stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)


@contextmanager
def served(db_url: str, *, args: Sequence[str] = (), cwd: Path = ROOT, unset: Sequence[str] = (),
           **env: str) -> Iterator[Server]:
    """A started `Server` on a free port for the length of the block (a module's fixture), stopped after it;
    `env` over the defaults, `unset` taken out of the environment."""
    server = Server(db_url, free_port(), args=args, cwd=cwd)
    server.set_env({**env, **dict.fromkeys(unset)})
    try:
        server.start()
        yield server
    finally:
        server.stop()
