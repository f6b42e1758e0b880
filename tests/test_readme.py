"""The README's "First calls" work as written: what `make run` does (migrate, load the demo, serve) in a folder of
its own (`demo_folder`), on a free port, then every command of its two shell blocks, each request answered 2xx,
and the tour run twice without adding anything to the public catalogue."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import demo_copy
from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.browser  # a real server and the whole demo: grouped with the other end-to-end tests


def _blocks() -> list[str]:
    """The shell blocks of the README's "First calls" section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## First calls", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def demo(demo_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, int]]:
    """`make run`'s three steps, in a folder of their own (its var/ is the README's var/): the first two as the
    run's `demo_folder` took them, the server started here."""
    here = tmp_path_factory.mktemp("readme")
    env = {**os.environ, "DATABASE_URL": demo_copy(demo_folder, here), "SHOP_BACKGROUND_JOBS": "false",
           "SHOP_LOG_LEVEL": "warning"}
    env.pop("SHOP_ADMIN_TOKEN", None)
    (here / ".venv").symlink_to(BIN.parent)  # the README says .venv/bin/shop
    port = free_port()
    proc = subprocess.Popen([str(BIN / "shop"), "serve", "--host", "127.0.0.1", "--port", str(port)], cwd=here,
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for _ in range(300):  # the server starting up, not a timing assertion
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "shop serve exited")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield here, port
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def _run(script: str, here: Path, port: int) -> subprocess.CompletedProcess[str]:
    """A README block as written, on this server's port; any request answered 4xx or 5xx stops it."""
    script = script.replace("localhost:8000", f"localhost:{port}").replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    prelude = "set -euo pipefail\ncurl() { command curl --fail-with-body \"$@\"; }\n"
    env = {k: v for k, v in os.environ.items() if k not in ("SHOP_ADMIN_TOKEN", "DATABASE_URL")}
    return subprocess.run(["bash", "-c", prelude + script], cwd=here, env=env, capture_output=True, text=True,
                          timeout=600)


def test_first_calls_work_as_written(demo: tuple[Path, int]) -> None:
    here, port = demo
    tour_block, calls_block = _blocks()
    assert "make run PORT=" in tour_block and "--base-url" in tour_block
    done = _run(calls_block, here, port)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert '"sku":"YS-DJ-002-WHT-M"' in done.stdout.replace(" ", "")
    assert "羽绒" in done.stdout and '"status":"active"' in done.stdout.replace(" ", "")


def test_the_tour_runs_twice_and_leaves_the_public_catalogue_as_it_found_it(demo: tuple[Path, int]) -> None:
    here, port = demo
    tour_block = _blocks()[0]
    # Terminal 2's line, pointed at this server as the README says for another port.
    line = next(ln for ln in tour_block.splitlines() if "shop tour" in ln).split("#")[0].strip()
    command = f"{line} --base-url http://127.0.0.1:{port}"

    def public() -> tuple[list[str], str]:
        """The newest public products (a tour's would come first) and the home page."""
        r = httpx.get(f"http://127.0.0.1:{port}/v1/products", params={"limit": 100}, timeout=30)
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=30).text
        return [p["id"] for p in r.json()["items"]], home

    before, _ = public()
    for _ in range(2):
        done = _run(command, here, port)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    after, home = public()
    assert after == before and "(tour)" not in home
