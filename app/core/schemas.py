"""Shared pydantic pieces: the base model, addresses, money fields."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticCustomError

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


# A mainland number as people write it: a mobile (1[3-9] and 9 digits, +86 allowed), a landline with its area
# code (010-12345678, 0571 8888 1234, (021)55550000, an extension after '-' or '转'), or a 400/800 line.
_CN_MOBILE = re.compile(r"^(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]){8}$")
_CN_LANDLINE = re.compile(r"^(?:\+?86[ -]?)?(?:\(0[1-9][0-9]{1,2}\)|0[1-9][0-9]{1,2})[ -]?[0-9]{3,4}[ -]?[0-9]{4}"
                          r"(?:(?:-|转)[0-9]{1,6})?$")
_CN_SERVICE = re.compile(r"^[48]00[ -]?[0-9]{3}[ -]?[0-9]{4}$")
_FOREIGN = re.compile(r"^\+(?!86)[1-9](?:[ -]?[0-9]){6,14}$")


def _phone(value: str) -> str:
    """Mainland numbers must be whole ("123" is not a phone number); a foreign one starts with its '+code'."""
    text = value.replace("（", "(").replace("）", ")")
    if not any(p.match(text) for p in (_CN_MOBILE, _CN_LANDLINE, _CN_SERVICE, _FOREIGN)):
        raise PydanticCustomError("phone", "not a phone number: a mobile number (11 digits, 1[3-9]...), a landline "
                                           "with its area code (021-55550000) or +country code and number")
    return value


Phone = Annotated[str, Field(min_length=3, max_length=30, pattern=r"^\+?[0-9 ()（）转-]{3,30}$"),
                  AfterValidator(_phone)]


class Address(Schema):
    name: str = Field(min_length=1, max_length=100)
    phone: Phone
    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(default=None, max_length=200)
    district: str | None = Field(default=None, max_length=100)
    city: str = Field(min_length=1, max_length=100)
    province: str | None = Field(default=None, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    country: str = Field(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")
