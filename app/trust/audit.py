"""Audit of requests: every successful change made by the platform admin, and a merchant's sensitive changes
(listings, promotions, locations, devices, keys, cancellations), land in the append-only audit log.

Use cases of this package write richer entries (before/after) in their own transaction; their routes are
skipped here so nothing is recorded twice.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.logging import get_logger
from app.trust import audit_log as trust_audit_log

log = get_logger("app.trust.audit")

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MERCHANT_SENSITIVE = ("/v1/products", "/v1/promotions", "/v1/locations", "/v1/devices", "/v1/webhooks",
                      "/v1/api-keys", "/v1/wholesale/buyers", "/v1/community")
NOT_SENSITIVE = ("/stock/",)  # stock counts have their own ledger
AUDITED_IN_SERVICE = frozenset({
    "/v1/admin/products/{product_id}/takedown", "/v1/admin/products/{product_id}/approve",
    "/v1/admin/reviews/{review_id}/mask", "/v1/admin/complaints/{complaint_id}/resolve",
    "/v1/admin/enforcement/warnings", "/v1/reviews/{review_id}/reply", "/v1/admin/merchants/{merchant_id}/suspend",
    "/v1/seller-profile", "/v1/licence-changes", "/v1/admin/licence-changes/{change_id}/approve",
    "/v1/admin/licence-changes/{change_id}/reject",
})
MAX_BODY = 64 * 1024


def should_audit(*, kind: str | None, method: str, route: str) -> bool:
    """Whether a successful request is an admin action or a merchant's sensitive one."""
    if method not in MUTATING or route in AUDITED_IN_SERVICE:
        return False
    if kind == "admin":
        return True
    if kind == "merchant":
        return (route.startswith(MERCHANT_SENSITIVE) or route.endswith("/cancel")) and not any(
            part in route for part in NOT_SENSITIVE)
    return False


def target_of(route: str, path_params: dict[str, Any], body: dict[str, Any] | None) -> tuple[str, str | None]:
    """(`product`, `prd_...`) from the route template and its first id, or the id of what was created."""
    parts = [p for p in route.split("/")[2:] if p and not p.startswith("{") and p != "admin"]
    kind = parts[0].rstrip("s").replace("-", "_") if parts else "request"
    ident = next(iter(path_params.values()), None) if path_params else None
    if ident is None and body is not None and isinstance(body.get("id"), str):
        ident = body["id"]
    return kind, (str(ident) if ident is not None else None)


class AuditMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in MUTATING:
            await self.app(scope, receive, send)
            return
        status = 500
        chunks: list[bytes] = []
        size = 0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body" and size <= MAX_BODY:
                body = message.get("body", b"")
                size += len(body)
                chunks.append(body)
            await send(message)

        await self.app(scope, receive, send_wrapper)
        principal = (scope.get("state") or {}).get("principal")
        route = getattr(scope.get("route"), "path", None)
        if status >= 400 or principal is None or route is None:
            return
        if not should_audit(kind=principal.kind, method=scope["method"], route=route):
            return
        try:
            body = orjson.loads(b"".join(chunks)) if chunks and size <= MAX_BODY else None
        except orjson.JSONDecodeError:
            body = None
        target_type, target_id = target_of(route, scope.get("path_params") or {},
                                           body if isinstance(body, dict) else None)
        try:
            await trust_audit_log.record_request(
                scope["app"].state.sessionmaker, actor=principal.scope, action=f"{scope['method']} {route}",
                target_type=target_type, target_id=target_id, merchant_id=principal.merchant_id,
                after={"status": status, "path": scope["path"]})
        except Exception:
            log.exception("audit_write_failed", route=route)
