from __future__ import annotations

from pydantic import Field

from app.core.schemas import OutSchema, Schema

MAX_ALT = 500


class RenditionsOut(OutSchema):
    thumb: str = Field(description="URL of a WebP at most 200 px wide")
    medium: str = Field(description="URL of a WebP at most 600 px wide")
    large: str = Field(description="URL of a WebP at most 1,200 px wide")


class MediaOut(OutSchema):
    id: str
    url: str = Field(description="The largest rendition (WebP)")
    width: int = Field(description="Of the picture at `url`")
    height: int
    alt: str
    position: int = Field(description="0, 1, ... in the order the product page shows them")
    variant_ids: list[str] = Field(description="The variants this picture shows")
    renditions: RenditionsOut


class MediaPatch(Schema):
    alt: str | None = Field(default=None, max_length=MAX_ALT)
    position: int | None = Field(default=None, ge=0, le=10_000, description="Moves it; the others shift")
    variant_ids: list[str] | None = Field(default=None, max_length=100,
                                          description="The variants this picture shows (replaces the list)")
