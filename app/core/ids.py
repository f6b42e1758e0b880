"""Opaque, time-ordered ids: a short prefix and a 26-character ULID-style body."""

from __future__ import annotations

import os
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _b32(value: int, length: int) -> str:
    out = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        out.append(_ALPHABET[rem])
    return "".join(reversed(out))


def new_id(prefix: str) -> str:
    """`prefix_` + 48-bit millisecond time + 80 random bits; sorts by creation time."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    return f"{prefix}_{_b32(ms, 10)}{_b32(rand, 16)}"


def new_token(prefix: str) -> str:
    """A secret bearer token: 256 random bits, url-safe, with a kind prefix for humans and scanners."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def pickup_code() -> str:
    """A six-digit code a customer reads out at a counter."""
    return f"{secrets.randbelow(1_000_000):06d}"
