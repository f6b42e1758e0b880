"""A customer's signed access token is checked once and then known by its text until it expires."""

from __future__ import annotations

import time
from typing import Any

from app.core import auth
from app.core.security import issue_access_token

SECRET = "unit-test-secret-" + "s" * 32


def test_a_known_token_is_not_checked_again_until_it_expires(monkeypatch: Any):
    token = issue_access_token(secret=SECRET, subject="cus_1", kind="customer", minutes=5, token_id="tok_1")
    checks: list[str] = []
    read = auth.read_access_token

    def counted(*, secret: str, token: str) -> Any:
        checks.append(token)
        return read(secret=secret, token=token)

    monkeypatch.setattr(auth, "read_access_token", counted)
    first = auth.signed_customer(token=token, secret=SECRET)
    assert first is not None and first.principal.subject_id == "cus_1"
    assert auth.signed_customer(token=token, secret=SECRET) == first and len(checks) == 1
    # another secret, or the token with one character changed, is checked (and the altered one refused)
    assert auth.signed_customer(token=token, secret=SECRET + "x") is None
    assert auth.signed_customer(token=token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1],
                                secret=SECRET) is None
    assert len(checks) == 3
    now = time.time()
    monkeypatch.setattr(auth.time, "time", lambda: now + 5 * 60 + 1)  # past its expiry: checked again
    auth.signed_customer(token=token, secret=SECRET)
    assert len(checks) == 4


def test_the_known_tokens_are_bounded(monkeypatch: Any):
    monkeypatch.setattr(auth, "VERIFIED_KEPT", 3)
    tokens = [issue_access_token(secret=SECRET, subject=f"cus_{i}", kind="customer", minutes=5, token_id=f"t{i}")
              for i in range(5)]
    for t in tokens:
        assert auth.signed_customer(token=t, secret=SECRET) is not None
    assert len(auth._VERIFIED) <= 3
