"""C6: in production (SHOP_ENV=production) `shop serve` refuses to start without the platform's own ICP number,
saying why; with one it serves and every footer shows it. The demo keeps its placeholder and warns."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from app.config import DEMO_ICP_NO, StartupRefused
from app.main import create_app
from tests.conftest import make_settings, sqlite_copy
from tests.servers import Server, free_port
from tests.test_tour import SHOP

ICP = "浙ICP备20261203号-2"


def _env(work: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOP_PLATFORM_")}
    env.update({"DATABASE_URL": f"sqlite+aiosqlite:///{work / 'shop.db'}", "SHOP_BACKGROUND_JOBS": "false",
                "SHOP_LOG_LEVEL": "warning", "SHOP_ADMIN_TOKEN": "t" * 40, **more})
    return env


def _serve(work: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`shop serve` that is expected to give up before it binds (a server that starts would hit the timeout)."""
    return subprocess.run([str(SHOP), "serve", "--host", "127.0.0.1", "--port", str(free_port())], env=env, cwd=work,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("icp", "why"), [(None, "demo placeholder"), ("", "is empty"),
                                          ("ICP 12345", "not an ICP filing or licence number")])
def test_production_without_an_icp_number_refuses_to_start_and_says_why(
        tmp_path: Path, icp: str | None, why: str) -> None:
    env = _env(tmp_path, SHOP_ENV="production")
    if icp is not None:
        env["SHOP_PLATFORM_ICP_NO"] = icp
    done = _serve(tmp_path, env)
    assert done.returncode != 0
    assert "SHOP_ENV=production refuses to start" in done.stderr and "SHOP_PLATFORM_ICP_NO" in done.stderr
    assert why in done.stderr


def test_production_with_an_icp_number_starts_and_every_footer_shows_it(tmp_path: Path, sqlite_template: Path) -> None:
    db_url = sqlite_copy(sqlite_template, tmp_path / "shop.db")  # as `shop migrate` leaves it
    server = Server(db_url, free_port(), cwd=tmp_path)
    server.set_env({"SHOP_ENV": "production", "SHOP_PLATFORM_ICP_NO": ICP})
    try:
        server.start()  # raises if it exits
        home = httpx.get(f"{server.base}/", timeout=10)
        assert home.status_code == 200
        assert ICP in home.text and DEMO_ICP_NO not in home.text
    finally:
        server.stop()


def test_create_app_in_production_refuses_without_an_icp_number(tmp_path: Path) -> None:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"  # never opened: the check comes first
    with pytest.raises(StartupRefused, match="SHOP_PLATFORM_ICP_NO is the demo placeholder"):
        create_app(make_settings(db_url, shop_env="production"))
    create_app(make_settings(db_url, shop_env="production", shop_platform_icp_no=ICP))


def test_the_demo_keeps_its_placeholder_and_warns(tmp_path: Path, sqlite_template: Path) -> None:
    db_url = sqlite_copy(sqlite_template, tmp_path / "shop.db")  # as `shop migrate` leaves it
    server = Server(db_url, free_port(), cwd=tmp_path,
                    SHOP_PLATFORM_ICP_NO=None, SHOP_ENV=None)
    try:
        server.start()
        assert DEMO_ICP_NO in httpx.get(f"{server.base}/", timeout=10).text
        logged = [json.loads(line) for line in server.output().splitlines() if line.startswith("{")]
        warned = [(line["level"], line["problem"]) for line in logged if line["event"] == "icp_number_placeholder"]
        assert warned == [("warning", f"SHOP_PLATFORM_ICP_NO is the demo placeholder {DEMO_ICP_NO}")]
    finally:
        server.stop()
