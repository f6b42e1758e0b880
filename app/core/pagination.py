"""Cursor pagination: `?limit=&cursor=`, responses `{items, next_cursor}`."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from app.core.errors import field_error

T = TypeVar("T")
M = TypeVar("M")

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    """The position encoded in `cursor`; a 422 naming `cursor` when it is not one of ours."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise field_error("cursor", "not a valid cursor") from None
    if not raw or len(raw) > 200:
        raise field_error("cursor", "not a valid cursor")
    return raw


async def keyset_page(session: AsyncSession, stmt: Select[M], key: InstrumentedAttribute[Any], *,
                      after: Any | None, limit: int, newest_first: bool = True) -> tuple[list[M], Any | None]:
    """One page of the ORM rows `stmt` selects, ordered by the unique `key`, starting past `after`.

    Reads one row more than `limit` to know whether another page follows; returns the page and, when one
    does, the key of its last row (the position the next page starts after), else None.
    """
    if after is not None:
        stmt = stmt.where(key < after if newest_first else key > after)
    rows = list((await session.scalars(stmt.order_by(key.desc() if newest_first else key).limit(limit + 1))).all())
    page = rows[:limit]
    return page, (getattr(page[-1], key.key) if len(rows) > limit else None)


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (max 500)")]
CursorQuery = Annotated[str | None, Query(max_length=300, description="Opaque cursor from `next_cursor`")]
