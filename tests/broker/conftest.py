"""The real NATS server (JetStream) for the relay and consumer tests: a stream of each test's own, deleted after it.

The tests skip when no NATS server answers, except under CI=true, where they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from app.broker import stream
from app.config import Settings
from tests.conftest import WORKER, make_settings

NATS_URL = os.environ.get("TEST_NATS_URL", "nats://127.0.0.1:4222")


@dataclass
class Broker:
    nc: Client
    js: JetStreamContext
    stream: str  # this test's stream (SHOP_NATS_STREAM)

    def settings(self, db_url: str, **overrides: object) -> Settings:
        return make_settings(db_url, nats_url=NATS_URL, shop_nats_stream=self.stream, **overrides)

    async def messages(self) -> list[tuple[str, dict[str, Any]]]:
        """Every message in the stream, in stream order: (Nats-Msg-Id, the event)."""
        info = await self.js.stream_info(self.stream)
        total = info.state.messages
        sub = await self.js.pull_subscribe(f"{self.stream.lower()}.>", stream=self.stream, config=ConsumerConfig(
            ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL, inactive_threshold=30))
        out: list[tuple[str, dict[str, Any]]] = []
        while len(out) < total:
            for msg in await sub.fetch(min(1000, total - len(out)), timeout=10):
                out.append(((msg.headers or {}).get(stream.MSG_ID, ""), stream.decode(msg.data)))
        await sub.unsubscribe()
        return out

    async def count(self) -> int:
        return int((await self.js.stream_info(self.stream)).state.messages)


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    try:
        nc = await nats.connect(NATS_URL, connect_timeout=2, max_reconnect_attempts=0, allow_reconnect=False)
    except Exception as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"NATS is required under CI=true and is unreachable at {NATS_URL}: {exc}")
        pytest.skip(f"NATS unreachable at {NATS_URL}: {exc}")
    js = nc.jetstream()
    name = f"T{secrets.token_hex(4)}_{WORKER}".upper()
    settings = make_settings("sqlite+aiosqlite:///unused.db", nats_url=NATS_URL, shop_nats_stream=name)
    await js.add_stream(stream.stream_config(settings))
    try:
        yield Broker(nc, js, name)
    finally:
        try:
            await js.delete_stream(name)
        finally:
            await nc.close()


class Process:
    """A `shop` command run as a real child process (`python -m app.cli ...`) with these settings."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "app.cli", *args], env={**os.environ, **env},
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.logged = ""  # its standard error, once stopped

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind runs."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> str:
        """SIGTERM, and what it printed."""
        self.proc.send_signal(signal.SIGTERM)
        out, self.logged = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, self.logged[-3000:]
        return out

    def alive(self) -> bool:
        return self.proc.poll() is None


def env_of(settings: Settings, **extra: str) -> dict[str, str]:
    return {"DATABASE_URL": settings.database_url, "NATS_URL": settings.nats_url or "",
            "SHOP_NATS_STREAM": settings.shop_nats_stream, "SHOP_LOG_LEVEL": "warning", **extra}


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Children a test starts; any still running at its end are killed."""
    started: list[Process] = []
    yield started
    for p in started:
        if p.alive():
            p.kill()


async def until(condition: Callable[[], Awaitable[bool]], *, within: float, what: str, step: float = 0.02) -> float:
    """Polls `condition` until true (a wait on a state, not a sleep to pass); fails after `within` seconds. Returns the
    seconds it took."""
    start = time.monotonic()
    while not await condition():
        if time.monotonic() - start > within:
            pytest.fail(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(step)
    return time.monotonic() - start
