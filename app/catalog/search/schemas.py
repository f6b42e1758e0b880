from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, field_validator

from app.catalog.search import text
from app.core.schemas import OutSchema, Schema, UtcDatetime

Word = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


def _keyed(value: str, field: str) -> str:
    if not text.key(value):
        raise ValueError(f"{field} needs a letter, digit or Chinese character")
    return value


class SynonymsPut(Schema):
    """The merchant's synonym groups, replacing the ones before: every word of a group finds the others in
    this merchant's products, e.g. [["T恤", "T-shirt", "tee"]]."""

    groups: list[Annotated[list[Word], Field(min_length=2, max_length=10)]] = Field(max_length=200)

    @field_validator("groups")
    @classmethod
    def _words(cls, groups: list[list[str]]) -> list[list[str]]:
        return [[_keyed(w, "a synonym") for w in dict.fromkeys(g)] for g in groups]


class SynonymsOut(OutSchema):
    groups: list[list[str]]


class DictionaryPut(Schema):
    """The merchant's own words (brands, product names) that segmentation keeps whole, replacing the ones
    before; its products are re-indexed with them."""

    words: list[Word] = Field(max_length=500)

    @field_validator("words")
    @classmethod
    def _words(cls, words: list[str]) -> list[str]:
        return list(dict.fromkeys(_keyed(w, "a word") for w in words))


class DictionaryOut(OutSchema):
    words: list[str]


class SuggestionsOut(OutSchema):
    suggestions: list[str]


class MissOut(OutSchema):
    query: str
    count: int
    first_at: UtcDatetime
    last_at: UtcDatetime
    did_you_mean: str | None = Field(default=None, description="The query with unknown words replaced by the "
                                     "nearest title words (trigram similarity of spelling or pinyin)")


class MissPage(OutSchema):
    items: list[MissOut]
    next_cursor: str | None = None
