"""Shared pydantic pieces: the base model, addresses, money fields."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from app.core.clock import rfc3339
from app.core.money import MAX_AMOUNT


class Schema(BaseModel):
    """Base of request and response bodies: unknown fields rejected on input, ORM objects read on output."""

    model_config = ConfigDict(extra="forbid", from_attributes=True, str_strip_whitespace=True)


class OutSchema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _upper(value: str) -> str:
    return value.upper()


Currency = Annotated[str, Field(min_length=3, max_length=3, pattern=r"^[A-Za-z]{3}$"), AfterValidator(_upper)]
Amount = Annotated[int, Field(ge=0, le=MAX_AMOUNT, description="Minor units (fen)")]
UtcDatetime = Annotated[datetime, PlainSerializer(rfc3339, return_type=str)]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Address(Schema):
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=3, max_length=30, pattern=r"^\+?[0-9 ()-]{3,30}$")
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    district: str | None = Field(default=None, max_length=100)
    city: str = Field(min_length=1, max_length=100)
    province: str | None = Field(default=None, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
