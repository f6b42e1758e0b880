"""API routers that turn a request away by its path's first characters.

Routing walks a list: a request for the 9th included router was matched, route by route, against every route of
the 8 before it (each attempt a regular expression and FastAPI's bookkeeping of the scope). `Prefiltered` puts one
check in front of a router: the literal starts of its paths (the text before the first `{`), as one tuple for
`str.startswith`. A path that starts with none of them cannot match any of the router's routes, fully or partly,
so it is turned away at once; any other path is matched as FastAPI always does.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.routing import Match
from starlette.types import Scope


def literal_starts(router: APIRouter) -> tuple[str, ...] | None:
    """Each route's path up to its first parameter; None if a route has no path (a mount, an included router)."""
    starts: set[str] = set()
    for route in router.routes:
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            return None
        starts.add(path.split("{", 1)[0])
    return tuple(sorted(starts))


class Prefiltered(APIRouter):
    """`router`'s routes, included as they are (OpenAPI, dependencies and order unchanged), behind the check of the
    module's docstring."""

    def __init__(self, router: APIRouter) -> None:
        super().__init__()
        self.include_router(router)
        self.wrapped = router
        self.starts = literal_starts(router)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self.starts is not None:
            path: str = scope.get("path", "")
            root: str = scope.get("root_path", "")
            if root and path.startswith(root):
                path = path[len(root):]
            if not path.startswith(self.starts):
                return Match.NONE, {}
        return super().matches(scope)


# Routers are module-level singletons (and not hashable): keyed by identity, each kept alive by its wrapper.
_WRAPPED: dict[int, Prefiltered] = {}


def prefiltered(router: APIRouter) -> Prefiltered:
    """One `Prefiltered` per router for the process. FastAPI works out each route's dependencies the first time a
    router is included or matched and keeps the result on the including router: every app made in this process
    (tests make hundreds) shares that work instead of repeating it for all routes."""
    wrapped = _WRAPPED.get(id(router))
    if wrapped is None or wrapped.wrapped is not router:
        wrapped = _WRAPPED[id(router)] = Prefiltered(router)
    return wrapped
