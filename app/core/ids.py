"""Opaque, time-ordered ids: a short prefix and a 26-character ULID-style body."""

from __future__ import annotations

import os
import secrets
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        out.append(_ALPHABET[rem])
    return "".join(reversed(out))


_lock = threading.Lock()
_last = (0, 0)


def new_id(prefix: str) -> str:
    """`prefix_` + 48-bit millisecond time + 80 random bits; sorts by creation time.

    Monotonic within a process: ids made in the same millisecond increment the random part, so the
    variants of one product (say) keep the order they were given in.
    """
    global _last
    with _lock:
        ms = time.time_ns() // 1_000_000
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, rand = last_ms, last_rand + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # leave room to increment
        _last = (ms, rand)
    return f"{prefix}_{_b32(ms, 10)}{_b32(rand, 16)}"


def new_token(prefix: str) -> str:
    """A secret bearer token: 256 random bits, url-safe, with a kind prefix for humans and scanners."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def pickup_code() -> str:
    """A six-digit code a customer reads out at a counter."""
    return f"{secrets.randbelow(1_000_000):06d}"
