"""The OpenAPI document: every operation declares the problems it may answer, as `application/problem+json`.

The errors come from a few places every operation shares (authentication, validation, rate limits, the body limit,
the connection pool), so they are declared here once, for every operation, instead of per route. FastAPI's own
422 (`HTTPValidationError`, `application/json`) is replaced: our validation errors are problems too.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.routing import BaseRoute

from app.core.http import PROBLEM

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}

# RFC 9457 with our `errors` list; problems may carry more members (`code`, `skus`, ...).
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "An RFC 9457 problem document; `errors` names each bad field",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["field", "message"],
            "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}},
    },
}

_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before sending the request again",
                                "schema": {"type": "integer"}}}

# Every operation: status -> (description, response headers).
ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("Bad request: a path, header or parameter that cannot be read (a NUL character, ...)", {}),
    401: ("No token where one is needed, or a token that is malformed, unknown, expired or revoked", {}),
    403: ("The token's kind may not call this operation", {}),
    404: ("Not found, or not the caller's", {}),
    409: ("Conflict with the current state (stock short, already done, idempotency key reused, ...)", {}),
    413: ("The request body is larger than the limit", {}),
    422: ("Invalid input; `errors` names each bad field", {}),
    429: ("Too many requests from this address or token", _RETRY_AFTER),
    503: ("Busy (no database connection came free in time) or a rare clash: send the same request again",
          _RETRY_AFTER),
}
# Operations that take a request body, in addition.
BODY_ERRORS: dict[int, tuple[str, dict[str, Any]]] = {
    408: ("The request body did not arrive in time", {}),
    415: ("The request body is not of the media type the operation takes", {}),
}
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")


def declare_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Add the shared problem responses to every operation of `document` (in place) and return it."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_VALIDATION:
        schemas.pop(name, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    for path_item in document.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in _METHODS:
                continue
            responses = operation.setdefault("responses", {})
            errors = {**ERRORS, **(BODY_ERRORS if "requestBody" in operation else {})}
            for status, (description, headers) in sorted(errors.items()):
                own = responses.get(str(status))
                if own is not None and status != 422:  # FastAPI's 422 is not our problem document
                    description = own.get("description", description)  # a route's own words, our body
                response: dict[str, Any] = {"description": description,
                                            "content": {PROBLEM: {"schema": PROBLEM_REF}}}
                if headers:
                    response["headers"] = headers
                responses[str(status)] = response
    return document


def body_media_types(document: dict[str, Any]) -> dict[tuple[str, str], tuple[str, ...]]:
    """(method, path template) -> the media types its request body is declared in, for operations with a body."""
    return {(method.upper(), path): tuple(operation["requestBody"].get("content", {}))
            for path, path_item in document.get("paths", {}).items()
            for method, operation in path_item.items()
            if method in _METHODS and "requestBody" in operation}


def install(app: FastAPI, routes: Sequence[BaseRoute] | None = None) -> None:
    """Serve the document with the shared errors declared (built once, on first use). `routes`: the app's, in the
    order the document lists them (by default as the app matches them)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_errors(get_openapi(
                title=app.title, version=app.version, openapi_version=app.openapi_version,
                description=app.description, routes=list(routes) if routes is not None else app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
