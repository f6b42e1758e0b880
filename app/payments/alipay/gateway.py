"""Thin async wrapper over the ``python-alipay-sdk`` (``alipay.AliPay``, RSA2).

The SDK signs requests (``client_api``: documented as "sign requests, without the HTTP call") and verifies
notifications (``verify``). Its own ``server_api`` only reaches the two gateways it knows, so server calls are
sent here to ``AlipayConfig.gateway`` and their answers are checked against Alipay's public key (the SDK has no
public call for an answer it did not fetch itself). Every signing and HTTP round trip runs in a worker thread.

Merchants take part through third-party app authorisation (第三方应用授权): every call accepts the merchant's
``app_auth_token``, so the money lands in that merchant's Alipay account, never in the platform's.
"""

from __future__ import annotations

import base64
import binascii
import csv
import functools
import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import anyio.to_thread
import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.config import Settings
from app.core.clock import SHANGHAI
from app.core.money import fen_to_yuan, yuan_to_fen
from app.payments.credentials import resolve_pem

if TYPE_CHECKING:
    from alipay import AliPay

__all__ = [
    "PRODUCTION_GATEWAY",
    "AlipayAppAuth",
    "AlipayBillRow",
    "AlipayConfig",
    "AlipayError",
    "AlipayNotification",
    "AlipayRefund",
    "AlipayRefundStatus",
    "AlipayReturn",
    "AlipayTrade",
    "BillFormatError",
    "InvalidNotification",
    "bill_download_url",
    "close",
    "download_bill",
    "exchange_app_auth_code",
    "page_pay_url",
    "parse_bill",
    "query",
    "refund",
    "refund_query",
    "verify_notification",
    "verify_return",
    "wap_pay_url",
]

PRODUCTION_GATEWAY = "https://openapi.alipay.com/gateway.do"
MAX_AMOUNT = 10_000_000_000  # fen: Alipay takes at most 100,000,000.00 yuan per trade
_SUCCESS = "10000"
_OUT_NO_RE = re.compile(r"[A-Za-z0-9_]{1,64}")  # Alipay's out_trade_no / out_request_no: letters, digits, _
_SUBJECT_FORBIDDEN = re.compile(r"[/=&]")  # Alipay refuses these in a subject
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S"  # Beijing time, the only time format the OpenAPI takes
_PAID = frozenset({"TRADE_SUCCESS", "TRADE_FINISHED"})


@dataclass(frozen=True)
class AlipayConfig:
    app_id: str
    app_private_key: str = field(repr=False)  # PEM
    alipay_public_key: str  # PEM: Alipay's key, which signs its answers and notifications
    gateway: str = PRODUCTION_GATEWAY
    timeout: float = 15.0

    @classmethod
    def from_settings(cls, settings: Settings) -> AlipayConfig | None:
        """The configuration, or None when Alipay is not configured (then it is offered nowhere)."""
        if not (settings.alipay_app_id and settings.alipay_app_private_key and settings.alipay_public_key):
            return None
        return cls(
            app_id=settings.alipay_app_id,
            app_private_key=resolve_pem(settings.alipay_app_private_key, kind="private",
                                        setting="ALIPAY_APP_PRIVATE_KEY"),
            alipay_public_key=resolve_pem(settings.alipay_public_key, kind="public", setting="ALIPAY_PUBLIC_KEY"),
            gateway=settings.alipay_gateway,
        )


class AlipayError(Exception):
    """An OpenAPI call failed: transport, HTTP, a business error (``code``/``sub_code``) or a bad signature.

    ``verified`` says the error answer itself carried Alipay's valid signature; only such answers are acted on
    (a trade that does not exist, a trade already paid).
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        sub_code: str | None = None,
        sub_msg: str | None = None,
        verified: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg
        self.verified = verified


class InvalidNotification(Exception):
    """A notification or return page whose signature, app id or fields are not Alipay's for this app."""


class BillFormatError(ValueError):
    """A downloaded statement that is not Alipay's zip of GBK CSV files."""


@dataclass(frozen=True)
class AlipayNotification:
    """An asynchronous notification (``trade_status_sync``) whose signature and app id were checked."""

    notify_id: str
    notify_type: str
    notify_time: str
    app_id: str
    out_trade_no: str
    trade_no: str
    trade_status: str  # WAIT_BUYER_PAY | TRADE_SUCCESS | TRADE_FINISHED | TRADE_CLOSED
    total_amount: int  # fen
    receipt_amount: int | None
    buyer_pay_amount: int | None
    refund_fee: int | None  # fen refunded on the trade so far (refund notifications)
    out_biz_no: str | None  # the refund's out_request_no (refund notifications)
    auth_app_id: str | None
    seller_id: str | None  # the merchant's Alipay account (2088...) the money went to
    gmt_payment: str | None
    gmt_refund: str | None
    fields: Mapping[str, str]  # everything that was signed

    @property
    def paid(self) -> bool:
        return self.trade_status in _PAID


@dataclass(frozen=True)
class AlipayReturn:
    """The signed parameters Alipay appends to ``return_url`` (the buyer's browser comes back with them)."""

    out_trade_no: str
    trade_no: str
    total_amount: int
    seller_id: str | None


@dataclass(frozen=True)
class AlipayTrade:
    out_trade_no: str
    trade_no: str
    trade_status: str
    total_amount: int
    buyer_pay_amount: int | None
    receipt_amount: int | None
    send_pay_date: str | None
    buyer_logon_id: str | None

    @property
    def paid(self) -> bool:
        return self.trade_status in _PAID


@dataclass(frozen=True)
class AlipayRefund:
    out_trade_no: str
    trade_no: str
    out_request_no: str
    fund_change: bool  # money moved on this call; False when this request number had been refunded already
    refund_fee: int  # fen refunded on the trade so far


@dataclass(frozen=True)
class AlipayRefundStatus:
    out_request_no: str
    refund_amount: int  # fen refunded under this request number


@dataclass(frozen=True)
class AlipayAppAuth:
    """A merchant's authorisation of the platform's app (``alipay.open.auth.token.app``)."""

    app_auth_token: str = field(repr=False)
    app_refresh_token: str = field(repr=False)
    user_id: str  # the merchant's Alipay account (2088...)
    auth_app_id: str
    expires_in: int
    re_expires_in: int


@dataclass(frozen=True)
class AlipayBillRow:
    """One line of the daily statement's detail list (业务明细)."""

    trade_no: str
    out_trade_no: str
    kind: str  # "trade" | "refund", or Alipay's own word for anything else
    subject: str
    created_at: str
    finished_at: str
    order_amount: int  # fen, the trade's amount (also on refund lines)
    received_amount: int  # fen the merchant received: negative on refund lines
    refund_request_no: str | None
    service_fee: int  # fen; negative is a fee charged


# --------------------------------------------------------------------------- SDK, HTTP and signatures


@functools.lru_cache(maxsize=8)
def _sdk(config: AlipayConfig) -> AliPay:
    # Imported when first used: the SDK and the OpenSSL bindings it loads are a large part of every process's
    # start, and most processes never talk to Alipay.
    from alipay import AliPay

    return AliPay(
        appid=config.app_id,
        app_private_key_string=config.app_private_key,
        alipay_public_key_string=config.alipay_public_key,
        sign_type="RSA2",
    )


@functools.lru_cache(maxsize=8)
def _http(config: AlipayConfig) -> httpx.Client:
    return httpx.Client(timeout=config.timeout)


@functools.lru_cache(maxsize=8)
def _alipay_key(pem: str) -> rsa.RSAPublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("Alipay's public key is not an RSA key")
    return key


def _beijing_now() -> str:
    # Alipay compares this with its own clock, so it is the real time, never the service's test clock.
    return datetime.now(SHANGHAI).strftime(_TIME_FORMAT)


def _signed(config: AlipayConfig, method: str, biz_content: dict[str, Any], **params: str | None) -> str:
    """The signed, URL-encoded parameters of one OpenAPI call (the SDK's ``client_api``)."""
    extra = {name: value for name, value in params.items() if value}
    signed: str = _sdk(config).client_api(method, biz_content, timestamp=_beijing_now(), **extra)
    return signed


def _signed_text(raw: str, key: str, expected: dict[str, Any]) -> str | None:
    """The exact text of ``key``'s object in ``raw``: what Alipay signed (its JSON, byte for byte)."""
    decoder = json.JSONDecoder()
    for match in re.finditer(rf'"{re.escape(key)}"\s*:\s*', raw):
        try:
            value, end = decoder.raw_decode(raw, match.end())
        except ValueError:
            continue
        if value == expected:
            return raw[match.end():end]
    return None


def _signature_ok(config: AlipayConfig, text: str, sign: str) -> bool:
    try:
        _alipay_key(config.alipay_public_key).verify(
            base64.b64decode(sign, validate=True), text.encode(), padding.PKCS1v15(), hashes.SHA256()
        )
    except (InvalidSignature, binascii.Error, ValueError):
        return False
    return True


def _business_error(method: str, answer: Mapping[str, Any], *, verified: bool) -> AlipayError:
    code, sub_code = answer.get("code"), answer.get("sub_code")
    sub_msg, msg = answer.get("sub_msg"), answer.get("msg")
    return AlipayError(
        f"Alipay {method}: {code} {msg or ''} {sub_code or ''} {sub_msg or ''}".strip(),
        code=str(code) if code is not None else None,
        sub_code=str(sub_code) if sub_code is not None else None,
        sub_msg=str(sub_msg) if sub_msg is not None else None,
        verified=verified,
    )


def _verified_answer(config: AlipayConfig, method: str, raw: str) -> dict[str, Any]:
    """The ``<method>_response`` object of an answer, after checking Alipay's signature over it."""
    key = method.replace(".", "_") + "_response"
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise AlipayError(f"Alipay {method}: the answer is not JSON") from exc
    if not isinstance(document, dict):
        raise AlipayError(f"Alipay {method}: the answer is not a JSON object")
    answer = document.get(key)
    if not isinstance(answer, dict):
        error = document.get("error_response")
        if isinstance(error, dict):
            raise _business_error(method, error, verified=False)
        raise AlipayError(f"Alipay {method}: the answer has no {key}")
    sign = document.get("sign")
    verified = False
    if isinstance(sign, str) and sign:
        text = _signed_text(raw, key, answer)
        if text is None or not _signature_ok(config, text, sign):
            raise AlipayError(f"Alipay {method}: the answer's signature does not verify with Alipay's public key")
        verified = True
    if answer.get("code") != _SUCCESS:
        raise _business_error(method, answer, verified=verified)
    if not verified:
        raise AlipayError(f"Alipay {method}: a success answer without a signature")
    return answer


def _call(config: AlipayConfig, method: str, biz_content: dict[str, Any], app_auth_token: str | None) -> dict[str, Any]:
    body = _signed(config, method, biz_content, app_auth_token=app_auth_token)
    try:
        response = _http(config).post(
            config.gateway,
            content=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
        )
    except httpx.HTTPError as exc:
        raise AlipayError(f"Alipay {method}: {type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise AlipayError(f"Alipay {method}: HTTP {response.status_code}")
    return _verified_answer(config, method, response.text)


async def _server_api(
    config: AlipayConfig, method: str, biz_content: dict[str, Any], app_auth_token: str | None
) -> dict[str, Any]:
    return await anyio.to_thread.run_sync(functools.partial(_call, config, method, biz_content, app_auth_token))


# --------------------------------------------------------------------------- checks on our side


def _check_out_no(name: str, value: str) -> None:
    if not isinstance(value, str) or not _OUT_NO_RE.fullmatch(value):
        raise ValueError(f"{name} must be 1-64 letters, digits or underscores, got {value!r}")


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 1 <= amount <= MAX_AMOUNT:
        raise ValueError(f"amount must be an integer number of fen in 1..{MAX_AMOUNT}, got {amount!r}")


def _subject(text: str) -> str:
    cleaned = " ".join(_SUBJECT_FORBIDDEN.sub(" ", text).split())[:256]
    if not cleaned:
        raise ValueError("subject is empty")
    return cleaned


def _fen(value: Any, what: str) -> int:
    if not isinstance(value, str):
        raise AlipayError(f"Alipay answered {what}={value!r}, not a yuan amount")
    try:
        return yuan_to_fen(value)
    except ValueError as exc:
        raise AlipayError(f"Alipay answered {what}={value!r}, not a yuan amount") from exc


def _optional_fen(value: Any, what: str) -> int | None:
    return None if value in (None, "") else _fen(value, what)


# --------------------------------------------------------------------------- paying


async def _pay_url(
    config: AlipayConfig,
    *,
    method: str,
    product_code: str,
    out_trade_no: str,
    amount: int,
    subject: str,
    notify_url: str,
    return_url: str | None,
    time_expire: datetime | None,
    app_auth_token: str | None,
    extra: dict[str, str],
) -> str:
    _check_out_no("out_trade_no", out_trade_no)
    _check_amount(amount)
    biz: dict[str, Any] = {
        "out_trade_no": out_trade_no,
        "total_amount": fen_to_yuan(amount),
        "subject": _subject(subject),
        "product_code": product_code,
        **extra,
    }
    if time_expire is not None:
        if time_expire.tzinfo is None:
            raise ValueError("time_expire must carry a time zone")
        biz["time_expire"] = time_expire.astimezone(SHANGHAI).strftime(_TIME_FORMAT)
    call = functools.partial(
        _signed, config, method, biz, notify_url=notify_url, return_url=return_url, app_auth_token=app_auth_token
    )
    return f"{config.gateway}?{await anyio.to_thread.run_sync(call)}"


async def page_pay_url(
    config: AlipayConfig,
    *,
    out_trade_no: str,
    amount: int,
    subject: str,
    notify_url: str,
    return_url: str | None = None,
    time_expire: datetime | None = None,
    app_auth_token: str | None = None,
) -> str:
    """The signed URL of Alipay's desktop cashier (``alipay.trade.page.pay``) for ``amount`` fen.

    Opening it creates the trade at Alipay; nothing is sent from here. ``subject`` loses the characters Alipay
    refuses (``/ = &``) and is cut to 256 characters.
    """
    return await _pay_url(
        config, method="alipay.trade.page.pay", product_code="FAST_INSTANT_TRADE_PAY", out_trade_no=out_trade_no,
        amount=amount, subject=subject, notify_url=notify_url, return_url=return_url, time_expire=time_expire,
        app_auth_token=app_auth_token, extra={},
    )


async def wap_pay_url(
    config: AlipayConfig,
    *,
    out_trade_no: str,
    amount: int,
    subject: str,
    notify_url: str,
    return_url: str | None = None,
    quit_url: str | None = None,
    time_expire: datetime | None = None,
    app_auth_token: str | None = None,
) -> str:
    """The signed URL of Alipay's phone cashier (``alipay.trade.wap.pay``); ``quit_url`` is where "back" goes."""
    return await _pay_url(
        config, method="alipay.trade.wap.pay", product_code="QUICK_WAP_WAY", out_trade_no=out_trade_no,
        amount=amount, subject=subject, notify_url=notify_url, return_url=return_url, time_expire=time_expire,
        app_auth_token=app_auth_token, extra={"quit_url": quit_url} if quit_url else {},
    )


def _verified_fields(config: AlipayConfig, params: Mapping[str, str], what: str) -> dict[str, str]:
    fields = {str(k): str(v) for k, v in params.items()}
    signature = fields.pop("sign", "")
    if not signature:
        raise InvalidNotification(f"{what} without a sign")
    from alipay.exceptions import AliPayException

    try:
        # The SDK drops sign_type and signs the rest sorted, empty values included, as Alipay does.
        valid = bool(_sdk(config).verify(dict(fields), signature))
    except (AliPayException, ValueError, TypeError) as exc:  # an unknown sign_type, a sign that is not base64
        raise InvalidNotification(f"{what}: {exc}") from exc
    if not valid:
        raise InvalidNotification(f"{what}: the signature does not verify with Alipay's public key")
    if fields.get("app_id") != config.app_id:
        raise InvalidNotification(f"{what} for app_id {fields.get('app_id')!r}, not ours")
    return fields


def _required(fields: Mapping[str, str], name: str, what: str) -> str:
    value = fields.get(name)
    if not value:
        raise InvalidNotification(f"{what} without {name}")
    return value


def _amount_field(fields: Mapping[str, str], name: str, what: str, *, required: bool) -> int | None:
    value = fields.get(name)
    if not value:
        if required:
            raise InvalidNotification(f"{what} without {name}")
        return None
    try:
        return yuan_to_fen(value)
    except ValueError as exc:
        raise InvalidNotification(f"{what}: {name}={value!r} is not a yuan amount") from exc


def verify_notification(config: AlipayConfig, form: Mapping[str, str]) -> AlipayNotification:
    """Check an asynchronous notification (the POSTed form fields, ``sign`` included) and parse it.

    Raises :class:`InvalidNotification` unless Alipay's public key verifies the signature and ``app_id`` is this
    app's. Whether ``out_trade_no`` is ours and the amount is what we asked is the caller's to check.
    """
    what = "Alipay notification"
    fields = _verified_fields(config, form, what)
    total = _amount_field(fields, "total_amount", what, required=True)
    assert total is not None
    return AlipayNotification(
        notify_id=_required(fields, "notify_id", what),
        notify_type=_required(fields, "notify_type", what),
        notify_time=_required(fields, "notify_time", what),
        app_id=fields["app_id"],
        out_trade_no=_required(fields, "out_trade_no", what),
        trade_no=_required(fields, "trade_no", what),
        trade_status=_required(fields, "trade_status", what),
        total_amount=total,
        receipt_amount=_amount_field(fields, "receipt_amount", what, required=False),
        buyer_pay_amount=_amount_field(fields, "buyer_pay_amount", what, required=False),
        refund_fee=_amount_field(fields, "refund_fee", what, required=False),
        out_biz_no=fields.get("out_biz_no") or None,
        auth_app_id=fields.get("auth_app_id") or None,
        seller_id=fields.get("seller_id") or None,
        gmt_payment=fields.get("gmt_payment") or None,
        gmt_refund=fields.get("gmt_refund") or None,
        fields=fields,
    )


def verify_return(config: AlipayConfig, params: Mapping[str, str]) -> AlipayReturn:
    """Check the parameters on the synchronous return URL. They show the buyer came back from paying;
    only the notification or a query marks a payment as paid."""
    what = "Alipay return"
    fields = _verified_fields(config, params, what)
    total = _amount_field(fields, "total_amount", what, required=True)
    assert total is not None
    return AlipayReturn(
        out_trade_no=_required(fields, "out_trade_no", what),
        trade_no=_required(fields, "trade_no", what),
        total_amount=total,
        seller_id=fields.get("seller_id") or None,
    )


# --------------------------------------------------------------------------- server calls


async def query(config: AlipayConfig, *, out_trade_no: str, app_auth_token: str | None = None) -> AlipayTrade | None:
    """The trade's state (``alipay.trade.query``); None when Alipay has no such trade (the cashier was never
    opened)."""
    _check_out_no("out_trade_no", out_trade_no)
    try:
        answer = await _server_api(config, "alipay.trade.query", {"out_trade_no": out_trade_no}, app_auth_token)
    except AlipayError as exc:
        if exc.verified and exc.sub_code == "ACQ.TRADE_NOT_EXIST":
            return None
        raise
    return AlipayTrade(
        out_trade_no=str(answer.get("out_trade_no", out_trade_no)),
        trade_no=str(answer.get("trade_no", "")),
        trade_status=str(answer.get("trade_status", "")),
        total_amount=_fen(answer.get("total_amount"), "total_amount"),
        buyer_pay_amount=_optional_fen(answer.get("buyer_pay_amount"), "buyer_pay_amount"),
        receipt_amount=_optional_fen(answer.get("receipt_amount"), "receipt_amount"),
        send_pay_date=answer.get("send_pay_date") or None,
        buyer_logon_id=answer.get("buyer_logon_id") or None,
    )


async def close(config: AlipayConfig, *, out_trade_no: str, app_auth_token: str | None = None) -> bool:
    """Close an unpaid trade (``alipay.trade.close``). False when Alipay never saw it (nothing to close).

    Raises :class:`AlipayError` with ``sub_code`` ``ACQ.TRADE_STATUS_ERROR`` if it was paid meanwhile.
    """
    _check_out_no("out_trade_no", out_trade_no)
    try:
        await _server_api(config, "alipay.trade.close", {"out_trade_no": out_trade_no}, app_auth_token)
    except AlipayError as exc:
        if exc.verified and exc.sub_code == "ACQ.TRADE_NOT_EXIST":
            return False
        raise
    return True


async def refund(
    config: AlipayConfig,
    *,
    out_trade_no: str,
    amount: int,
    out_request_no: str,
    reason: str | None = None,
    app_auth_token: str | None = None,
) -> AlipayRefund:
    """Refund ``amount`` fen of a paid trade (``alipay.trade.refund``), partly or wholly.

    ``out_request_no`` names this refund: the same number sent again refunds nothing more, so a retry after a
    timeout is safe. Raises :class:`AlipayError` (e.g. ``ACQ.REFUND_AMT_NOT_EQUAL_TOTAL``: more than is left).
    """
    _check_out_no("out_trade_no", out_trade_no)
    _check_out_no("out_request_no", out_request_no)
    _check_amount(amount)
    biz: dict[str, Any] = {
        "out_trade_no": out_trade_no,
        "refund_amount": fen_to_yuan(amount),
        "out_request_no": out_request_no,
    }
    if reason:
        biz["refund_reason"] = reason[:256]
    answer = await _server_api(config, "alipay.trade.refund", biz, app_auth_token)
    return AlipayRefund(
        out_trade_no=str(answer.get("out_trade_no", out_trade_no)),
        trade_no=str(answer.get("trade_no", "")),
        out_request_no=out_request_no,
        fund_change=answer.get("fund_change") == "Y",
        refund_fee=_fen(answer.get("refund_fee"), "refund_fee"),
    )


async def refund_query(
    config: AlipayConfig, *, out_trade_no: str, out_request_no: str, app_auth_token: str | None = None
) -> AlipayRefundStatus | None:
    """Whether a refund request went through (``alipay.trade.fastpay.refund.query``); None if Alipay has none."""
    _check_out_no("out_trade_no", out_trade_no)
    _check_out_no("out_request_no", out_request_no)
    answer = await _server_api(
        config,
        "alipay.trade.fastpay.refund.query",
        {"out_trade_no": out_trade_no, "out_request_no": out_request_no},
        app_auth_token,
    )
    # Alipay answers success with no refund fields for a request number it never refunded.
    if not answer.get("refund_amount") or answer.get("refund_status") not in (None, "", "REFUND_SUCCESS"):
        return None
    return AlipayRefundStatus(out_request_no=out_request_no, refund_amount=_fen(answer["refund_amount"],
                                                                              "refund_amount"))


async def exchange_app_auth_code(config: AlipayConfig, *, code: str) -> AlipayAppAuth:
    """Swap the ``app_auth_code`` a merchant's authorisation redirect brought for its tokens."""
    answer = await _server_api(
        config, "alipay.open.auth.token.app", {"grant_type": "authorization_code", "code": code}, None
    )
    tokens = answer.get("tokens")
    item = tokens[0] if isinstance(tokens, list) and tokens and isinstance(tokens[0], dict) else answer
    try:
        return AlipayAppAuth(
            app_auth_token=str(item["app_auth_token"]),
            app_refresh_token=str(item["app_refresh_token"]),
            user_id=str(item["user_id"]),
            auth_app_id=str(item["auth_app_id"]),
            expires_in=int(item.get("expires_in", 0)),
            re_expires_in=int(item.get("re_expires_in", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise AlipayError(f"Alipay alipay.open.auth.token.app: incomplete answer ({exc})") from exc


# --------------------------------------------------------------------------- the daily statement


async def bill_download_url(config: AlipayConfig, *, bill_date: date, app_auth_token: str | None = None) -> str:
    """Where the day's trade statement can be fetched (``alipay.data.dataservice.bill.downloadurl.query``);
    the URL is valid for a short while."""
    answer = await _server_api(
        config,
        "alipay.data.dataservice.bill.downloadurl.query",
        {"bill_type": "trade", "bill_date": bill_date.isoformat()},
        app_auth_token,
    )
    url = answer.get("bill_download_url")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise AlipayError(f"Alipay gave no usable bill_download_url: {url!r}")
    return url


async def download_bill(config: AlipayConfig, *, url: str) -> bytes:
    """The statement's zip, as served at ``url`` (from :func:`bill_download_url`)."""

    def fetch() -> bytes:
        try:
            response = _http(config).get(url)
        except httpx.HTTPError as exc:
            raise AlipayError(f"Alipay bill download: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise AlipayError(f"Alipay bill download: HTTP {response.status_code}")
        return response.content

    return await anyio.to_thread.run_sync(fetch)


_HEADER_TRADE_NO = "支付宝交易号"
_KINDS: dict[str, Literal["trade", "refund"]] = {"交易": "trade", "退款": "refund"}


def parse_bill(data: bytes) -> list[AlipayBillRow]:
    """The detail lines of a trade statement: Alipay's zip holding GBK CSV files (业务明细 and its summary).

    Lines are matched by column name, so a reordered or widened file still parses. Raises
    :class:`BillFormatError` for anything that is not such a zip.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [archive.read(info) for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
        raise BillFormatError(f"not a zip file: {exc}") from exc
    rows: list[AlipayBillRow] = []
    found = False
    for raw in members:
        try:
            text = raw.decode("gb18030")  # a superset of GBK that never fails on a stray rare character
        except UnicodeDecodeError as exc:
            raise BillFormatError(f"a statement file is not GBK text: {exc}") from exc
        lines = text.splitlines()
        start = next((i for i, line in enumerate(lines) if line.lstrip().startswith(_HEADER_TRADE_NO)), None)
        if start is None:
            continue  # the summary (汇总) file
        found = True
        body = []
        for line in lines[start:]:
            if line.startswith("#"):
                break
            if line.strip():
                body.append(line)
        rows.extend(_bill_rows(body))
    if not found:
        raise BillFormatError("no detail list (业务明细) in the statement")
    return rows


def _bill_rows(lines: list[str]) -> list[AlipayBillRow]:
    reader = csv.reader(lines)
    header = [name.strip() for name in next(reader)]
    index = {name: i for i, name in enumerate(header)}
    needed = ["支付宝交易号", "商户订单号", "业务类型", "订单金额（元）", "商家实收（元）"]
    missing = [name for name in needed if name not in index]
    if missing:
        raise BillFormatError(f"the detail list lacks columns {missing}")

    rows = []
    for number, record in enumerate(reader, start=2):
        values = [value.strip() for value in record]

        def cell(name: str, values: list[str] = values) -> str:
            i = index.get(name)
            return values[i] if i is not None and i < len(values) else ""

        def money(name: str, number: int = number) -> int:
            text = cell(name)
            if not text:
                return 0
            try:
                return yuan_to_fen(text, allow_negative=True)
            except ValueError as exc:
                raise BillFormatError(f"detail line {number}: {name}={text!r}") from exc

        kind_word = cell("业务类型")
        rows.append(AlipayBillRow(
            trade_no=cell("支付宝交易号"),
            out_trade_no=cell("商户订单号"),
            kind=_KINDS.get(kind_word, kind_word),
            subject=cell("商品名称"),
            created_at=cell("创建时间"),
            finished_at=cell("完成时间"),
            order_amount=money("订单金额（元）"),
            received_amount=money("商家实收（元）"),
            refund_request_no=cell("退款批次号/请求号") or None,
            service_fee=money("服务费（元）"),
        ))
    return rows
