"""The tour's HTTP side: one synchronous client that checks every answer and says what went wrong."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

RETRIES_ON_429 = 3


class TourFailed(Exception):
    """A step of the tour got an answer it did not expect; the message says which step and what came back."""


def problem_text(response: httpx.Response) -> str:
    """A one-line reading of an error answer (RFC 9457 problem: title, detail and the bad fields)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    if not isinstance(body, dict):
        return str(body)[:300]
    text = str(body.get("detail") or body.get("title") or body)[:300]
    fields = [f"{e.get('field')}: {e.get('message')}" for e in body.get("errors") or [] if isinstance(e, dict)]
    if fields:
        text += " [" + "; ".join(fields[:5]) + (" …" if len(fields) > 5 else "") + "]"
    return text


class Api:
    """Calls the server; `call` returns the decoded body or raises TourFailed naming the step."""

    def __init__(self, base_url: str, *, timeout: float = 120.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)
        self.calls = 0

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, *, step: str, token: str | None = None,
             expect: tuple[int, ...] = (200, 201), idempotent: bool = False, **kwargs: Any) -> Any:
        headers: dict[str, str] = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if idempotent:
            headers["Idempotency-Key"] = uuid.uuid4().hex
        for attempt in range(RETRIES_ON_429 + 1):
            try:
                response = self.http.request(method, path, headers=headers, **kwargs)
            except httpx.HTTPError as exc:
                raise TourFailed(f"{step}: cannot reach {self.base_url}{path} ({exc.__class__.__name__}: {exc}). "
                                 "Is the server running (`make run`)?") from None
            self.calls += 1
            if response.status_code == 429 and attempt < RETRIES_ON_429:
                # The server's rate limit: wait out the window it names, then go on.
                time.sleep(min(60.0, float(response.headers.get("Retry-After", "5"))))
                continue
            break
        if response.status_code not in expect:
            raise TourFailed(f"{step}: {method} {path} answered {response.status_code} "
                             f"(expected {' or '.join(map(str, expect))}): {problem_text(response)}")
        if not response.content:
            return None
        if response.headers.get("content-type", "").split(";")[0].endswith("json"):
            return response.json()
        return response.text
