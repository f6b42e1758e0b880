"""Secrets: token hashing, password hashing (argon2), signed customer access tokens."""

from __future__ import annotations

import hashlib
import hmac
from datetime import timedelta
from typing import Any

import anyio.to_thread
import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.clock import utcnow

_hasher = PasswordHasher()
_ALGORITHM = "HS256"


def configure_password_hashing(*, time_cost: int, memory_kib: int, parallelism: int) -> None:
    """The cost of the hashes made from now on, process-wide (settings `SHOP_PASSWORD_HASH_*`); a hash keeps its
    parameters, so passwords hashed at another cost still verify."""
    global _hasher
    if (_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism) != (time_cost, memory_kib, parallelism):
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


def hash_token(token: str) -> str:
    """SHA-256 of a random bearer token. Tokens carry 256 bits of entropy, so a fast hash is right."""
    return hashlib.sha256(token.encode()).hexdigest()


def constant_time_equals(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_off_loop(password: str) -> str:
    """`hash_password` in a worker thread: an argon2 hash takes tens of milliseconds of CPU by design, and on the
    event loop every other request of the process would wait for it (a burst of sign-ups or password guesses
    would stall checkouts)."""
    return await anyio.to_thread.run_sync(hash_password, password)


async def verify_password_off_loop(password_hash: str, password: str) -> bool:
    """`verify_password` in a worker thread (see `hash_password_off_loop`)."""
    return await anyio.to_thread.run_sync(verify_password, password_hash, password)


def issue_access_token(*, secret: str, subject: str, kind: str, minutes: int, token_id: str) -> str:
    """A signed token; `token_id` (its `jti`) names the database row that keeps it revocable."""
    now = utcnow()
    claims: dict[str, Any] = {"sub": subject, "kind": kind, "jti": token_id, "iat": now,
                              "exp": now + timedelta(minutes=minutes)}
    return jwt.encode(claims, secret, algorithm=_ALGORITHM)


def read_access_token(*, secret: str, token: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token we signed; None otherwise."""
    try:
        claims: dict[str, Any] = jwt.decode(token, secret, algorithms=[_ALGORITHM],
                                            options={"require": ["sub", "exp", "kind", "jti"]})
    except jwt.PyJWTError:
        return None
    return claims
