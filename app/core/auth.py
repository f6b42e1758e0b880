"""Who is calling: the one place that turns a bearer token into a principal and its tenant."""

from __future__ import annotations

import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, cast

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.errors import Forbidden, Unauthenticated
from app.core.ids import new_id, new_token
from app.core.models import AccessToken
from app.core.security import constant_time_equals, hash_token, issue_access_token, read_access_token
from app.db import fetch

Kind = Literal["admin", "merchant", "device", "customer", "buyer", "leader", "regulator"]
# Token prefixes by kind: visible to humans and secret scanners.
TOKEN_PREFIX: dict[str, str] = {"merchant": "sk", "device": "pos", "buyer": "byr", "leader": "ldr"}
# What `new_token` makes: a prefix and 256 random bits, url-safe. Anything else is refused without a lookup.
_ISSUED = re.compile(rf"(?:{'|'.join(TOKEN_PREFIX.values())})_[A-Za-z0-9_-]{{43}}")


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Kind
    merchant_id: str | None = None
    location_id: str | None = None
    subject_id: str | None = None

    @property
    def scope(self) -> str:
        """A stable name for idempotency scoping and audit."""
        return f"{self.kind}:{self.subject_id or self.merchant_id or '-'}"

    @property
    def tenant(self) -> str:
        """The merchant this principal acts for; Forbidden when it acts for none."""
        if self.merchant_id is None:
            raise Forbidden(f"a {self.kind} token does not act for a merchant")
        return self.merchant_id


async def create_token(session: AsyncSession, *, kind: str, merchant_id: str | None,
                       location_id: str | None = None, subject_id: str | None = None, label: str = "") -> str:
    """Store a new random token (hashed) and return it in clear text, once."""
    token = new_token(TOKEN_PREFIX[kind])
    await session.execute(insert(AccessToken).values(
        id=new_id("tok"), token_hash=hash_token(token), kind=kind, merchant_id=merchant_id,
        location_id=location_id, subject_id=subject_id, label=label, created_at=utcnow(),
    ))
    return token


async def create_signed_token(session: AsyncSession, *, kind: str, subject_id: str, secret: str, minutes: int) -> str:
    """A signed access token (a customer's), with a row of its own so that it can be revoked at once in every
    process (`revoke_tokens`); the subject's rows of tokens that have expired go."""
    token_id = secrets.token_urlsafe(32)
    now = utcnow()
    await session.execute(delete(AccessToken).where(AccessToken.subject_id == subject_id, AccessToken.kind == kind,
                                                    AccessToken.created_at < now - timedelta(minutes=minutes)))
    await session.execute(insert(AccessToken).values(
        id=new_id("tok"), token_hash=hash_token(token_id), kind=kind, merchant_id=None, subject_id=subject_id,
        label="signed", created_at=now))
    return issue_access_token(secret=secret, subject=subject_id, kind=kind, minutes=minutes, token_id=token_id)


async def revoke_tokens(session: AsyncSession, *, subject_id: str) -> None:
    """Refuse every token of this subject from now on (signed ones too), in every process."""
    await session.execute(update(AccessToken).where(AccessToken.subject_id == subject_id,
                                                    AccessToken.revoked_at.is_(None)).values(revoked_at=utcnow()))


# A token by its hash: built once; a read of its own unless the request has a transaction open (`db.fetch`).
_BY_HASH = (select(AccessToken.kind, AccessToken.merchant_id, AccessToken.location_id, AccessToken.subject_id)
            .where(AccessToken.token_hash == bindparam("token_hash"), AccessToken.revoked_at.is_(None)))


@dataclass(frozen=True, slots=True)
class SignedCustomer:
    """A customer access token whose signature and expiry were checked, not yet whether it was revoked."""

    principal: Principal
    token_hash: str


# Tokens whose signature was checked, with their expiry: a flash sale's buyers send theirs many times a second.
_VERIFIED: OrderedDict[tuple[str, str], tuple[float, SignedCustomer]] = OrderedDict()
VERIFIED_KEPT = 20_000


def signed_customer(*, token: str, secret: str) -> SignedCustomer | None:
    """The customer of a signed access token, from its signature alone (no database): None if it is not one of
    ours or has expired. `ensure_issued` then tells a revoked one. A token checked before is known by its exact
    text (signature included) until it expires, without checking it again."""
    known = _VERIFIED.get((secret, token))
    if known is not None and time.time() < known[0]:
        return known[1]
    if token.count(".") != 2:
        return None
    claims = read_access_token(secret=secret, token=token)
    if claims is None or claims.get("kind") != "customer" or not isinstance(claims["jti"], str):
        return None
    signed = SignedCustomer(Principal(kind="customer", subject_id=str(claims["sub"])), hash_token(claims["jti"]))
    _VERIFIED[(secret, token)] = (float(claims["exp"]), signed)
    while len(_VERIFIED) > VERIFIED_KEPT:
        _VERIFIED.popitem(last=False)
    return signed


async def ensure_issued(session: AsyncSession, signed: SignedCustomer) -> None:
    """Unauthenticated unless the token's row is still there: the signature alone cannot tell a revoked token
    (a closed account's)."""
    row = (await fetch(session, _BY_HASH, {"token_hash": signed.token_hash})).first()
    if row is None or row.kind != "customer" or row.subject_id != signed.principal.subject_id:
        raise Unauthenticated("the access token is invalid, expired or revoked")


async def resolve(session: AsyncSession, *, token: str, admin_token: str | None, secret: str,
                  regulator_token: str | None = None) -> Principal:
    """The principal of a bearer token; Unauthenticated when it is unknown, expired or revoked."""
    if admin_token and constant_time_equals(token, admin_token):
        return Principal(kind="admin")
    if regulator_token and constant_time_equals(token, regulator_token):
        return Principal(kind="regulator")
    if token.count(".") == 2:  # a signed customer access token
        signed = signed_customer(token=token, secret=secret)
        if signed is None:
            raise Unauthenticated("the access token is invalid or expired")
        await ensure_issued(session, signed)
        return signed.principal
    if _ISSUED.fullmatch(token) is None:
        raise Unauthenticated("unknown or revoked token")
    row = (await fetch(session, _BY_HASH, {"token_hash": hash_token(token)})).first()
    if row is None or row.kind == "customer":  # a signed token's row is no bearer token of its own
        raise Unauthenticated("unknown or revoked token")
    kind, merchant_id, location_id, subject_id = row
    return Principal(kind=cast(Kind, kind), merchant_id=merchant_id, location_id=location_id, subject_id=subject_id)


def require(principal: Principal | None, *kinds: Kind) -> Principal:
    """401 without a token, 403 with a token of another kind."""
    if principal is None:
        raise Unauthenticated("this endpoint needs a bearer token")
    if principal.kind not in kinds:
        raise Forbidden(f"a {principal.kind} token cannot call this endpoint (needs {' or '.join(kinds)})")
    return principal
