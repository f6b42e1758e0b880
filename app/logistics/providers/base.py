"""What a tracking aggregator gives the platform: a verified push, read into the parcel's events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.config import Settings


class InvalidPush(Exception):
    """A push whose signature or content is wrong: refused, nothing stored."""


@dataclass(frozen=True, slots=True)
class PushedEvent:
    occurred_at: datetime  # UTC
    state: str  # collected | in_transit | delivering | signed | problem | returned
    description: str
    location: str | None = None


@dataclass(frozen=True, slots=True)
class Push:
    carrier: str | None  # our carrier code, when the aggregator names a carrier we list
    tracking_no: str
    events: tuple[PushedEvent, ...]
    signed_at: datetime | None  # the parcel was signed for then (签收)


class TrackingProvider(Protocol):
    name: str

    def secret(self, settings: Settings) -> str | None:
        """The shared secret pushes are signed with; None: not configured here (its pushes answer 404)."""

    def read(self, form: Mapping[str, str], secret: str) -> Push:
        """Verify a push (form fields) and read it; InvalidPush if it is not genuine or not readable."""
