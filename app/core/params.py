"""Path and header parameters that a hot route reads itself.

FastAPI resolves a route's declared parameters on every request, and for a small request (a flash sale's
attempt, most of them refused) that is a noticeable part of its CPU (bench/flash_sale.py). A route that takes
only `request` reads them here, with the same checks and the same 422 problem naming the parameter, and lists
them in its OpenAPI operation with `openapi_parameters`, as FastAPI would have.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError


@dataclass(frozen=True, slots=True)
class HeaderParam:
    """An optional text header with a length limit."""

    name: str
    max_length: int
    description: str

    def read(self, request: Request) -> str | None:
        value: str | None = request.headers.get(self.name)
        if value is not None and len(value) > self.max_length:
            raise RequestValidationError([{
                "type": "string_too_long", "loc": ("header", self.name), "input": value,
                "msg": f"String should have at most {self.max_length} characters",
                "ctx": {"max_length": self.max_length}}])
        return value

    def openapi(self) -> dict[str, Any]:
        return {"name": self.name, "in": "header", "required": False, "description": self.description,
                "schema": {"anyOf": [{"type": "string", "maxLength": self.max_length}, {"type": "null"}],
                           "description": self.description, "title": self.name}}


@dataclass(frozen=True, slots=True)
class PathParam:
    """A text path parameter (`request.path_params`)."""

    name: str

    def read(self, request: Request) -> str:
        value: str = request.path_params[self.name]
        return value

    def openapi(self) -> dict[str, Any]:
        return {"name": self.name, "in": "path", "required": True,
                "schema": {"type": "string", "title": self.name.replace("_", " ").title()}}


def openapi_parameters(*params: HeaderParam | PathParam) -> dict[str, Any]:
    """`openapi_extra` listing the parameters a route reads itself, in this order."""
    return {"parameters": [p.openapi() for p in params]}
