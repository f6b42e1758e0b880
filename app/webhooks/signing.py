"""Webhook signatures: how a merchant's receiver knows a request came from us, unchanged and recently.

Every webhook request is a `POST` with a JSON body

    {"id": "evt_...", "type": "stock.changed", "created_at": "2026-11-27T08:00:00Z",
     "merchant_id": "mer_...", "data": {...}}

and these headers:

- `Liutong-Event-Id`: the event's id. Deliveries are at least once and not in order: a receiver
  that saw an id before should answer 2xx and do nothing.
- `Liutong-Event-Type`: the event's type, as in the body.
- `Liutong-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>`: the HMAC, keyed with the endpoint's
  secret (the whole `whsec_...` string, as UTF-8), of the timestamp, a full stop and the raw body
  bytes: `HMAC_SHA256(secret, f"{t}.{body}")`.

To verify, take `t` and every `v1` from the header, compute the HMAC over the raw body as received
(before parsing JSON), compare in constant time, and reject a `t` more than five minutes from your
clock (replayed requests). `verify` below does exactly that. Answer any 2xx within five seconds to
acknowledge; anything else (or no answer) is retried with exponential backoff.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "Liutong-Signature"
EVENT_ID_HEADER = "Liutong-Event-Id"
EVENT_TYPE_HEADER = "Liutong-Event-Type"
TOLERANCE_S = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of `f"{timestamp}.{body}"` keyed with `secret`."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    """The `Liutong-Signature` header value for `body` sent at `timestamp` (unix seconds)."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, body: bytes, header: str, *, now: int, tolerance: int = TOLERANCE_S) -> bool:
    """True when `header` signs `body` with `secret` and its timestamp is within `tolerance` s of `now`."""
    timestamp: int | None = None
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit() and len(value) <= 12:
            timestamp = int(value)
        elif key == "v1" and value:
            candidates.append(value)
    if timestamp is None or not candidates or abs(now - timestamp) > tolerance:
        return False
    expected = signature(secret, timestamp, body)
    return any(hmac.compare_digest(expected.encode(), c.encode()) for c in candidates)
