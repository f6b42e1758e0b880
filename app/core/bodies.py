"""Large JSON request bodies validated straight from the bytes.

FastAPI decodes a body with `json.loads` and then validates the Python objects; for a 10,000-event POS upload
or a 10,000-line batch order that is much of the request's CPU. pydantic validates the raw JSON in one pass,
which is faster (bench/pos_sync.py, bench/wholesale.py). A route
that takes its body this way reads `await request.body()`, calls `parse`, and documents the body with
`openapi_body`: errors are the same 422 problem, naming the same fields, as FastAPI's own validation.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], raw: bytes) -> M:
    """`raw` validated as `model`; a `RequestValidationError` (422, fields under `body`) if it is not one."""
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in error.errors(include_url=False)]) from None


def openapi_body(model: type[BaseModel], *, description: str | None = None) -> dict[str, Any]:
    """`openapi_extra` for a route that parses its body itself: the model's schema, nested models inlined."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(definitions[node["$ref"].rsplit("/", 1)[-1]])
            out = {k: inline(v) for k, v in node.items()}
            if "oneOf" in out and "discriminator" in out:
                # Its mapping names the members by reference, and inlined they have no name; the property
                # alone still tells them apart (each member fixes its value).
                out["discriminator"] = {k: v for k, v in out["discriminator"].items() if k != "mapping"}
            return out
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    body: dict[str, Any] = {"required": True, "content": {"application/json": {"schema": inline(schema)}}}
    if description:
        body["description"] = description
    return {"requestBody": body}
