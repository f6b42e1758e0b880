"""A small in-process fake of the Stripe HTTP API (v1), for driving the real ``stripe`` SDK in tests.

Standard library only.  Usage::

    with FakeStripe() as fake:
        client = stripe.StripeClient("sk_test_123", base_addresses={"api": fake.url})
        intent = client.v1.payment_intents.create(params={"amount": 1000, "currency": "usd"})
        fake.succeed(intent.id)

Supported endpoints::

    POST /v1/payment_intents                 create (``confirm=true`` confirms immediately)
    GET  /v1/payment_intents/{id}            retrieve
    POST /v1/payment_intents/{id}            update (metadata merge, description, amount/currency)
    POST /v1/payment_intents/{id}/confirm    -> succeeded (or requires_capture if capture_method=manual)
    POST /v1/payment_intents/{id}/capture    requires_capture -> succeeded
    POST /v1/payment_intents/{id}/cancel     -> canceled
    POST /v1/refunds                         refund a succeeded intent (``payment_intent`` or ``charge``)
    GET  /v1/refunds/{id}                    retrieve

Behaviour copied from Stripe: form-encoded bracket params (``metadata[k]=v``, ``types[0]=card``) are
parsed into nested dicts/lists; every POST honours ``Idempotency-Key`` (same key + same params replays
the saved response with ``Idempotent-Replayed: true``; same key + different params or endpoint is a 400
``idempotency_error``; requests rejected by parameter validation are not saved); errors use Stripe's
``{"error": {"type", "code", "message", "param"}}`` shape; ``Authorization: Bearer sk_test_...`` is required.

Unknown request parameters are ignored rather than rejected (they are still visible in ``requests``),
except the SDK's request-option names (``idempotency_key``, ``stripe_account``, ...): those are answered
with Stripe's 400 ``parameter_unknown``, because with ``StripeClient`` putting them in ``params`` type-checks
(the v16 params TypedDicts inherit ``RequestOptions``) but sends them as form fields.
All state is guarded by ``FakeStripe.lock``; requests are processed one at a time.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

API_VERSION = "2026-10-28.endive"

_CANCELABLE = {
    "requires_payment_method",
    "requires_capture",
    "requires_confirmation",
    "requires_action",
    "processing",
}
_CONFIRMABLE = {"requires_payment_method", "requires_confirmation", "requires_action"}
_REFUND_REASONS = {"duplicate", "fraudulent", "requested_by_customer"}
_CANCELLATION_REASONS = {"duplicate", "fraudulent", "requested_by_customer", "abandoned"}
_CAPTURE_METHODS = {"automatic", "automatic_async", "manual"}
_REQUEST_OPTION_NAMES = {
    "api_key",
    "content_type",
    "headers",
    "idempotency_key",
    "max_network_retries",
    "stripe_account",
    "stripe_context",
    "stripe_version",
}


class RecordedRequest(NamedTuple):
    """One request as received. ``headers`` keys are lower-cased; ``params`` are the parsed form/query."""

    method: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]


class StripeAPIError(Exception):
    """Raised inside the fake to produce a Stripe-shaped error response."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        saved: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        # Stripe only saves idempotent results once the endpoint began executing:
        # parameter-validation failures are not saved.
        self.saved = saved

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        return {"error": error}


def _invalid(message: str, *, code: str, param: str | None = None) -> StripeAPIError:
    return StripeAPIError(400, message, code=code, param=param, saved=False)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


# --------------------------------------------------------------------------- form encoding


def _split_key(key: str) -> list[str]:
    """``"a[b][0]"`` -> ``["a", "b", "0"]``; a key without well-formed brackets is returned whole."""
    head, sep, rest = key.partition("[")
    if not sep or not head or not rest.endswith("]"):
        return [key]
    return [head, *rest[:-1].split("][")]


def _listify(value: Any, key: str | None = None) -> Any:
    """Turn dicts whose keys are all indexes into lists (``metadata`` always stays a dict)."""
    if not isinstance(value, dict):
        return value
    converted = {k: _listify(v, k) for k, v in value.items()}
    if key != "metadata" and converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def parse_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Parse Stripe-style form pairs (``metadata[k]=v``, ``types[0]=card``) into nested dicts/lists."""
    root: dict[str, Any] = {}
    for raw_key, value in pairs:
        parts = _split_key(raw_key)
        node = root
        for depth, part in enumerate(parts):
            if part == "":  # "a[]" appends
                part = str(len(node))
            if depth == len(parts) - 1:
                if isinstance(node.get(part), dict):
                    raise _invalid(
                        f"Invalid value for {raw_key}: conflicting keys.", code="parameter_invalid"
                    )
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise _invalid(
                        f"Invalid value for {raw_key}: conflicting keys.", code="parameter_invalid"
                    )
                node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


# --------------------------------------------------------------------------- param helpers


def _int_param(params: dict[str, Any], name: str, *, required: bool = False, minimum: int = 1) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise _invalid(f"Missing required param: {name}.", code="parameter_missing", param=name)
        return None
    if not isinstance(raw, str) or not re.fullmatch(r"-?\d+", raw):
        raise _invalid(f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name)
    value = int(raw)
    if value < minimum:
        raise _invalid(
            f"This value must be greater than or equal to {minimum}.",
            code="parameter_invalid_integer",
            param=name,
        )
    return value


def _bool_param(params: dict[str, Any], name: str) -> bool | None:
    raw = params.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise _invalid(f"Invalid boolean: {raw}", code="parameter_invalid_boolean", param=name)
    return bool(raw == "true")


def _str_param(params: dict[str, Any], name: str) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        raise _invalid(f"Invalid string: {raw!r}", code="parameter_invalid_string", param=name)
    return raw


def _enum_param(params: dict[str, Any], name: str, allowed: set[str]) -> str | None:
    value = _str_param(params, name)
    if value is not None and value not in allowed:
        raise _invalid(
            f"Invalid {name}: must be one of {', '.join(sorted(allowed))}",
            code="parameter_invalid_string",
            param=name,
        )
    return value


def _metadata_param(params: dict[str, Any]) -> dict[str, str] | None:
    """The metadata update: a value of ``""`` unsets that key, ``metadata=""`` unsets all keys."""
    raw = params.get("metadata")
    if raw is None:
        return None
    if raw == "":
        return {}
    if not isinstance(raw, dict):
        raise _invalid("Invalid object", code="parameter_invalid_string", param="metadata")
    if len(raw) > 50:
        raise _invalid(
            "Metadata may have at most 50 keys.", code="parameter_invalid_string", param="metadata"
        )
    for key, value in raw.items():
        if len(key) > 40:
            raise _invalid(
                "Metadata keys must be at most 40 characters.",
                code="parameter_invalid_string",
                param=f"metadata[{key}]",
            )
        if not isinstance(value, str) or len(value) > 500:
            raise _invalid(
                "Metadata values must be strings of at most 500 characters.",
                code="parameter_invalid_string",
                param=f"metadata[{key}]",
            )
    return dict(raw)


def _merge_metadata(current: dict[str, str], update: dict[str, str]) -> dict[str, str]:
    if not update:
        return {}
    merged = dict(current)
    for key, value in update.items():
        if value == "":
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


def _currency_param(params: dict[str, Any]) -> str:
    raw = params.get("currency")
    if raw is None or raw == "":
        raise _invalid("Missing required param: currency.", code="parameter_missing", param="currency")
    if not isinstance(raw, str) or not re.fullmatch(r"[A-Za-z]{3}", raw):
        raise _invalid(f"Invalid currency: {raw}", code="parameter_invalid_string", param="currency")
    return raw.lower()


# --------------------------------------------------------------------------- webhooks


def sign_payload(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """Build a ``Stripe-Signature`` header value: ``t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<payload>">``."""
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


# --------------------------------------------------------------------------- HTTP plumbing


@dataclass
class _SavedResponse:
    method: str
    path: str
    params: dict[str, Any]
    status: int
    body: dict[str, Any]
    request_id: str


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeStripe


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeStripe/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        pairs = parse_qsl(split.query, keep_blank_values=True)
        if method != "GET":
            pairs += parse_qsl(raw_body.decode("utf-8", "replace"), keep_blank_values=True)
        status, body, extra = self.server.fake._handle(method, split.path, pairs, headers)
        data = json.dumps(body, indent=2).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Stripe-Version", headers.get("stripe-version", API_VERSION))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


_Route = tuple[str, "re.Pattern[str]", Callable[..., dict[str, Any]]]


class FakeStripe:
    """In-memory Stripe served over HTTP on 127.0.0.1 from a daemon thread."""

    def __init__(self, api_key: str | None = None) -> None:
        """``api_key``: if given, only that exact key is accepted; otherwise any ``sk_test_...`` key."""
        self.api_key = api_key
        self.lock = threading.RLock()
        self.payment_intents: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.requests: list[RecordedRequest] = []
        self._idempotency: dict[tuple[str, str], _SavedResponse] = {}
        self._injected: list[StripeAPIError] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""
        self._routes: list[_Route] = [
            ("POST", re.compile(r"/v1/payment_intents"), self._create_payment_intent),
            ("GET", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), self._retrieve_payment_intent),
            ("POST", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)"), self._update_payment_intent),
            ("POST", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)/confirm"), self._confirm_payment_intent),
            ("POST", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)/capture"), self._capture_payment_intent),
            ("POST", re.compile(r"/v1/payment_intents/(?P<id>[^/]+)/cancel"), self._cancel_payment_intent),
            ("POST", re.compile(r"/v1/refunds"), self._create_refund),
            ("GET", re.compile(r"/v1/refunds/(?P<id>[^/]+)"), self._retrieve_refund),
        ]

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeStripe:
        if self._server is not None:
            return self
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(target=server.serve_forever, name="fake-stripe", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget all objects, recorded requests, idempotency keys and injected errors."""
        with self.lock:
            self.payment_intents.clear()
            self.refunds.clear()
            self.requests.clear()
            self._idempotency.clear()
            self._injected.clear()

    # ------------------------------------------------------------------ test helpers

    def succeed(self, pi_id: str) -> dict[str, Any]:
        """Mark an intent as paid (status succeeded, amount_received=amount, a charge id) and return it."""
        with self.lock:
            pi = self._get_pi(pi_id)
            if pi["status"] == "canceled":
                raise ValueError(f"{pi_id} is canceled")
            if pi["status"] != "succeeded":
                if pi["payment_method"] is None:
                    pi["payment_method"] = _new_id("pm")
                pi["status"] = "succeeded"
                pi["amount_received"] = pi["amount"]
                pi["amount_capturable"] = 0
                pi["latest_charge"] = pi["latest_charge"] or _new_id("ch")
            return copy.deepcopy(pi)

    def refunded_amount(self, pi_id: str) -> int:
        with self.lock:
            return sum(
                r["amount"]
                for r in self.refunds.values()
                if r["payment_intent"] == pi_id and r["status"] in ("succeeded", "pending")
            )

    def event(self, type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """A Stripe Event object wrapping a copy of ``obj`` (serialise it with ``json.dumps``)."""
        return {
            "id": _new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type,
        }

    def webhook(
        self, type: str, obj: dict[str, Any], secret: str, timestamp: int | None = None
    ) -> tuple[bytes, str]:
        """Convenience: ``(payload bytes, Stripe-Signature header)`` for ``event(type, obj)``."""
        payload = json.dumps(self.event(type, obj)).encode()
        return payload, sign_payload(payload, secret, timestamp)

    def inject_error(
        self,
        status: int = 500,
        *,
        type: str = "api_error",
        code: str | None = None,
        message: str = "Injected error from FakeStripe.",
        count: int = 1,
    ) -> None:
        """Make the next ``count`` authenticated requests fail with this error (before any idempotency
        lookup, like a transport-level failure; the SDK retries 409/5xx on its own)."""
        with self.lock:
            for _ in range(count):
                self._injected.append(StripeAPIError(status, message, type=type, code=code, saved=False))

    def requests_to(self, method: str, path: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.method == method and r.path == path]

    # ------------------------------------------------------------------ request handling

    def _handle(
        self, method: str, path: str, pairs: list[tuple[str, str]], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Process one request; returns (status, JSON body, extra response headers)."""
        request_id = _new_id("req")
        extra = {"Request-Id": request_id}
        with self.lock:
            try:
                params = parse_form(pairs)
            except StripeAPIError as exc:
                self.requests.append(RecordedRequest(method, path, dict(pairs), headers))
                return exc.status, exc.body(), extra
            self.requests.append(RecordedRequest(method, path, params, headers))
            try:
                api_key = self._authenticate(headers)
                if self._injected:
                    raise self._injected.pop(0)
                key = headers.get("idempotency-key") if method == "POST" else None
                if key:
                    saved = self._saved_response(api_key, key, method, path, params)
                    if saved is not None:
                        replay = {"Idempotent-Replayed": "true", "Original-Request": saved.request_id}
                        return saved.status, copy.deepcopy(saved.body), {**extra, **replay}
                misplaced = sorted(_REQUEST_OPTION_NAMES & params.keys())
                if misplaced:
                    name = misplaced[0]
                    raise _invalid(
                        f"Received unknown parameter: {name}", code="parameter_unknown", param=name
                    )
                status, live_body, save = self._route(method, path, params)
            except StripeAPIError as exc:
                return exc.status, exc.body(), extra
            body = copy.deepcopy(live_body)  # the response is serialised after the lock is released
            if key and save:
                saved = _SavedResponse(method, path, params, status, copy.deepcopy(body), request_id)
                self._idempotency[(api_key, key)] = saved
                extra["Idempotency-Key"] = key
            if status >= 500:
                extra["Stripe-Should-Retry"] = "false"
            return status, body, extra

    def _saved_response(
        self, api_key: str, key: str, method: str, path: str, params: dict[str, Any]
    ) -> _SavedResponse | None:
        saved = self._idempotency.get((api_key, key))
        if saved is None:
            return None
        retry_hint = f"Try using a key other than '{key}' if you meant to execute a different request."
        if (saved.method, saved.path) != (method, path):
            raise StripeAPIError(
                400,
                "Keys for idempotent requests can only be used for the same endpoint they were first used "
                f"for ('{saved.method} {saved.path}'). {retry_hint}",
                type="idempotency_error",
                saved=False,
            )
        if saved.params != params:
            raise StripeAPIError(
                400,
                "Keys for idempotent requests can only be used with the same parameters they were first "
                f"used with. {retry_hint}",
                type="idempotency_error",
                saved=False,
            )
        return saved

    def _authenticate(self, headers: dict[str, str]) -> str:
        auth = headers.get("authorization", "")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            raise StripeAPIError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization "
                "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
                saved=False,
            )
        key = key.strip()
        valid = key == self.api_key if self.api_key is not None else key.startswith("sk_test_")
        if not valid:
            shown = key[:8] + "*" * max(len(key) - 12, 0) + key[-4:] if len(key) > 12 else key
            raise StripeAPIError(401, f"Invalid API Key provided: {shown}", saved=False)
        return key

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any], bool]:
        """Returns (status, body, save_for_idempotency)."""
        path_matched = False
        for route_method, pattern, func in self._routes:
            match = pattern.fullmatch(path)
            if match is None:
                continue
            path_matched = True
            if route_method != method:
                continue
            try:
                body = func(params, **match.groupdict())
            except StripeAPIError as exc:
                return exc.status, exc.body(), exc.saved
            except Exception as exc:  # a bug in the fake: report it like Stripe would
                err = StripeAPIError(500, f"FakeStripe internal error: {exc!r}", type="api_error")
                return err.status, err.body(), False
            return 200, body, True
        message = f"Unrecognized request URL ({method}: {path})."
        if path_matched:
            message += " Please see https://stripe.com/docs or we can help at https://support.stripe.com/."
        err = StripeAPIError(404, message, saved=False)
        return err.status, err.body(), False

    # ------------------------------------------------------------------ payment intents

    def _get_pi(self, pi_id: str) -> dict[str, Any]:
        pi = self.payment_intents.get(pi_id)
        if pi is None:
            raise StripeAPIError(
                404, f"No such payment_intent: '{pi_id}'", code="resource_missing", param="intent"
            )
        return pi

    def _create_payment_intent(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = _int_param(params, "amount", required=True)
        currency = _currency_param(params)
        metadata = _metadata_param(params) or {}
        capture_method = _enum_param(params, "capture_method", _CAPTURE_METHODS) or "automatic_async"
        confirm = _bool_param(params, "confirm")
        # Newer API versions (the v16 SDK's types) call the request param allowed_payment_method_types;
        # the response keeps payment_method_types. Accept both.
        allowed = params.get("allowed_payment_method_types")
        pm_types = allowed if allowed is not None else params.get("payment_method_types")
        if pm_types is not None and (
            not isinstance(pm_types, list) or not all(isinstance(t, str) for t in pm_types)
        ):
            raise _invalid("Invalid array", code="parameter_invalid_string", param="payment_method_types")
        apm = params.get("automatic_payment_methods")
        automatic: dict[str, Any] | None
        if isinstance(apm, dict):
            if pm_types:
                raise _invalid(
                    "You may only specify one of these parameters: automatic_payment_methods, "
                    "payment_method_types.",
                    code="parameter_unknown",
                    param="automatic_payment_methods",
                )
            enabled = _bool_param(apm, "enabled")
            automatic = {"enabled": bool(enabled), "allow_redirects": apm.get("allow_redirects", "always")}
        elif apm is not None:
            raise _invalid(
                "Invalid object", code="parameter_invalid_string", param="automatic_payment_methods"
            )
        else:
            automatic = None if pm_types else {"enabled": True, "allow_redirects": "always"}
        pi_id = _new_id("pi")
        pi: dict[str, Any] = {
            "id": pi_id,
            "object": "payment_intent",
            "allowed_payment_method_types": list(allowed) if isinstance(allowed, list) else None,
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": 0,
            "automatic_payment_methods": automatic,
            "canceled_at": None,
            "cancellation_reason": None,
            "capture_method": capture_method,
            "client_secret": f"{pi_id}_secret_{secrets.token_urlsafe(18)}",
            "confirmation_method": params.get("confirmation_method", "automatic"),
            "created": int(time.time()),
            "currency": currency,
            "customer": _str_param(params, "customer"),
            "description": _str_param(params, "description"),
            "last_payment_error": None,
            "latest_charge": None,
            "livemode": False,
            "metadata": metadata,
            "next_action": None,
            "payment_method": _str_param(params, "payment_method"),
            "payment_method_types": list(pm_types) if pm_types else ["card"],
            "receipt_email": _str_param(params, "receipt_email"),
            "setup_future_usage": _str_param(params, "setup_future_usage"),
            "statement_descriptor": _str_param(params, "statement_descriptor"),
            "status": "requires_payment_method",
        }
        self.payment_intents[pi_id] = pi
        if confirm:
            self._do_confirm(pi, params)
        return pi

    def _retrieve_payment_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        return self._get_pi(id)

    def _update_payment_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        pi = self._get_pi(id)
        metadata = _metadata_param(params)
        amount = _int_param(params, "amount")
        currency = _currency_param(params) if params.get("currency") else None
        if (amount is not None or currency is not None) and pi["status"] not in _CONFIRMABLE:
            raise StripeAPIError(
                400,
                "This PaymentIntent's amount could not be updated because it has a status of "
                f"{pi['status']}.",
                code="payment_intent_unexpected_state",
            )
        if metadata is not None:
            pi["metadata"] = _merge_metadata(pi["metadata"], metadata)
        if "description" in params:
            pi["description"] = _str_param(params, "description")
        if amount is not None:
            pi["amount"] = amount
        if currency is not None:
            pi["currency"] = currency
        return pi

    def _do_confirm(self, pi: dict[str, Any], params: dict[str, Any]) -> None:
        if pi["status"] not in _CONFIRMABLE:
            raise StripeAPIError(
                400,
                "You cannot confirm this PaymentIntent because it has a status of "
                f"{pi['status']}. Only a PaymentIntent with one of the following statuses may be "
                "confirmed: requires_confirmation, requires_payment_method, requires_action.",
                code="payment_intent_unexpected_state",
            )
        pi["payment_method"] = _str_param(params, "payment_method") or pi["payment_method"] or _new_id("pm")
        pi["latest_charge"] = _new_id("ch")
        if pi["capture_method"] == "manual":
            pi["status"] = "requires_capture"
            pi["amount_capturable"] = pi["amount"]
        else:
            pi["status"] = "succeeded"
            pi["amount_received"] = pi["amount"]

    def _confirm_payment_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        pi = self._get_pi(id)
        self._do_confirm(pi, params)
        return pi

    def _capture_payment_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        pi = self._get_pi(id)
        amount = _int_param(params, "amount_to_capture")
        if pi["status"] != "requires_capture":
            raise StripeAPIError(
                400,
                f"This PaymentIntent could not be captured because it has a status of {pi['status']}. "
                "Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                code="payment_intent_unexpected_state",
            )
        if amount is not None and amount > pi["amount_capturable"]:
            raise StripeAPIError(
                400,
                "The amount to capture cannot be greater than the amount capturable.",
                code="amount_too_large",
                param="amount_to_capture",
            )
        pi["amount_received"] = pi["amount_capturable"] if amount is None else amount
        pi["amount_capturable"] = 0
        pi["status"] = "succeeded"
        return pi

    def _cancel_payment_intent(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        pi = self._get_pi(id)
        reason = _enum_param(params, "cancellation_reason", _CANCELLATION_REASONS)
        if pi["status"] not in _CANCELABLE:
            raise StripeAPIError(
                400,
                f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a "
                "PaymentIntent with one of the following statuses may be canceled: "
                + ", ".join(sorted(_CANCELABLE))
                + ".",
                code="payment_intent_unexpected_state",
            )
        pi["status"] = "canceled"
        pi["canceled_at"] = int(time.time())
        pi["cancellation_reason"] = reason
        pi["amount_capturable"] = 0
        return pi

    # ------------------------------------------------------------------ refunds

    def _create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        amount = _int_param(params, "amount")
        reason = _enum_param(params, "reason", _REFUND_REASONS)
        metadata = _metadata_param(params) or {}
        pi_id = _str_param(params, "payment_intent")
        charge_id = _str_param(params, "charge")
        if pi_id is None and charge_id is None:
            raise _invalid(
                "One of the following params should be provided for this request: payment_intent or charge.",
                code="parameter_missing",
            )
        if pi_id is not None:
            pi = self._get_pi(pi_id)
            if charge_id is not None and charge_id != pi["latest_charge"]:
                raise _invalid(
                    f"Charge {charge_id} does not belong to {pi_id}.",
                    code="parameter_invalid",
                    param="charge",
                )
        else:
            found = [p for p in self.payment_intents.values() if p["latest_charge"] == charge_id]
            if not found:
                raise StripeAPIError(
                    404, f"No such charge: '{charge_id}'", code="resource_missing", param="charge"
                )
            pi = found[0]
        if pi["status"] != "succeeded" or not pi["amount_received"]:
            raise StripeAPIError(
                400,
                f"This PaymentIntent ({pi['id']}) does not have a successful charge to refund.",
                code="payment_intent_unexpected_state",
                param="payment_intent",
            )
        refundable = pi["amount_received"] - self.refunded_amount(pi["id"])
        if refundable <= 0:
            raise StripeAPIError(
                400,
                f"Charge {pi['latest_charge']} has already been refunded.",
                code="charge_already_refunded",
            )
        if amount is None:
            amount = refundable
        elif amount > refundable:
            raise StripeAPIError(
                400,
                f"Refund amount ({amount} {pi['currency']}) is greater than unrefunded amount on charge "
                f"({refundable} {pi['currency']})",
                code="amount_too_large",
                param="amount",
            )
        refund: dict[str, Any] = {
            "id": _new_id("re"),
            "object": "refund",
            "amount": amount,
            "balance_transaction": _new_id("txn"),
            "charge": pi["latest_charge"],
            "created": int(time.time()),
            "currency": pi["currency"],
            "destination_details": None,
            "metadata": metadata,
            "payment_intent": pi["id"],
            "reason": reason,
            "receipt_number": None,
            "source_transfer_reversal": None,
            "status": "succeeded",
            "transfer_reversal": None,
        }
        self.refunds[refund["id"]] = refund
        return refund

    def _retrieve_refund(self, params: dict[str, Any], id: str) -> dict[str, Any]:
        refund = self.refunds.get(id)
        if refund is None:
            raise StripeAPIError(404, f"No such refund: '{id}'", code="resource_missing", param="id")
        return refund
