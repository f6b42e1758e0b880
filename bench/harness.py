"""Reusable benchmark harness for Liutong.

Building blocks (all synchronous, meant to be used from small ``bench/*.py`` scripts):

* :func:`ensure_wrk` - locate (or, as root, apt-install) the ``wrk`` load generator.
* :class:`PgDatabase` - throw-away PostgreSQL database, dropped on exit.
* :func:`migrate` - ``shop migrate`` against a database URL.
* :class:`Server` - ``shop serve`` (or any command) in its own process group, health-checked,
  torn down with SIGTERM/SIGKILL; reports the RSS of its process tree.
* :func:`run_wrk` - run wrk with a caller-supplied Lua script plus the harness' own ``done()``
  reporter, parsed into a :class:`WrkResult` (percentiles in milliseconds).
* Lua helpers (:func:`lua_string`, :func:`lua_paths_script`, :func:`lua_json_post_script` and the
  ``LUA_*`` building blocks) and :func:`print_table` for the figure | measured | target | command table.

Progress goes to stderr as ``[bench +12.3s] event key=value ...`` lines; tables go to stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg  # type: ignore[import-untyped]
import httpx

__all__ = [
    "LUA_CYCLE_PATHS",
    "LUA_DONE_REPORTER",
    "LUA_JSON_POST",
    "LUA_THREAD_IDS",
    "PgDatabase",
    "Server",
    "WrkResult",
    "encode_path",
    "ensure_wrk",
    "free_port",
    "install_sigterm_handler",
    "log",
    "lua_json_post_script",
    "lua_paths_script",
    "lua_string",
    "migrate",
    "print_table",
    "result_rows",
    "run_wrk",
    "shop_executable",
    "tree_rss_mb",
]

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DB_PREFIX = "liutong_bench_"
REPO_ROOT = Path(__file__).resolve().parent.parent

_T0 = time.monotonic()


# --------------------------------------------------------------------------------------------------
# progress messages
# --------------------------------------------------------------------------------------------------


def _fmt_value(value: object) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)
    if text == "" or any(c.isspace() or c in "\"'=" for c in text):
        return json.dumps(text, ensure_ascii=False)
    return text


def log(event: str, **fields: object) -> None:
    """Print one structured progress line to stderr: ``[bench +1.2s] event k=v ...``."""
    parts = [f"[bench +{time.monotonic() - _T0:.1f}s]", event]
    parts.extend(f"{key}={_fmt_value(value)}" for key, value in fields.items())
    print(" ".join(parts), file=sys.stderr, flush=True)


def install_sigterm_handler() -> None:
    """Turn SIGTERM into ``SystemExit`` so ``with`` blocks (databases, servers) still clean up."""

    def _handler(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _handler)


# --------------------------------------------------------------------------------------------------
# wrk
# --------------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    """Return the path of ``wrk``; as root, install the Debian package if it is missing."""
    path = shutil.which("wrk")
    if path:
        return path
    if os.geteuid() != 0:
        raise RuntimeError(
            "wrk is not installed and this process is not root; install it with "
            "`sudo apt-get install -y wrk` (Debian/Ubuntu) and re-run the benchmark"
        )
    if shutil.which("apt-get") is None:
        raise RuntimeError("wrk is not installed and apt-get is not available; install wrk manually")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    log("wrk.install", command=shlex.join(install))
    proc = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        log("wrk.install.retry", reason="install failed, running apt-get update first")
        update = subprocess.run(["apt-get", "update"], env=env, capture_output=True, text=True, check=False)
        if update.returncode != 0:
            raise RuntimeError(f"apt-get update failed:\n{_tail(update.stdout + update.stderr)}")
        proc = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"apt-get install wrk failed:\n{_tail(proc.stdout + proc.stderr)}")
    path = shutil.which("wrk")
    if not path:
        raise RuntimeError("apt-get install wrk succeeded but wrk is still not on PATH")
    log("wrk.installed", path=path, note="installed Debian package wrk with apt-get")
    return path


@dataclass
class WrkResult:
    """Parsed outcome of one wrk run. Latencies are milliseconds.

    ``non_2xx`` is wrk's ``summary.errors.status``: responses with status >= 400 (wrk does not count
    3xx there). ``socket_errors`` is connect + read + write + timeout errors.
    """

    requests: int
    duration_s: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: int
    p95_ms: float | None = None
    mean_ms: float | None = None
    max_ms: float | None = None
    errors: dict[str, int] = field(default_factory=dict)
    command: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


# The reporter appended to every script. Runs once in wrk's main Lua state after the test.
# string.format with %.0f/%.3f only: LuaJIT and Lua 5.1 both accept them for any number.
LUA_DONE_REPORTER = r"""
-- appended by bench/harness.py: machine-readable summary (latencies in microseconds)
done = function(summary, latency, requests)
  local e = summary.errors
  local pct = {}
  for _, p in ipairs({50, 75, 90, 95, 99, 99.9}) do
    pct[#pct + 1] = string.format('"%s":%.0f', tostring(p), latency:percentile(p))
  end
  io.write(string.format(
    'BENCH_JSON {"requests":%.0f,"duration_us":%.0f,"bytes":%.0f,' ..
    '"errors":{"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f},' ..
    '"latency_us":{"min":%.0f,"max":%.0f,"mean":%.3f,"stdev":%.3f,"percentiles":{%s}}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency.min, latency.max, latency.mean, latency.stdev, table.concat(pct, ",")))
end
"""

_DONE_RE = re.compile(r"(^|[^.\w])done\s*=|function\s+done\s*\(", re.MULTILINE)


def _strip_lua_comments(script: str) -> str:
    script = re.sub(r"--\[(=*)\[.*?\]\1\]", "", script, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", "", script)


def parse_wrk_output(stdout: str) -> dict[str, Any]:
    """Return the JSON object printed by :data:`LUA_DONE_REPORTER`."""
    for line in stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return data
    raise RuntimeError(f"wrk output has no BENCH_JSON line:\n{_tail(stdout)}")


def _result_from_json(data: Mapping[str, Any], command: str) -> WrkResult:
    lat = data["latency_us"]
    pct: Mapping[str, float] = lat["percentiles"]
    errors = {key: int(value) for key, value in data["errors"].items()}
    duration_s = float(data["duration_us"]) / 1e6
    requests = int(data["requests"])
    return WrkResult(
        requests=requests,
        duration_s=duration_s,
        rps=requests / duration_s if duration_s > 0 else 0.0,
        p50_ms=pct["50"] / 1000.0,
        p90_ms=pct["90"] / 1000.0,
        p99_ms=pct["99"] / 1000.0,
        non_2xx=errors["status"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        p95_ms=pct["95"] / 1000.0,
        mean_ms=float(lat["mean"]) / 1000.0,
        max_ms=float(lat["max"]) / 1000.0,
        errors=errors,
        command=command,
        raw=dict(data),
    )


def run_wrk(
    url: str,
    *,
    lua_script: str,
    connections: int = 32,
    threads: int = 2,
    duration_s: int = 20,
    timeout_s: int = 5,
) -> WrkResult:
    """Run wrk against ``url`` with ``lua_script`` (request/response/setup/init functions...).

    The harness appends its own ``done()`` reporter, so ``lua_script`` must not define ``done``.
    ``url`` gives scheme/host/port and the default path; ``wrk.format(...)`` calls in the script
    may override the path per request.
    """
    if _DONE_RE.search(_strip_lua_comments(lua_script)):
        raise ValueError("lua_script must not define done(); the harness appends its own reporter")
    if threads < 1 or connections < threads:
        raise ValueError(
            f"need 1 <= threads <= connections (got threads={threads}, connections={connections})"
        )
    wrk = ensure_wrk()
    script = lua_script.rstrip() + "\n" + LUA_DONE_REPORTER
    with tempfile.NamedTemporaryFile("w", prefix="liutong-bench-", suffix=".lua", delete=False) as fh:
        fh.write(script)
        script_path = fh.name
    cmd = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={duration_s}s",
        f"--timeout={timeout_s}s",
        "--latency",
        f"--script={script_path}",
        url,
    ]
    command = shlex.join(cmd)
    log("wrk.start", url=url, connections=connections, threads=threads, duration_s=duration_s)
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, check=False, timeout=duration_s + timeout_s + 60
        )
    finally:
        with contextlib.suppress(OSError):
            os.unlink(script_path)
    if proc.returncode != 0:
        raise RuntimeError(
            f"wrk exited with {proc.returncode}: {command}\n{_tail(proc.stdout + proc.stderr)}"
        )
    if proc.stderr.strip():
        log("wrk.stderr", text=_tail(proc.stderr, lines=5))
    result = _result_from_json(parse_wrk_output(proc.stdout), command)
    log(
        "wrk.done",
        requests=result.requests,
        rps=round(result.rps, 1),
        p50_ms=round(result.p50_ms, 2),
        p95_ms=round(result.p95_ms or 0.0, 2),
        p99_ms=round(result.p99_ms, 2),
        non_2xx=result.non_2xx,
        socket_errors=result.socket_errors,
    )
    return result


# --------------------------------------------------------------------------------------------------
# Lua helpers (wrk embeds LuaJIT, i.e. Lua 5.1 syntax)
# --------------------------------------------------------------------------------------------------


def lua_string(value: str) -> str:
    """Quote ``value`` as a Lua 5.1 string literal holding its exact UTF-8 bytes.

    Printable ASCII is kept; ``"`` and ``\\`` are escaped; every other byte becomes a 3-digit
    decimal escape ``\\ddd`` (Lua 5.1 has no ``\\u`` or ``\\x`` escapes).
    """
    out = ['"']
    for byte in value.encode("utf-8"):
        char = chr(byte)
        if char in '"\\':
            out.append("\\" + char)
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03d}")
    out.append('"')
    return "".join(out)


# Characters left alone when encoding a request target: RFC 3986 reserved + unreserved + "%".
_URL_SAFE = "/?#[]@!$&'()*+,;=:-._~%"


def encode_path(path: str) -> str:
    """Percent-encode non-ASCII characters, spaces and controls in a path (existing escapes kept)."""
    if not path.startswith("/"):
        raise ValueError(f"path must start with '/': {path!r}")
    return quote(path, safe=_URL_SAFE)


def _lua_list(items: Iterable[str]) -> str:
    return "{\n" + "".join(f"  {lua_string(item)},\n" for item in items) + "}"


# setup() runs in wrk's main Lua state once per thread; thread:set() makes ``bench_thread_id`` a
# global inside that thread's own Lua state (each wrk thread has a separate interpreter).
LUA_THREAD_IDS = r"""
local bench_thread_count = 0
function setup(thread)
  bench_thread_count = bench_thread_count + 1
  thread:set("bench_thread_id", bench_thread_count)
end
"""

# Needs a global ``paths`` table (see lua_paths_script). Each thread starts at a different offset
# so that threads do not hit the same path in lock-step.
LUA_CYCLE_PATHS = r"""
local bench_i = nil
function request()
  if bench_i == nil then
    bench_i = ((bench_thread_id or 1) - 1) * 7919
  end
  bench_i = bench_i + 1
  return wrk.format("GET", paths[(bench_i % #paths) + 1])
end
"""

# Needs globals: post_path, bodies (JSON strings), authorization (string or nil), key_prefix,
# unique_token (string or nil). Idempotency-Key = <key_prefix>-<thread id>-<per-thread counter>;
# occurrences of unique_token in a body are replaced by that same key.
LUA_JSON_POST = r"""
local bench_n = 0
function request()
  bench_n = bench_n + 1
  local key = key_prefix .. "-" .. tostring(bench_thread_id or 0) .. "-" .. tostring(bench_n)
  local body = bodies[((bench_n - 1) % #bodies) + 1]
  if unique_token ~= nil then
    local s, e = string.find(body, unique_token, 1, true)
    while s ~= nil do
      body = string.sub(body, 1, s - 1) .. key .. string.sub(body, e + 1)
      s, e = string.find(body, unique_token, s + #key, true)
    end
  end
  local headers = {}
  headers["Content-Type"] = "application/json"
  headers["Idempotency-Key"] = key
  if authorization ~= nil then
    headers["Authorization"] = authorization
  end
  return wrk.format("POST", post_path, headers, body)
end
"""


def lua_paths_script(paths: Sequence[str]) -> str:
    """Lua script issuing GETs that cycle through ``paths`` (non-ASCII is percent-encoded)."""
    if not paths:
        raise ValueError("paths must not be empty")
    encoded = [encode_path(p) for p in paths]
    return f"paths = {_lua_list(encoded)}\n{LUA_THREAD_IDS}{LUA_CYCLE_PATHS}"


def lua_json_post_script(
    path: str,
    bodies: Sequence[Any],
    *,
    authorization: str | None = None,
    key_prefix: str | None = None,
    unique_token: str | None = None,
) -> str:
    """Lua script POSTing JSON bodies (cycled) to ``path`` with a unique ``Idempotency-Key`` each.

    ``bodies`` are JSON-serialised here (strings are taken as already-serialised JSON).
    ``key_prefix`` defaults to a random ``bench-<hex>`` so keys never collide across runs.
    If ``unique_token`` is given, each occurrence of it inside a body is replaced by the request's
    idempotency key (handy for unique SKUs, e-mails, references...).
    """
    if not bodies:
        raise ValueError("bodies must not be empty")
    texts = [
        b if isinstance(b, str) else json.dumps(b, ensure_ascii=False, separators=(",", ":")) for b in bodies
    ]
    prefix = key_prefix if key_prefix is not None else f"bench-{secrets.token_hex(4)}"
    lines = [
        f"post_path = {lua_string(encode_path(path))}",
        f"bodies = {_lua_list(texts)}",
        f"authorization = {lua_string(authorization) if authorization is not None else 'nil'}",
        f"key_prefix = {lua_string(prefix)}",
        f"unique_token = {lua_string(unique_token) if unique_token else 'nil'}",
    ]
    return "\n".join(lines) + "\n" + LUA_THREAD_IDS + LUA_JSON_POST


# --------------------------------------------------------------------------------------------------
# PostgreSQL
# --------------------------------------------------------------------------------------------------


def _plain_pg_url(url: str) -> str:
    """``postgresql+asyncpg://...`` -> ``postgresql://...`` (what asyncpg/psql understand)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise ValueError(f"not a PostgreSQL URL: {url!r}")
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, parts.fragment))


PG_SOCKET_DIR = "/var/run/postgresql"


def server_db_url(db: PgDatabase, transport: str) -> str:
    """The URL the server under test uses: over TCP as ``db.url``, or over the local Unix socket.

    A server on the database's host connects through the socket in production (less CPU per round trip
    on both sides than loopback TCP); the benchmarks say which one they measured.
    """
    if transport == "tcp":
        return db.url
    parts = urlsplit(db.url)
    user = parts.username or "postgres"
    return f"postgresql+asyncpg://{user}@/{db.name}?host={PG_SOCKET_DIR}"


def default_pg_transport() -> str:
    """TCP to 127.0.0.1, the setup the targets are stated for; ``--pg-transport socket`` measures the other."""
    return "tcp"


def _with_database(url: str, dbname: str, scheme: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


def _redact(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class PgDatabase:
    """Throw-away database ``liutong_bench_<random>``, created on enter and dropped on exit.

    The maintenance connection goes to ``base_url`` (default: env ``BENCH_PG_URL`` or
    ``postgresql://postgres@127.0.0.1:5432/postgres``). ``.url`` is the SQLAlchemy asyncpg URL,
    ``.dsn`` the plain ``postgresql://`` one. ``keep=True`` (or env ``BENCH_KEEP_DB=1``) skips the drop.
    """

    def __init__(self, base_url: str | None = None, *, name: str | None = None, keep: bool | None = None):
        self.base_url = _plain_pg_url(base_url or os.environ.get("BENCH_PG_URL") or DEFAULT_PG_URL)
        self.name = name or f"{DB_PREFIX}{secrets.token_hex(4)}"
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.name):
            raise ValueError(f"unsafe database name: {self.name!r}")
        self.keep = keep if keep is not None else os.environ.get("BENCH_KEEP_DB", "") not in ("", "0")
        self.url = _with_database(self.base_url, self.name, "postgresql+asyncpg")
        self.dsn = _with_database(self.base_url, self.name, "postgresql")
        self._created = False

    async def _create(self) -> None:
        conn = await asyncpg.connect(self.base_url, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{self.name}"')
        finally:
            await conn.close()

    async def _drop(self) -> None:
        conn = await asyncpg.connect(self.base_url, timeout=10)
        try:
            version = conn.get_server_version()
            for attempt in range(5):
                await conn.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = $1 AND pid <> pg_backend_pid()",
                    self.name,
                )
                force = " WITH (FORCE)" if version.major >= 13 else ""
                try:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{self.name}"{force}')
                    return
                except asyncpg.ObjectInUseError:
                    if attempt == 4:
                        raise
                    await asyncio.sleep(0.5)
        finally:
            await conn.close()

    async def _exists(self) -> bool:
        conn = await asyncpg.connect(self.base_url, timeout=10)
        try:
            return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", self.name))
        finally:
            await conn.close()

    def create(self) -> None:
        asyncio.run(self._create())
        self._created = True
        log("pg.created", database=self.name, url=_redact(self.url))

    def drop(self) -> None:
        if not self._created:
            return
        if self.keep:
            log("pg.kept", database=self.name, url=_redact(self.url))
            return
        asyncio.run(self._drop())
        self._created = False
        log("pg.dropped", database=self.name)

    def exists(self) -> bool:
        return asyncio.run(self._exists())

    def __enter__(self) -> Self:
        self.create()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.drop()


# --------------------------------------------------------------------------------------------------
# the app: migrate + serve
# --------------------------------------------------------------------------------------------------


def shop_executable() -> str:
    """The ``shop`` console script installed next to the running interpreter (e.g. ``.venv/bin/shop``)."""
    candidate = Path(sys.executable).parent / "shop"
    if candidate.is_file() and os.access(candidate, os.X_OK):
        return str(candidate)
    found = shutil.which("shop")
    if found:
        return found
    raise RuntimeError(
        f"`shop` console script not found next to {sys.executable}; run `pip install -e .` in the venv"
    )


def migrate(db_url: str, *, cmd: Sequence[str] | None = None, timeout_s: float = 300.0) -> None:
    """Run ``shop migrate`` (or ``cmd``) with ``DATABASE_URL=db_url``; raise with its output on failure."""
    argv = list(cmd) if cmd is not None else [shop_executable(), "migrate"]
    env = {**os.environ, "DATABASE_URL": db_url}
    log("migrate.start", command=shlex.join(argv))
    started = time.monotonic()
    proc = subprocess.run(
        argv, env=env, cwd=REPO_ROOT, capture_output=True, text=True, check=False, timeout=timeout_s
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(argv)} exited with {proc.returncode}:\n{_tail(proc.stdout + proc.stderr)}"
        )
    log("migrate.done", seconds=round(time.monotonic() - started, 2))


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, ppid, pgrp) of ``pid`` from /proc, or None if it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2 :].split()
    return fields[0], int(fields[1]), int(fields[2])


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _tree_pids(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        stat = _proc_stat(pid)
        if stat is not None and stat[0] != "Z":
            children.setdefault(stat[1], []).append(pid)
    out: list[int] = []
    stack = [root]
    while stack:
        pid = stack.pop()
        if _proc_stat(pid) is None:
            continue
        out.append(pid)
        stack.extend(children.get(pid, []))
    return out


def _group_pids(pgid: int) -> list[int]:
    """Live (non-zombie) members of process group ``pgid``."""
    out = []
    for pid in _all_pids():
        stat = _proc_stat(pid)
        if stat is not None and stat[2] == pgid and stat[0] != "Z":
            out.append(pid)
    return out


def _status_kb(pid: int, key: str, filename: str = "status") -> int:
    try:
        for line in Path(f"/proc/{pid}/{filename}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def tree_rss_mb(pid: int, *, proportional: bool = False) -> float:
    """Memory of ``pid`` and all its descendants in MiB.

    Sum of VmRSS by default (counts shared pages once per process); ``proportional=True`` sums Pss
    from ``smaps_rollup`` instead (shared pages split between sharers: the honest total).
    """
    if proportional:
        total_kb = sum(_status_kb(p, "Pss", "smaps_rollup") for p in _tree_pids(pid))
    else:
        total_kb = sum(_status_kb(p, "VmRSS") for p in _tree_pids(pid))
    return total_kb / 1024.0


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postgres_pids() -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _backend_pids(dsn: str) -> list[int]:
    """The PostgreSQL backends connected to the database of ``dsn`` (other than the one asking)."""

    async def query() -> list[int]:
        conn = await asyncpg.connect(dsn, timeout=10)
        try:
            return [r["pid"] for r in await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")]
        finally:
            await conn.close()

    return asyncio.run(query())


class CpuMeter:
    """CPU seconds spent by the server's process tree and by PostgreSQL (all its processes on this host, or
    with ``dsn`` only the backends connected to that database, when other work shares the server) while the
    ``with`` block runs. On a shared machine whose speed drifts, CPU per request is a steadier figure than
    requests per second: it does not count the time the machine gave to others."""

    def __init__(self, server_pid: int, *, dsn: str | None = None) -> None:
        self.server_pid = server_pid
        self.dsn = dsn
        self.server_s = self.postgres_s = 0.0

    def _read(self) -> tuple[dict[int, float], dict[int, float]]:
        postgres = _backend_pids(self.dsn) if self.dsn else _postgres_pids()
        return ({p: _cpu_seconds(p) for p in _tree_pids(self.server_pid)},
                {p: _cpu_seconds(p) for p in postgres})

    def __enter__(self) -> CpuMeter:
        self._start = self._read()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._read()
        # processes that ended inside the window are not counted (pooled connections and workers stay)
        self.server_s = sum(t - self._start[0].get(p, 0.0) for p, t in end[0].items())
        self.postgres_s = sum(t - self._start[1].get(p, 0.0) for p, t in end[1].items())


class Server:
    """Run the app (default ``shop serve --host H --port P --workers N``) until the ``with`` block ends.

    ``cmd`` overrides the command; ``{host}``, ``{port}`` and ``{workers}`` in its items are
    substituted. ``env`` is layered over ``os.environ`` and ``SHOP_LOG_LEVEL=warning``. The process
    gets its own session/process group; stdout+stderr go to ``<tmpdir>/server.log`` (kept and
    reported if startup fails or ``keep_log=True``, removed otherwise). Startup waits until
    ``ready_path`` answers 200 ``ready_successes`` times in a row (fresh connections, so several
    workers get a chance to answer), or raises after ``ready_timeout_s``.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        workers: int = 1,
        host: str = "127.0.0.1",
        port: int | None = None,
        cmd: Sequence[str] | None = None,
        ready_path: str = "/healthz",
        ready_timeout_s: float = 120.0,  # a loaded machine imports the app slowly
        ready_successes: int | None = None,
        stop_timeout_s: float = 10.0,
        keep_log: bool = False,
    ) -> None:
        self.host = host
        self.port = port or free_port(host)
        self.workers = workers
        self.base_url = f"http://{host}:{self.port}"
        template = (
            list(cmd)
            if cmd is not None
            else [
                shop_executable(),
                "serve",
                "--host",
                "{host}",
                "--port",
                "{port}",
                "--workers",
                "{workers}",
            ]
        )
        self.cmd = [item.format(host=host, port=self.port, workers=workers) for item in template]
        # Load from one address would trip the per-IP rate limit: benchmarks measure the server, not it.
        self.env = {**os.environ, "SHOP_LOG_LEVEL": "warning", "SHOP_RATE_LIMIT_IP_PER_MINUTE": "0",
                    "SHOP_RATE_LIMIT_TOKEN_PER_MINUTE": "0", **(env or {})}
        self.ready_path = ready_path
        self.ready_timeout_s = ready_timeout_s
        self.ready_successes = ready_successes if ready_successes is not None else max(2, 2 * workers)
        self.stop_timeout_s = stop_timeout_s
        self.keep_log = keep_log or os.environ.get("BENCH_KEEP_LOG", "") not in ("", "0")
        self.log_dir: Path | None = None
        self.log_path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_fh: Any = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("server not started")
        return self._proc.pid

    def rss_mb(self, *, proportional: bool = False) -> float:
        """RSS (or PSS with ``proportional=True``) of the server's process tree in MiB."""
        return tree_rss_mb(self.pid, proportional=proportional)

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return _tail(self.log_path.read_text(errors="replace"), lines=lines)

    def start(self) -> None:
        self.log_dir = Path(tempfile.mkdtemp(prefix="liutong-bench-server-"))
        self.log_path = self.log_dir / "server.log"
        self._log_fh = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        log("server.start", command=shlex.join(self.cmd), log=str(self.log_path))
        self._proc = subprocess.Popen(
            self.cmd,
            env=self.env,
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=self._log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop(failed=True)
            raise

    def _wait_ready(self) -> None:
        assert self._proc is not None
        url = self.base_url + self.ready_path
        started = time.monotonic()
        deadline = started + self.ready_timeout_s
        streak = 0
        last_error = "no attempt yet"
        while True:
            code = self._proc.poll()
            if code is not None:
                raise RuntimeError(
                    f"server exited with {code} before becoming ready; "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                # a fresh client (= fresh connection) each time; never use proxies from the environment
                with httpx.Client(timeout=2.0, trust_env=False) as client:
                    response = client.get(url)
                if response.status_code == 200:
                    streak += 1
                    if streak >= self.ready_successes:
                        break
                    continue
                streak = 0
                last_error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                streak = 0
                last_error = f"{type(exc).__name__}: {exc}"
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{url} not ready after {self.ready_timeout_s:.0f}s ({last_error}); "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            time.sleep(0.1)
        log("server.ready", url=self.base_url, pid=self.pid, seconds=round(time.monotonic() - started, 2))

    def stop(self, *, failed: bool = False) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            pgid = proc.pid  # start_new_session=True: the leader's pid is the group id
            _signal_group(pgid, signal.SIGTERM)
            deadline = time.monotonic() + self.stop_timeout_s
            try:
                proc.wait(timeout=self.stop_timeout_s)
            except subprocess.TimeoutExpired:
                log("server.kill", pid=pgid, reason="leader ignored SIGTERM")
                _signal_group(pgid, signal.SIGKILL)
                proc.wait()
            while _group_pids(pgid) and time.monotonic() < deadline:
                time.sleep(0.05)
            leftovers = _group_pids(pgid)
            if leftovers:
                log(
                    "server.kill", pids=",".join(map(str, leftovers)), reason="group members survived SIGTERM"
                )
                _signal_group(pgid, signal.SIGKILL)
                end = time.monotonic() + 5
                while _group_pids(pgid) and time.monotonic() < end:
                    time.sleep(0.05)
            log("server.stopped", pid=pgid, returncode=proc.returncode)
        if self._log_fh is not None:
            self._log_fh.close()
            self._log_fh = None
        if self.log_dir is not None:
            if failed or self.keep_log:
                log("server.log_kept", log=str(self.log_path))
            else:
                shutil.rmtree(self.log_dir, ignore_errors=True)
                self.log_dir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop(failed=exc_type is not None)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# --------------------------------------------------------------------------------------------------
# reporting
# --------------------------------------------------------------------------------------------------

TABLE_HEADER = ("figure", "measured", "target", "command to reproduce")


def print_table(title: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
    """Print a plain-text table (figure | measured | target | command to reproduce) to stdout.

    If env ``BENCH_RESULTS`` names a file, the rows are also appended to it as JSON lines
    (``{"title": ..., "figure": ..., ...}``) so that a ``make bench`` driver can print one
    combined table of all benchmarks with :func:`print_results_file`.
    """
    all_rows = [TABLE_HEADER, *rows]
    widths = [max(len(row[i]) for row in all_rows) for i in range(4)]

    def fmt(row: Sequence[str]) -> str:
        return " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    print(f"\n{title}\n{'=' * len(title)}")
    print(fmt(TABLE_HEADER))
    print(rule)
    for row in rows:
        print(fmt(row))
    print(flush=True)
    results_file = os.environ.get("BENCH_RESULTS")
    if results_file:
        with open(results_file, "a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(dict(zip(("title", *TABLE_HEADER), (title, *row), strict=True))) + "\n")


def print_results_file(path: str, title: str = "Liutong benchmarks") -> None:
    """Print one combined table from a ``BENCH_RESULTS`` JSON-lines file."""
    rows: list[tuple[str, str, str, str]] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append(
                (
                    f"{item['title']}: {item['figure']}",
                    item["measured"],
                    item["target"],
                    item["command to reproduce"],
                )
            )
    saved = os.environ.pop("BENCH_RESULTS", None)  # do not append the combined rows to the file again
    try:
        print_table(title, rows)
    finally:
        if saved is not None:
            os.environ["BENCH_RESULTS"] = saved


def result_rows(
    label: str,
    result: WrkResult,
    *,
    command: str,
    targets: Mapping[str, str] | None = None,
) -> list[tuple[str, str, str, str]]:
    """Standard rows for one wrk run. ``targets`` keys: rps, p50, p95, p99, non_2xx, socket_errors."""
    t = {"non_2xx": "0", "socket_errors": "0", **(targets or {})}
    p95 = f"{result.p95_ms:.2f} ms" if result.p95_ms is not None else "n/a"
    return [
        (f"{label} throughput", f"{result.rps:,.0f} req/s", t.get("rps", "-"), command),
        (f"{label} p50 latency", f"{result.p50_ms:.2f} ms", t.get("p50", "-"), command),
        (f"{label} p95 latency", p95, t.get("p95", "-"), command),
        (f"{label} p99 latency", f"{result.p99_ms:.2f} ms", t.get("p99", "-"), command),
        (f"{label} non-2xx/3xx responses", f"{result.non_2xx} of {result.requests:,}", t["non_2xx"], command),
        (f"{label} socket errors", str(result.socket_errors), t["socket_errors"], command),
    ]


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


if __name__ == "__main__":
    # `python bench/harness.py results FILE` prints a combined table of BENCH_RESULTS rows.
    if len(sys.argv) == 3 and sys.argv[1] == "results":
        print_results_file(sys.argv[2])
    else:
        print("usage: python bench/harness.py results BENCH_RESULTS_FILE", file=sys.stderr)
        sys.exit(2)


# --------------------------------------------------------------------------------------------------
# Seeding through the public API
# --------------------------------------------------------------------------------------------------

ADDRESS = {"name": "王五", "phone": "13900000000", "line1": "南京西路 1 号", "city": "上海",
           "postal_code": "200040", "country": "CN"}


async def seed_merchant(client: Any, admin: str, *, name: str, email: str) -> tuple[str, dict[str, str], str]:
    """A verified merchant with a warehouse, through the API: (merchant id, its auth headers, warehouse id).

    ``client`` is an ``httpx.AsyncClient`` pointed at the server under test.
    """
    m = (await client.post("/v1/merchants", json={"name": name, "kind": "enterprise",
                                                  "licence_no": "91350100M000100Y43", "contact_email": email})).json()
    (await client.post(f"/v1/admin/merchants/{m['id']}/verify",
                       headers={"Authorization": f"Bearer {admin}"})).raise_for_status()
    headers = {"Authorization": f"Bearer {m['api_key']}"}
    wh = (await client.post("/v1/locations", headers=headers, json={"code": "WH", "name": "仓库", "kind": "warehouse",
                                                                    "address": ADDRESS})).json()
    return m["id"], headers, wh["id"]
