"""The hash chain over orders and payments (C23), as plain functions: what a record's digest covers, how a
link is made, and where a chain first breaks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from app.core.clock import rfc3339

GENESIS = "0" * 64  # the `prev_hash` of the first link


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return rfc3339(value)  # SQLite hands back naive UTC, PostgreSQL aware: one spelling for both
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def digest(fields: Mapping[str, Any]) -> str:
    """SHA-256 of the record's sealed fields as canonical JSON (keys sorted, no spaces, UTF-8)."""
    return hashlib.sha256(orjson.dumps(_plain(dict(fields)), option=orjson.OPT_SORT_KEYS)).hexdigest()


def link_hash(prev_hash: str, record_type: str, record_id: str, record_digest: str) -> str:
    """The hash of one link: it covers the link before, so changing any earlier record breaks every later one."""
    return hashlib.sha256(f"{prev_hash}|{record_type}|{record_id}|{record_digest}".encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    seq: int
    record_type: str
    record_id: str
    digest: str
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class Break:
    seq: int
    record_type: str
    record_id: str
    reason: str  # record_changed | record_missing | link_altered | chain_cut


def first_break(links: Iterable[Link], current: Mapping[tuple[str, str], str | None], *,
                prev_hash: str = GENESIS) -> tuple[Break | None, str]:
    """Walk `links` in order against the records' digests now (`current`, None when the record is gone).

    Returns the first broken link (or None) and the hash the walk ended on (to go on with the next batch).
    """
    for link in links:
        now = current.get((link.record_type, link.record_id))
        reason = None
        if link.prev_hash != prev_hash:
            reason = "chain_cut"  # a link was removed or inserted before this one
        elif link_hash(link.prev_hash, link.record_type, link.record_id, link.digest) != link.hash:
            reason = "link_altered"
        elif now is None:
            reason = "record_missing"
        elif now != link.digest:
            reason = "record_changed"
        if reason is not None:
            return Break(link.seq, link.record_type, link.record_id, reason), prev_hash
        prev_hash = link.hash
    return None, prev_hash
