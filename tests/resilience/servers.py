"""`shop serve` as a real process on 127.0.0.1, for the resilience tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import ADMIN_TOKEN

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`shop serve` on a fixed port; `kill()` is SIGKILL to its whole process group."""

    def __init__(self, db_url: str, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "DATABASE_URL": db_url, "SHOP_ADMIN_TOKEN": ADMIN_TOKEN,
                    "SHOP_SECRET_KEY": "crash-test-" + "k" * 32, "SHOP_BACKGROUND_JOBS": "false",
                    "SHOP_LOG_LEVEL": "warning", "SHOP_RATE_LIMIT_IP_PER_MINUTE": "0",
                    "SHOP_RATE_LIMIT_TOKEN_PER_MINUTE": "0", "SHOP_DB_POOL_SIZE": "10"}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        shop = Path(sys.executable).parent / "shop"
        self.proc = subprocess.Popen([str(shop), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                     env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True)
        for _ in range(300):  # the server starting up, not a timing assertion
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"shop serve exited: {err}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("shop serve did not become ready")

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=15)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
