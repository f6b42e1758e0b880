"""Typed, chained FastAPI dependencies: the session, the principal, and their kinds."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Header, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core import auth
from app.core.auth import Principal
from app.core.errors import Unauthenticated
from app.core.params import HeaderParam
from app.db import session_scope


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def unit_of_work(request: Request) -> contextlib.AbstractAsyncContextManager[AsyncSession]:
    """The request's session (`SessionDep`); a hot route that takes no dependencies opens it itself."""
    return session_scope(request.app.state.sessionmaker)


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with unit_of_work(request) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for public reads that may be a moment old: on the replica while it keeps up (app/core/replica.py).
    Never for anything that decides a write, nor for what a merchant reads right after writing."""
    async with session_scope(await request.app.state.reads.factory()) as session:
        yield session


ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]

# The `Authorization` header, as a parameter of a route that resolves its caller itself (`principal_of`).
AuthorizationHeader = Annotated[str | None, Header(include_in_schema=False)]


async def get_principal(request: Request, session: SessionDep, authorization: AuthorizationHeader = None
                        ) -> Principal | None:
    """The caller, or None when no token was sent. A malformed or unknown token is a 401."""
    return await principal_of(request, session, authorization)


async def principal_of(request: Request, session: AsyncSession, authorization: str | None) -> Principal | None:
    """`OptionalPrincipal` without FastAPI's dependency resolution, a noticeable part of a checkout's CPU (see
    bench/checkout.py). The route declares `authorization: AuthorizationHeader` and calls this first,
    before it reads its body, so errors come in the same order (401 before 422)."""
    if authorization is None:
        return None
    settings: Settings = request.app.state.settings
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 2048:
        raise Unauthenticated("use `Authorization: Bearer <token>`")
    principal = await auth.resolve(session, token=token, admin_token=settings.shop_admin_token,
                                   secret=request.app.state.secret_key, regulator_token=settings.shop_regulator_token)
    # Release the read transaction so a long request does not pin a snapshot (SQLite: the write lock).
    await session.commit()
    request.state.principal = principal
    return principal


OptionalPrincipal = Annotated[Principal | None, Depends(get_principal)]


def _kind(*kinds: auth.Kind):  # type: ignore[no-untyped-def]
    def dep(principal: OptionalPrincipal) -> Principal:
        return auth.require(principal, *kinds)

    return dep


AdminDep = Annotated[Principal, Depends(_kind("admin"))]
RegulatorDep = Annotated[Principal, Depends(_kind("regulator"))]
AdminOrRegulatorDep = Annotated[Principal, Depends(_kind("admin", "regulator"))]
MerchantDep = Annotated[Principal, Depends(_kind("merchant"))]
MerchantOrAdminDep = Annotated[Principal, Depends(_kind("merchant", "admin"))]
MerchantOrLeaderDep = Annotated[Principal, Depends(_kind("merchant", "leader"))]
DeviceDep = Annotated[Principal, Depends(_kind("device"))]
CustomerDep = Annotated[Principal, Depends(_kind("customer"))]
BuyerDep = Annotated[Principal, Depends(_kind("buyer"))]
AnyPrincipalDep = Annotated[Principal, Depends(_kind("admin", "merchant", "device", "customer", "buyer", "leader"))]

IDEMPOTENCY_KEY = HeaderParam("Idempotency-Key", max_length=255, description="Makes a retry return the first response")
IdempotencyKey = Annotated[
    str | None,
    Header(alias=IDEMPOTENCY_KEY.name, max_length=IDEMPOTENCY_KEY.max_length, description=IDEMPOTENCY_KEY.description),
]
