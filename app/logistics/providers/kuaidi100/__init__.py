"""Kuaidi100 (快递100) subscription pushes (`POST /v1/logistics/kuaidi100/push`).

Kuaidi100 posts a form with `param`, the JSON of the tracking state (`lastResult`: `com`, `nu`, `state`, `data` —
the journey newest first, each step with `context`, `ftime` in Beijing time and, with `resultv2`, `areaName` and
`statusCode`), and `sign`, the upper-case hex MD5 of `param` followed by the salt given when subscribing. The
platform subscribes with one salt, `SHOP_KUAIDI100_SALT`; until it is set the push answers 404.

`state` (and a step's `statusCode`): 0 在途, 1 揽收, 2 疑难, 3 签收, 4 退签, 5 派件, 6 退回, 7 转投, 8 清关, 14 拒签;
three-digit codes refine a state (301 本人签收, 501 派件中 ...).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from app.config import Settings
from app.core.clock import SHANGHAI, as_utc
from app.logistics import carriers
from app.logistics.providers.base import InvalidPush, Push, PushedEvent

_STATES = {0: "in_transit", 1: "collected", 2: "problem", 3: "signed", 4: "returned", 5: "delivering",
           6: "returned", 7: "in_transit", 8: "in_transit", 14: "returned"}


def sign(param: str, salt: str) -> str:
    """Kuaidi100's signature of a push: MD5(param + salt), upper-case hex."""
    return hashlib.md5((param + salt).encode("utf-8"), usedforsecurity=False).hexdigest().upper()


def state_of(code: Any) -> str:
    """Our state for one of Kuaidi100's codes (a refined three-digit code counts as its first digit)."""
    try:
        value = int(str(code))
    except ValueError:
        return "in_transit"
    if value >= 100:
        value //= 100
    if 10 <= value < 14:  # 10–13: customs clearance steps
        return "in_transit"
    return _STATES.get(value, "in_transit")


def _time(step: Mapping[str, Any]) -> datetime:
    text = str(step.get("ftime") or step.get("time") or "")
    try:
        local = datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise InvalidPush(f"a step's time is not yyyy-mm-dd hh:mm:ss: {text[:40]!r}") from None
    return as_utc(local.replace(tzinfo=SHANGHAI))


class Kuaidi100:
    name = "kuaidi100"

    def secret(self, settings: Settings) -> str | None:
        return settings.shop_kuaidi100_salt

    def read(self, form: Mapping[str, str], secret: str) -> Push:
        param, signature = form.get("param"), form.get("sign")
        if not param or not signature:
            raise InvalidPush("a push has the form fields param and sign")
        if not hmac.compare_digest(sign(param, secret), signature.strip().upper()):
            raise InvalidPush("the signature does not match")
        try:
            body = json.loads(param)
            result = body["lastResult"]
            steps = result.get("data") or []
            number = str(result["nu"])
        except (ValueError, KeyError, TypeError, AttributeError):
            raise InvalidPush("param is not Kuaidi100's push JSON (lastResult with nu and data)") from None
        if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
            raise InvalidPush("lastResult.data is a list of steps")
        last_state = state_of(result.get("state", 0))
        events: list[PushedEvent] = []
        for i, step in enumerate(steps):
            # Without per-step codes (no resultv2), only the newest step is known to be in the overall state.
            code = step.get("statusCode")
            state = state_of(code) if code not in (None, "") else (last_state if i == 0 else "in_transit")
            events.append(PushedEvent(_time(step), state, str(step.get("context") or "")[:500],
                                      (str(step.get("areaName"))[:100] if step.get("areaName") else None)))
        signed = [e.occurred_at for e in events if e.state == "signed"]
        carrier = carriers.BY_KUAIDI100.get(str(result.get("com") or ""))
        return Push(carrier.code if carrier else None, carriers.normalise(number), tuple(events),
                    max(signed) if signed else None)


PROVIDER = Kuaidi100()
