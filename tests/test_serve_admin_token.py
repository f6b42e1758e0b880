"""On the embedded database `shop serve` makes the operator's token itself and keeps it owner-only."""

from __future__ import annotations

import os
import stat
import subprocess
import time

import httpx
import pytest

from tests.servers import free_port
from tests.test_tour import SHOP


def test_serve_makes_a_local_admin_token_that_the_server_accepts(tmp_path: pytest.TempPathFactory) -> None:
    work = tmp_path
    env = {k: v for k, v in os.environ.items() if k not in ("SHOP_ADMIN_TOKEN", "SHOP_SECRET_KEY")}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{work / 'shop.db'}", "SHOP_BACKGROUND_JOBS": "false",
                "SHOP_LOG_LEVEL": "warning"})
    done = subprocess.run([str(SHOP), "migrate"], env=env, cwd=work, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
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
