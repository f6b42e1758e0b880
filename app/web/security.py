"""Signed cookies and CSRF tokens for the pages (HMAC-SHA256 with the app's secret key)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def _mac(secret: str, purpose: str, value: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}\x00{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def sign(secret: str, purpose: str, value: str) -> str:
    """`value` with a MAC bound to the cookie's purpose (a cart cookie cannot be replayed as a login)."""
    return f"{value}|{_mac(secret, purpose, value)}"


def unsign(secret: str, purpose: str, signed: str | None) -> str | None:
    """The value if the MAC is right, else None."""
    if not signed or "|" not in signed or len(signed) > 4096:
        return None
    value, _, mac = signed.rpartition("|")
    return value if hmac.compare_digest(mac, _mac(secret, purpose, value)) else None


def new_sid() -> str:
    return secrets.token_urlsafe(18)


def csrf_token(secret: str, sid: str) -> str:
    """The form token of a browser session: only pages we rendered for this browser carry it."""
    return _mac(secret, "csrf", sid)


def csrf_ok(secret: str, sid: str | None, token: str | None) -> bool:
    return bool(sid and token) and hmac.compare_digest(csrf_token(secret, sid or ""), token or "")
