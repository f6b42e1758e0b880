"""On the embedded database `shop serve` makes the operator's token itself and keeps it owner-only."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import httpx

from tests.conftest import sqlite_copy
from tests.servers import free_port
from tests.test_tour import SHOP


def test_serve_makes_a_local_admin_token_that_the_server_accepts(tmp_path: Path, sqlite_template: Path) -> None:
    work = tmp_path
    env = {k: v for k, v in os.environ.items() if k not in ("SHOP_ADMIN_TOKEN", "SHOP_SECRET_KEY")}
    env.update({"DATABASE_URL": sqlite_copy(sqlite_template, work / "shop.db"),  # as `shop migrate` leaves it
                "SHOP_BACKGROUND_JOBS": "false", "SHOP_LOG_LEVEL": "warning"})
    port = free_port()
    proc = subprocess.Popen([str(SHOP), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, cwd=work,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):  # waiting for start-up, not a timing assertion
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        token_file = work / "var" / "admin-token"
        token = token_file.read_text().strip()
        assert len(token) >= 40
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        ok = httpx.get(f"{base}/v1/admin/merchants", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        wrong = httpx.get(f"{base}/v1/admin/merchants", headers={"Authorization": "Bearer not-it"})
        assert wrong.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=15)
