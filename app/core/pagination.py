"""Cursor pagination: `?limit=&cursor=`, responses `{items, next_cursor}`."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.core.errors import field_error

T = TypeVar("T")

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


LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (max 500)")]
CursorQuery = Annotated[str | None, Query(max_length=300, description="Opaque cursor from `next_cursor`")]
