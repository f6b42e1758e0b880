"""What a request may carry, checked once for every route.

Text: no NUL character (PostgreSQL stores none, in text or JSON columns) and no unpaired surrogate (no UTF-8
encodes one), in the path, the query string, a header or a JSON or form body. A path or header that carries one
is a 400; a query parameter or body field a 422 naming it. The checks cost a byte search when nothing is wrong.

Media types: an operation whose body is JSON takes `application/json` and nothing else (415): a form on another
site could otherwise post a `text/plain` body that our JSON parsers read anyway, without a CORS preflight.
Operations that declare other types (CSV uploads, the OAuth2 token form, payment notifications) keep them.

Bodies are looked at when the route reads them, so the route is known (what it takes) and a route that reads no
body pays nothing; the route gets the body it would have read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi import params
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.http import InputProblem, problem

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
BAD_TEXT = "must not contain NUL characters or unpaired surrogates"
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))

# A JSON body can only smuggle such a character as an escape (`\u0000`, `\ud800`) or as the bytes of an
# encoded surrogate, which Python's JSON decoder lets through; a match is then looked at properly.
_SUSPECT_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F])|\xed[\xa0-\xbf]")
_BAD_CHAR = re.compile("[\x00\ud800-\udfff]")


def _suspect_json(body: bytes) -> bool:
    """Whether a JSON body may carry a bad character; single-byte searches first (the fastest), as the pattern
    alone takes milliseconds over the megabyte of a till's upload."""
    escaped = b"\\" in body and (b"\\u0000" in body or b"\\ud" in body or b"\\uD" in body)
    return (escaped or b"\xed" in body) and _SUSPECT_JSON.search(body) is not None


def _bad(text: str) -> bool:
    return _BAD_CHAR.search(text) is not None


def _bad_json_fields(node: Any, at: str = "") -> Iterator[str]:
    """The dotted paths (`lines.0.name`) of the strings and keys in a decoded JSON document that carry a bad
    character."""
    if isinstance(node, str):
        if _bad(node):
            yield at or "body"
    elif isinstance(node, dict):
        for key, value in node.items():
            field = f"{at}.{key}" if at else str(key)
            if _bad(str(key)):
                yield _printable(field)
            else:
                yield from _bad_json_fields(value, field)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _bad_json_fields(value, f"{at}.{i}" if at else str(i))


def _printable(name: str) -> str:
    return _BAD_CHAR.sub("\N{REPLACEMENT CHARACTER}", name)


def _bad_pairs(encoded: str) -> list[str]:
    """The names of the fields of a query string or form body whose name or value carries a bad character."""
    return list(dict.fromkeys(_printable(name) for name, value in parse_qsl(encoded, keep_blank_values=True)
                              if _bad(name) or _bad(value)))


def _errors(fields: list[str]) -> list[dict[str, Any]]:
    return [{"field": f, "message": BAD_TEXT, "type": "string_unicode"} for f in fields]


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value)
    return None


def _media_type(content_type: bytes | None) -> str | None:
    if content_type is None:
        return None
    return content_type.split(b";", 1)[0].strip().lower().decode("latin-1")


_route_types: dict[int, tuple[APIRoute, frozenset[str]]] = {}


def body_media_types(route: Any) -> frozenset[str]:
    """The media types an API route's body is declared in; empty for a route that declares none."""
    found = _route_types.get(id(route))
    if found is not None and found[0] is route:
        return found[1]
    types: frozenset[str] = frozenset()
    if isinstance(route, APIRoute):
        if route.body_field is not None:
            form = isinstance(route.body_field.field_info, params.Form)
            types = frozenset((FORM, "multipart/form-data") if form else (JSON,))
        elif route.openapi_extra and "requestBody" in route.openapi_extra:
            types = frozenset(route.openapi_extra["requestBody"].get("content", {}))
        _route_types[id(route)] = (route, types)  # the route is kept, so its id is never reused
    return types


class InputGuardMiddleware:
    """The text checks of the path, query string and headers; the body's (text and media type) when it is read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self._head(scope)
        if refused is not None:
            await refused(scope, receive, send)
            return
        if scope["method"] in _BODY_METHODS:
            receive = _BodyCheck(scope, receive).receive
        await self.app(scope, receive, send)

    @staticmethod
    def _head(scope: Scope) -> Any:
        path: str = scope["path"]
        if "\x00" in path:  # decoded from %00; a path carries no surrogates (undecodable bytes are replaced)
            return problem(400, f"the path {BAD_TEXT}", type_slug="bad-request", errors=_errors(["path"]))
        query: bytes = scope.get("query_string", b"")
        if b"%00" in query or b"\x00" in query:
            fields = _bad_pairs(query.decode("latin-1")) or ["query"]
            return problem(422, f"invalid input: {', '.join(fields)}", type_slug="validation-error",
                           instance=path, errors=_errors(fields))
        for name, value in scope["headers"]:
            if b"\x00" in value:  # servers refuse these; an in-process caller may not
                field = name.decode("latin-1")
                return problem(400, f"the header {field} {BAD_TEXT}", type_slug="bad-request",
                               errors=_errors([field]))
        return None


class _BodyCheck:
    """`receive` for the route: the first read takes the whole body, checks it against the route, and hands it
    on as one message (or raises the problem, which the route's body parsing passes on to the handlers)."""

    def __init__(self, scope: Scope, receive: Receive) -> None:
        self.scope = scope
        self.inner = receive
        self.done = False

    async def receive(self) -> Message:
        if self.done:
            return await self.inner()
        self.done = True
        message = await self.inner()
        if message["type"] != "http.request":
            return message
        chunks = [message.get("body", b"")]
        while message.get("more_body", False):
            message = await self.inner()
            if message["type"] != "http.request":
                return message  # the client went away: the route hears it as it would have
            chunks.append(message.get("body", b""))
        body = b"".join(chunks)
        self._check(body)
        return {"type": "http.request", "body": body, "more_body": False}

    def _check(self, body: bytes) -> None:
        declared = body_media_types(self.scope.get("route"))
        media = _media_type(_header(self.scope, b"content-type"))
        if declared == {JSON} and body and media != JSON:
            raise InputProblem(415, f"this operation takes {JSON} bodies, not {media or 'an untyped body'}")
        if media == JSON:
            if not _suspect_json(body):
                return
            try:
                document = json.loads(body)
            except ValueError:
                return  # the route says what is wrong with it
            fields = list(dict.fromkeys(_bad_json_fields(document)))
        elif media == FORM:
            if b"%00" not in body and b"\x00" not in body:
                return
            fields = _bad_pairs(body.decode("latin-1"))
        else:
            return
        if fields:
            raise InputProblem(422, f"invalid input: {', '.join(fields)}", errors=_errors(fields))
