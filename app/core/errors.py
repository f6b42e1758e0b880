"""Domain errors. Services raise these; `app.main` turns them into RFC 9457 problem responses."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    status = 400
    type_slug = "bad-request"
    title = "Bad request"
    headers: ClassVar[Mapping[str, str]] = {}

    def __init__(self, detail: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra or {}


class NotFound(DomainError):
    status = 404
    type_slug = "not-found"
    title = "Not found"

    def __init__(self, resource: str, ident: str | None = None) -> None:
        super().__init__(f"{resource} {ident} not found" if ident else f"{resource} not found")


class Unauthenticated(DomainError):
    status = 401
    type_slug = "unauthenticated"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    type_slug = "forbidden"
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    type_slug = "conflict"
    title = "Conflict"


class TryAgain(DomainError):
    """A rare clash with a concurrent request that changed nothing: the same request, sent again, succeeds."""

    status = 503
    type_slug = "try-again"
    title = "Try again"
    headers: ClassVar[Mapping[str, str]] = {"Retry-After": "1"}


class TooManyRequests(DomainError):
    status = 429
    type_slug = "rate-limited"
    title = "Too many requests"
    headers: ClassVar[Mapping[str, str]] = {"Retry-After": "1"}


class InvalidInput(DomainError):
    """Input that passed schema validation but breaks a rule; `errors` names the fields."""

    status = 422
    type_slug = "validation-error"
    title = "Invalid input"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None,
                 extra: dict[str, Any] | None = None) -> None:
        super().__init__(detail, extra={**(extra or {}), "errors": errors or []})


def field_error(field: str, message: str) -> InvalidInput:
    """A single-field validation error (`field` is a dotted path such as `variants.0.sku`)."""
    return InvalidInput(f"{field}: {message}", errors=[{"field": field, "message": message}])


class IdempotencyConflict(Conflict):
    type_slug = "idempotency-key-reused"
    title = "Idempotency key reused with another request"


class PayloadTooLarge(DomainError):
    status = 413
    type_slug = "payload-too-large"
    title = "Payload too large"
