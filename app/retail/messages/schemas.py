from __future__ import annotations

from pydantic import Field

from app.core.schemas import OutSchema, Schema, UtcDatetime


class MessageIn(Schema):
    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=10_000)
    sender: str | None = Field(default=None, min_length=1, max_length=200,
                               description="The name the message is sent under; default the platform operator's")


class MessageOut(OutSchema):
    id: str
    sender: str
    subject: str
    body: str
    created_at: UtcDatetime
    sent_at: UtcDatetime | None
    recipients: int = Field(description="Customers it went to: those consenting to marketing when it was sent")


class UnsubscribedOut(OutSchema):
    purpose: str = Field(description="The consent withdrawn: marketing, for every sender on the platform")
    withdrawn_at: UtcDatetime
