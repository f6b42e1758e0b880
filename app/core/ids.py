"""Opaque, time-ordered ids: a short prefix and a 26-character ULID-style body."""

from __future__ import annotations

import base64
import os
import secrets
import threading
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


# base32hex ("0123456789ABCDEFGHIJKLMNOPQRSTUV", encoded in C) spelled in `_ALPHABET`, digit for digit.
_FROM_B32HEX = bytes.maketrans(b"0123456789ABCDEFGHIJKLMNOPQRSTUV", _ALPHABET.encode())


def _b32(value: int, length: int) -> str:
    """`value` in `length` base-32 digits (`_ALPHABET`), most significant first; `value < 32**length`."""
    width = (length + 7) // 8 * 5  # bytes: whole 40-bit groups, 8 digits each
    digits = base64.b32hexencode(value.to_bytes(width, "big")).translate(_FROM_B32HEX)
    return digits[len(digits) - length:].decode()


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
    return f"{prefix}_{_b32(ms << 80 | rand, 26)}"  # 10 digits of time, 16 of the random part


def new_ids(prefix: str, count: int) -> list[str]:
    """`count` ids exactly as `count` calls of `new_id` would make them (increasing, one millisecond), drawn at
    once: a batch order makes tens of thousands, and encoding them in one call is what keeps that cheap."""
    global _last
    if count <= 0:
        return []
    with _lock:
        ms = time.time_ns() // 1_000_000
        last_ms, last_rand = _last
        if ms <= last_ms:
            ms, first = last_ms, last_rand + 1
        else:
            first = int.from_bytes(os.urandom(10), "big") >> 1
        _last = (ms, first + count - 1)
    head = f"{prefix}_{_b32(ms, 10)}"
    # 80 random bits are 10 bytes and exactly 16 base-32 digits, so the encoded run splits every 16 digits.
    raw = b"".join(r.to_bytes(10, "big") for r in range(first, first + count))
    digits = base64.b32hexencode(raw).translate(_FROM_B32HEX).decode()
    return [head + digits[i:i + 16] for i in range(0, 16 * count, 16)]


def new_token(prefix: str) -> str:
    """A secret bearer token: 256 random bits, url-safe, with a kind prefix for humans and scanners."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def pickup_code() -> str:
    """A six-digit code a customer reads out at a counter."""
    return f"{secrets.randbelow(1_000_000):06d}"
