"""A streaming replica of the test PostgreSQL (.ci/replica: pg_basebackup -R and a second server).

`replica_port`: the one CI started (TEST_REPLICA_PORT), else one this test process starts on a free port and
stops at its end. `own_replica`: always one of the test's own, which the test may stop. The tests skip when no
replica can be made here (no server binaries, no primary), except under CI=true, where they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.main import create_app
from tests.conftest import make_settings

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "replica"


@dataclass
class Replica:
    port: int
    folder: Path | None  # None: not ours to stop

    def url(self, primary_url: str) -> str:
        """The replica's URL of the database at `primary_url` (the same database, replicated)."""
        head, _, name = primary_url.rpartition("/")
        return head.rsplit(":", 1)[0].rsplit("@", 1)[0] + f"@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        assert self.folder is not None
        subprocess.run([str(SCRIPT), "stop", str(self.folder)], check=True, capture_output=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start() -> Replica:
    folder = Path(tempfile.mkdtemp(prefix="liutong-replica-"))
    port = _free_port()
    done = subprocess.run([str(SCRIPT), "start", str(port), str(folder)], capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        shutil.rmtree(folder, ignore_errors=True)
        reason = f"no streaming replica could be started: {done.stderr.strip()[-800:]}"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return Replica(port, folder)


def _drop(replica: Replica) -> None:
    assert replica.folder is not None
    subprocess.run([str(SCRIPT), "stop", str(replica.folder)], capture_output=True, timeout=120)
    shutil.rmtree(replica.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def replica_port() -> Iterator[int]:
    given = os.environ.get("TEST_REPLICA_PORT")
    if given:
        yield int(given)
        return
    replica = _start()
    yield replica.port
    _drop(replica)


@pytest.fixture
def own_replica() -> Iterator[Replica]:
    replica = _start()
    yield replica
    _drop(replica)


async def replica_client(app: Any, db_url: str, replica: Replica) -> tuple[Any, httpx.AsyncClient]:
    """An app on the test's database (emptied by the `app` fixture) with public reads routed to `replica`."""
    application = create_app(make_settings(db_url, database_replica_url=replica.url(db_url),
                                           shop_catalog_cache_seconds=0, shop_page_cache_seconds=0,
                                           stripe_api_base=app.state.settings.stripe_api_base,
                                           shop_media_root=app.state.settings.shop_media_root))
    transport = httpx.ASGITransport(app=application)
    return application, httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60)


@pytest.fixture
async def routed(app: Any, db_url: str, pg_only: None,
                 replica_port: int) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    application, client = await replica_client(app, db_url, Replica(replica_port, None))
    async with client:
        yield application, client
    await application.state.engine.dispose()
    await application.state.reads.dispose()
