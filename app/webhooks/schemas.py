from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, HttpUrl

from app.core.schemas import OutSchema, Schema, UtcDatetime
from app.webhooks.rules import ALL_EVENTS, EVENT_KINDS, MAX_URL_LENGTH


def _known_kind(kind: str) -> str:
    if kind != ALL_EVENTS and kind not in EVENT_KINDS:
        raise ValueError(f"unknown event kind {kind!r}; use `*` or one of: {', '.join(sorted(EVENT_KINDS))}")
    return kind


def _short_url(url: HttpUrl) -> HttpUrl:
    if len(str(url)) > MAX_URL_LENGTH:
        raise ValueError(f"URL must be at most {MAX_URL_LENGTH} characters")
    return url


EventKind = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(_known_kind)]
EndpointUrl = Annotated[HttpUrl, AfterValidator(_short_url)]


class WebhookCreate(Schema):
    url: EndpointUrl = Field(description="Where events are POSTed (http or https)")
    events: list[EventKind] = Field(min_length=1, max_length=len(EVENT_KINDS) + 1,
                                    description="Event kinds to receive, e.g. `stock.changed`, or `*` for all")


class WebhookOut(OutSchema):
    id: str
    url: str
    events: list[str]
    status: str
    created_at: UtcDatetime
    disabled_at: UtcDatetime | None = None


class WebhookCreated(WebhookOut):
    secret: str = Field(description="Signs every delivery (`Liutong-Signature`); shown once, store it safely")


class DeliveryOut(OutSchema):
    event_id: str
    event_type: str
    status: str = Field(description="pending | delivered | failed | cancelled")
    attempts: int
    last_status_code: int | None
    last_error: str | None
    last_attempt_at: UtcDatetime | None
    next_attempt_at: UtcDatetime | None = Field(description="When the next attempt is due (pending only)")
    delivered_at: UtcDatetime | None
    created_at: UtcDatetime

