"""Benchmark: the outbox through `shop relay` into NATS JetStream, and from commit to a merchant's webhook.

Fresh PostgreSQL database -> `shop migrate` -> `shop serve` (for the merchant, its webhook endpoint and the /healthz
figure of this same run) ->

1. throughput: EVENTS outbox rows committed at once, `shop relay` (RELAYS processes) started, timed until every row
   is marked published; CPU of the relays, PostgreSQL and nats-server per event;
2. latency: `shop relay` and `shop consume webhooks` running, events committed at RATE per second for DURATION
   seconds (a few per commit, as checkouts make them), each timed from its commit to its POST arriving at a
   receiver on 127.0.0.1: p50 / p99;
3. /healthz req/s with wrk on the same server, as the machine's speed reference of this run.

    .venv/bin/python bench/relay.py                # 200,000 events; 1,000 events/s for 20 s
    .venv/bin/python bench/relay.py --relays 2 --events 100000

Needs NATS with JetStream at NATS_URL (default nats://127.0.0.1:4222). Exit status 1 if an event was lost.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shlex
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
import nats
from harness import (
    PgDatabase,
    Server,
    _cpu_seconds,
    _postgres_pids,
    ensure_wrk,
    install_sigterm_handler,
    log,
    migrate,
    print_table,
    run_wrk,
    shop_executable,
)

NATS_URL = os.environ.get("NATS_URL", "nats://127.0.0.1:4222")


def _pids_named(name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _cpu(pids: list[int]) -> dict[int, float]:
    return {p: _cpu_seconds(p) for p in pids}


def _spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds between two readings, of the processes alive at both (one that ended took its time along)."""
    return sum(t - before[p] for p, t in after.items() if p in before and t >= before[p])


class _Listener(ThreadingHTTPServer):
    # the listen backlog is set when the socket listens, in the constructor: a class attribute, not one set after.
    # With the default of 5, a sender opening its connections at once has SYNs dropped and resent a second later.
    request_queue_size = 1024
    daemon_threads = True


class Receiver:
    """The merchant's endpoint: when each event id first arrived (time.time())."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                now = time.time()
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.arrived.setdefault(self.headers["Liutong-Event-Id"], now)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = _Listener(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([shop_executable(), *args], env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


async def _unpublished(conn: Any) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM event WHERE published_at IS NULL"))


async def throughput(dsn: str, env: dict[str, str], *, events: int, relays: int, merchant: str) -> dict[str, float]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO event (kind, merchant_id, payload, created_at) SELECT 'stock.changed', "
            "$2 || (g % 200), jsonb_build_object('sku', 'SKU-' || g, 'location_id', 'loc_1', 'on_hand', g % 50, "
            "'reserved', 0), now() FROM generate_series(1, $1) g", events, merchant + "_")
        nats_pids, pg_pids = _pids_named("nats-server"), _postgres_pids()
        procs = [_start(["relay"], env) for _ in range(relays)]
        # a relay's start-up (imports, connecting) is not part of the figure: time from its first marked batch
        while await _unpublished(conn) == events:  # noqa: ASYNC110 (a state in another process: polled)
            await asyncio.sleep(0.005)
        start, left = time.monotonic(), await _unpublished(conn)
        cpu0 = (_cpu([p.pid for p in procs]), _cpu(pg_pids), _cpu(nats_pids))
        while await _unpublished(conn):  # noqa: ASYNC110
            await asyncio.sleep(0.01)
        elapsed = time.monotonic() - start
        cpu1 = (_cpu([p.pid for p in procs]), _cpu(pg_pids), _cpu(nats_pids))
        _stop(procs)
    finally:
        await conn.close()
    relay_cpu, pg_cpu, nats_cpu = (_spent(a, b) for a, b in zip(cpu0, cpu1, strict=True))
    return {"events": left, "seconds": elapsed, "rate": left / elapsed, "relay_us": relay_cpu / left * 1e6,
            "pg_us": pg_cpu / left * 1e6, "nats_us": nats_cpu / left * 1e6}


async def latency(dsn: str, env: dict[str, str], receiver: Receiver, *, rate: int, duration: int,
                  merchant: str) -> dict[str, float]:
    procs = [_start(["relay"], env), _start(["consume", "webhooks"], env)]
    conn = await asyncpg.connect(dsn)
    committed: dict[str, float] = {}
    try:
        # both processes up (imports, connections, the durable consumer made): one event all the way through
        warm = await conn.fetchval("INSERT INTO event (kind, merchant_id, payload, created_at) "
                                   "VALUES ('stock.changed', $1, '{}', now()) RETURNING seq", merchant)
        deadline = time.monotonic() + 180
        while f"evt_{warm}" not in receiver.arrived:
            if time.monotonic() > deadline:
                raise RuntimeError("the relay and the webhook consumer did not start within 180 s")
            await asyncio.sleep(0.05)
        cpu0 = _cpu([p.pid for p in procs])
        per_commit, tick = 5, 5 / rate
        next_at = time.monotonic()
        end = next_at + duration
        while time.monotonic() < end:
            seqs = await conn.fetch(
                "INSERT INTO event (kind, merchant_id, payload, created_at) SELECT 'stock.changed', $1, "
                "jsonb_build_object('sku', 'SKU-' || g, 'on_hand', g), now() FROM generate_series(1, $2) g "
                "RETURNING seq", merchant, per_commit)
            now = time.time()
            for r in seqs:
                committed[f"evt_{r['seq']}"] = now
            next_at += tick
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with receiver.lock:
                if all(k in receiver.arrived for k in committed):
                    break
            await asyncio.sleep(0.1)
        cpu = _spent(cpu0, _cpu([p.pid for p in procs]))
    finally:
        await conn.close()
        _stop(procs)
    with receiver.lock:
        waits = sorted(receiver.arrived[k] - t for k, t in committed.items() if k in receiver.arrived)
    lost = len(committed) - len(waits)

    def pct(q: float) -> float:
        return waits[min(len(waits) - 1, int(q * len(waits)))] if waits else float("nan")

    return {"sent": len(committed), "lost": lost, "rate": len(committed) / duration,
            "cpu_us": cpu / max(len(waits), 1) * 1e6, "p50": pct(0.50),
            "p99": pct(0.99), "max": waits[-1] if waits else float("nan")}


async def setup(base_url: str, admin: str, receiver: Receiver) -> str:
    """A verified merchant with an endpoint subscribed to every event; its id."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as c:
        r = await c.post("/v1/merchants", json={"name": "压测商户", "kind": "enterprise",
                                                "licence_no": "91350100M000100Y43", "contact_email": "b@example.com"})
        r.raise_for_status()
        m = r.json()
        (await c.post(f"/v1/admin/merchants/{m['id']}/verify",
                      headers={"Authorization": f"Bearer {admin}"})).raise_for_status()
        (await c.post("/v1/webhooks", headers={"Authorization": f"Bearer {m['api_key']}"},
                      json={"url": receiver.url, "events": ["*"]})).raise_for_status()
        return str(m["id"])


async def drop_stream(name: str) -> None:
    nc = await nats.connect(NATS_URL)
    with contextlib.suppress(Exception):
        await nc.jetstream().delete_stream(name)
    await nc.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="the outbox relay and webhook latency")
    parser.add_argument("--events", type=int, default=200_000, help="events for the throughput figure")
    parser.add_argument("--relays", type=int, default=1, help="relay processes for the throughput figure")
    parser.add_argument("--rate", type=int, default=1000, help="events per second for the latency figure")
    parser.add_argument("--duration", type=int, default=20, help="seconds of the latency run")
    parser.add_argument("--batch", type=int, default=5000, help="SHOP_RELAY_BATCH")
    args = parser.parse_args(argv)
    install_sigterm_handler()
    command = shlex.join([".venv/bin/python", "bench/relay.py", *(argv if argv is not None else sys.argv[1:])])
    ensure_wrk()
    stream = f"BENCH_{secrets.token_hex(4).upper()}"
    admin = secrets.token_urlsafe(24)
    receiver = Receiver()
    try:
        with PgDatabase() as db:
            migrate(db.url)
            env = {"DATABASE_URL": db.url, "NATS_URL": NATS_URL, "SHOP_NATS_STREAM": stream,
                   "SHOP_RELAY_BATCH": str(args.batch), "SHOP_WEBHOOK_ALLOW_PRIVATE": "true",
                   "SHOP_LOG_LEVEL": "warning", "SHOP_ADMIN_TOKEN": admin, "SHOP_BACKGROUND_JOBS": "false"}
            with Server(env, workers=1, ready_timeout_s=180) as server:
                merchant = asyncio.run(setup(server.base_url, admin, receiver))
                log("throughput", events=args.events, relays=args.relays)
                tp = asyncio.run(throughput(db.dsn, env, events=args.events, relays=args.relays, merchant="mer_b"))
                log("latency", rate=args.rate, duration=args.duration)
                # a stream of its own: the webhook consumer starts at its beginning, not behind the throughput run
                env = {**env, "SHOP_NATS_STREAM": stream + "_L"}
                lat = asyncio.run(latency(db.dsn, env, receiver, rate=args.rate, duration=args.duration,
                                          merchant=merchant))
                log("healthz")
                hz = run_wrk(server.base_url + "/healthz", lua_script="", connections=32, threads=2, duration_s=5)
    finally:
        asyncio.run(drop_stream(stream))
        asyncio.run(drop_stream(stream + "_L"))
    load = os.getloadavg()
    rows = [
        ("relay throughput (events marked published / s)", f"{tp['rate']:,.0f} events/s", ">= 20,000", command),
        ("  relay CPU per event", f"{tp['relay_us']:.0f} us", "-", command),
        ("  PostgreSQL CPU per event", f"{tp['pg_us']:.0f} us", "-", command),
        ("  nats-server CPU per event", f"{tp['nats_us']:.0f} us", "-", command),
        (f"commit -> webhook p50 at {lat['rate']:,.0f}/s (asked {args.rate}/s)", f"{lat['p50'] * 1000:.0f} ms", "-",
         command),
        (f"commit -> webhook p99 at {lat['rate']:,.0f}/s (asked {args.rate}/s)", f"{lat['p99'] * 1000:.0f} ms",
         "<= 1,000 ms", command),
        ("  relay + webhook consumer CPU per delivered event", f"{lat['cpu_us']:.0f} us", "-", command),
        ("  events sent / not delivered within 60 s", f"{lat['sent']:,} / {lat['lost']:,}", "- / 0", command),
        ("GET /healthz, 1 worker, same run", f"{hz.rps:,.0f} req/s", "-", command),
        ("load average (1 / 5 / 15 min) at the end", " / ".join(f"{x:.1f}" for x in load), "-", command),
    ]
    print_table(f"outbox relay: {args.events:,} events, {args.relays} relay(s), batch {args.batch}", rows)
    print(json.dumps({"relay": tp, "latency": lat, "healthz_rps": hz.rps, "load": load}))
    return 0 if lat["lost"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
