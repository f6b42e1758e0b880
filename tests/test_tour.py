"""`shop tour` for real: `shop migrate`, `shop demo` and `shop serve` on a fresh SQLite file, then the tour twice
as a subprocess — on the demo's merchants, and again as if on a server it has no credentials for."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import servers
from tests.conftest import demo_copy

SHOP = Path(sys.executable).parent / "shop"
ADMIN = "tour-admin-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def served(demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, dict[str, str]]]:
    """The demo (`shop migrate` and `shop demo` on a fresh SQLite file: `demo_folder`) served by `shop serve` on a
    free port; (base URL, workdir, env)."""
    work = tmp_path_factory.mktemp("tour")
    env = {**os.environ, "DATABASE_URL": demo_copy(demo_folder, work), "SHOP_ADMIN_TOKEN": ADMIN,
           "SHOP_SECRET_KEY": uuid.uuid4().hex * 2, "SHOP_BACKGROUND_JOBS": "false", "SHOP_LOG_LEVEL": "warning",
           "SHOP_RATE_LIMIT_IP_PER_MINUTE": "0", "SHOP_RATE_LIMIT_TOKEN_PER_MINUTE": "0"}
    # as `make run` serves it without real payment credentials: with the Alipay and WeChat Pay sandbox
    with servers.served(env["DATABASE_URL"], args=["--sandbox-payments"], cwd=work, SHOP_ADMIN_TOKEN=ADMIN,
                        SHOP_SECRET_KEY=env["SHOP_SECRET_KEY"]) as running:
        yield running.base, work, env


def _tour(base: str, work: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SHOP), "tour", "--base-url", base, *extra], env={**env, "COLUMNS": "200"}, cwd=work,
                          capture_output=True, text=True, timeout=300)


def test_tour_walks_every_section_on_the_demo_data(served: tuple[str, Path, dict[str, str]]) -> None:
    base, work, env = served
    done = _tour(base, work, env)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    for section in range(1, 12):
        assert f"§{section} " in out, f"section {section} missing:\n{out}"
    assert "signed up and verified for this run, kept out of public lists" in out
    assert "online share" in out and "before the tour" in out and "after the tour" in out
    assert "online availability of" in out and "→" in out  # the till's sale shows online
    assert "2,000 lines accepted" in out
    assert "closed: succeeded" in out and "closed: failed" in out
    assert "completed" in out and "pickup code" in out
    assert "GET /v1/enforcement lists it: takedown" in out
    assert "credit score" in out and "self-declaration shown" in out
    assert "网上年货节" in out  # the demo's festival campaign, in progress
    assert "alipay order" in out and "wechatpay order" in out  # one order paid with each, in the sandbox
    assert out.count("paid, ") >= 2 and "own account" in out
    assert "tour complete" in out


def test_tour_runs_again_and_brings_its_own_merchants(served: tuple[str, Path, dict[str, str]]) -> None:
    base, work, env = served
    done = _tour(base, work, env, "--credentials", str(work / "none.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "signed up and verified for this run" in done.stdout
    assert "2,000 lines accepted" in done.stdout and "tour complete" in done.stdout


def test_tour_fails_clearly(served: tuple[str, Path, dict[str, str]]) -> None:
    base, work, env = served
    no_token = _tour(base, work, {k: v for k, v in env.items() if k != "SHOP_ADMIN_TOKEN"})
    assert no_token.returncode == 1 and "operator's token" in no_token.stdout
    wrong = _tour(base, work, env, "--admin-token", "not-the-token")
    assert wrong.returncode == 1 and "TOUR FAILED" in wrong.stdout and "401" in wrong.stdout
    down = _tour(f"http://127.0.0.1:{servers.free_port()}", work, env)
    assert down.returncode == 1 and "cannot reach" in down.stdout
