"""The JetStream stream of outbox events: its name and subjects, the message an event becomes, the connection."""

from __future__ import annotations

import functools
import re
from datetime import datetime
from typing import Any

import nats
import orjson
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from app.config import Settings
from app.core.clock import rfc3339

MSG_ID = "Nats-Msg-Id"  # JetStream drops a message whose id it stored within the duplicate window
# Longer than a relay takes to be restarted after a crash: a batch it published but did not mark is published
# again by the next relay, and the broker must still remember the first copy's ids then.
DUPLICATE_WINDOW_S = 15 * 60
MAX_AGE_S = 7 * 24 * 3600  # consumers that fall further behind than this lose events; alert long before
_UNSAFE = re.compile(r"[\s.*>]")


def prefix(settings: Settings) -> str:
    """The first token of every subject: the stream's name in lower case (`liutong`)."""
    return settings.shop_nats_stream.lower()


@functools.lru_cache(maxsize=8192)  # the relay asks for each of a batch's thousands of events
def subject(first: str, merchant_id: str | None, kind: str) -> str:
    """`<first>.<merchant>.<event type>` (`first`: `prefix(settings)`, `liutong`); platform events (no merchant)
    under `_platform`."""
    merchant = _UNSAFE.sub("_", merchant_id) if merchant_id else "_platform"
    return f"{first}.{merchant}.{kind}"


def event_id(seq: int) -> str:
    """The public id of outbox event `seq`: the message id, and `Liutong-Event-Id` on webhooks."""
    return f"evt_{seq}"


def seq_of(event_id: str) -> int:
    return int(event_id.removeprefix("evt_"))


def body(seq: int, kind: str, merchant_id: str | None, created_at: datetime, payload_json: str) -> bytes:
    """The message of one event, the document a webhook POSTs; the payload is put in as stored, not re-encoded."""
    return orjson.dumps({"id": event_id(seq), "type": kind, "created_at": rfc3339(created_at),
                         "merchant_id": merchant_id, "data": orjson.Fragment(payload_json)})


def stream_config(settings: Settings) -> StreamConfig:
    return StreamConfig(name=settings.shop_nats_stream, subjects=[f"{prefix(settings)}.>"],
                        retention=RetentionPolicy.LIMITS, storage=StorageType.FILE, discard=DiscardPolicy.OLD,
                        max_age=MAX_AGE_S, duplicate_window=DUPLICATE_WINDOW_S)


async def connect(settings: Settings, *, name: str) -> tuple[Client, JetStreamContext]:
    """A connection to NATS_URL and its JetStream context, the stream made if it does not exist yet."""
    if not settings.nats_url:
        raise RuntimeError("NATS_URL is not set")
    nc = await nats.connect(settings.nats_url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
    js = nc.jetstream(timeout=10)
    try:
        await js.stream_info(settings.shop_nats_stream)
    except NotFoundError:
        await js.add_stream(stream_config(settings))
    return nc, js


def decode(data: bytes) -> dict[str, Any]:
    event: dict[str, Any] = orjson.loads(data)
    return event
