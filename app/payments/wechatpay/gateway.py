"""Thin async wrapper over the ``wechatpayv3`` SDK (API v3) in service-provider (partner) mode.

The platform is the service provider (``WECHATPAY_MCHID`` / ``WECHATPAY_APPID``); every merchant is a
``sub_mchid`` under it, so a buyer's money lands in that merchant's own WeChat Pay account. The SDK signs each
request with the merchant API key, checks each answer's signature (with the platform public key, or with the
platform certificates it downloads itself), verifies and decrypts notifications and signs the JS bridge's
parameters. Its calls block, so they run in a worker thread.

The SDK always addresses https://api.mch.weixin.qq.com and has no option for another base URL; its one public
way to reach anything else is its documented ``proxy`` option (``requests``' proxies). A ``WECHATPAY_API_BASE``
other than that address is therefore used as a forward proxy: the local sandbox, which answers ``CONNECT
api.mch.weixin.qq.com:443`` itself (its certificate authority trusted through ``REQUESTS_CA_BUNDLE``), or an
egress proxy in production.
"""

from __future__ import annotations

import csv
import functools
import gzip
import hashlib
import io
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, TypeVar

import anyio.to_thread
from wechatpayv3 import WeChatPay, WeChatPayType

from app.config import Settings
from app.core.clock import SHANGHAI
from app.core.money import yuan_to_fen
from app.payments.credentials import resolve_pem

__all__ = [
    "NOTIFICATION_TOLERANCE",
    "PRODUCTION_API",
    "BillFormatError",
    "CombinedPayment",
    "InvalidNotification",
    "JsapiPayment",
    "SubOrder",
    "WechatBillRow",
    "WechatCombinedTransaction",
    "WechatNotification",
    "WechatPayConfig",
    "WechatPayError",
    "WechatRefund",
    "WechatTransaction",
    "close",
    "combine_close",
    "combine_pay",
    "combine_query",
    "h5_pay",
    "jsapi_pay",
    "native_pay",
    "parse_trade_bill",
    "query",
    "query_refund",
    "refund",
    "trade_bill",
    "verify_notification",
]

PRODUCTION_API = "https://api.mch.weixin.qq.com"
NOTIFICATION_TOLERANCE = 300  # seconds between a notification's Wechatpay-Timestamp and now, either way
_OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
_OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
_SUB_MCHID = re.compile(r"[0-9]{1,32}")
_HEADERS = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Serial",
            "Wechatpay-Signature-Type")
_PAID = frozenset({"SUCCESS", "REFUND"})  # REFUND: paid, then (partly) refunded
_T = TypeVar("_T")


@dataclass(frozen=True)
class WechatPayConfig:
    mchid: str  # the service provider's (sp_mchid)
    appid: str  # the service provider's (sp_appid)
    apiv3_key: str = field(repr=False)
    private_key: str = field(repr=False)  # PEM of the merchant API certificate's key
    cert_serial_no: str
    public_key: str | None = None  # PEM of the platform public key; None: platform certificates
    public_key_id: str | None = None
    api_base: str = PRODUCTION_API
    timeout: tuple[float, float] = (5.0, 20.0)  # connect, read

    def __post_init__(self) -> None:
        if len(self.apiv3_key.encode()) != 32:
            raise ValueError("WECHATPAY_APIV3_KEY must be 32 bytes")
        if (self.public_key is None) != (self.public_key_id is None):
            raise ValueError("WECHATPAY_PUBLIC_KEY and WECHATPAY_PUBLIC_KEY_ID go together")
        if not self.api_base.startswith(("https://", "http://")):
            raise ValueError("WECHATPAY_API_BASE must be an http(s) URL")

    @property
    def proxy(self) -> dict[str, str] | None:
        """The SDK's ``proxy`` option: None for WeChat Pay itself, else the forward proxy to go through."""
        return None if self.api_base.rstrip("/") == PRODUCTION_API else {"https": self.api_base}

    @classmethod
    def from_settings(cls, settings: Settings) -> WechatPayConfig | None:
        """The configuration, or None when WeChat Pay is not configured (then it is offered nowhere)."""
        if not (settings.wechatpay_mchid and settings.wechatpay_appid and settings.wechatpay_apiv3_key
                and settings.wechatpay_private_key and settings.wechatpay_cert_serial_no):
            return None
        public_key = (resolve_pem(settings.wechatpay_public_key, kind="public", setting="WECHATPAY_PUBLIC_KEY")
                      if settings.wechatpay_public_key else None)
        return cls(
            mchid=settings.wechatpay_mchid,
            appid=settings.wechatpay_appid,
            apiv3_key=settings.wechatpay_apiv3_key,
            private_key=resolve_pem(settings.wechatpay_private_key, kind="private", setting="WECHATPAY_PRIVATE_KEY"),
            cert_serial_no=settings.wechatpay_cert_serial_no,
            public_key=public_key,
            public_key_id=settings.wechatpay_public_key_id or None,
            api_base=settings.wechatpay_api_base,
        )


class WechatPayError(Exception):
    """A call failed: transport, an answer whose signature did not verify, or WeChat Pay's error ``code``."""

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.http_status = http_status


class InvalidNotification(Exception):
    """A notification that is stale, not signed by WeChat Pay, not decryptable with our key, or not ours."""


class BillFormatError(ValueError):
    """A trade bill that is not WeChat Pay's CSV."""


@dataclass(frozen=True)
class SubOrder:
    """One merchant's part of a combined payment."""

    sub_mchid: str
    out_trade_no: str
    amount: int  # fen
    description: str
    attach: str  # WeChat Pay requires it on every sub-order; it comes back in notifications and queries


@dataclass(frozen=True)
class JsapiPayment:
    """A JSAPI prepay and the signed parameters for ``WeixinJSBridge.invoke('getBrandWCPayRequest', ...)``."""

    prepay_id: str
    app_id: str
    time_stamp: str
    nonce_str: str
    package: str
    pay_sign: str = field(repr=False)
    sign_type: str = "RSA"

    def bridge(self) -> dict[str, str]:
        return {"appId": self.app_id, "timeStamp": self.time_stamp, "nonceStr": self.nonce_str,
                "package": self.package, "signType": self.sign_type, "paySign": self.pay_sign}


@dataclass(frozen=True)
class CombinedPayment:
    """What the buyer's device needs for a combined payment: one of the three, by channel."""

    combine_out_trade_no: str
    code_url: str | None = None
    h5_url: str | None = None
    jsapi: JsapiPayment | None = None


@dataclass(frozen=True)
class WechatTransaction:
    sub_mchid: str
    out_trade_no: str
    transaction_id: str | None
    trade_state: str  # NOTPAY | SUCCESS | REFUND | CLOSED | REVOKED | USERPAYING | PAYERROR
    trade_type: str | None
    total: int  # fen asked
    payer_total: int | None  # fen the buyer paid (after WeChat's own coupons)
    currency: str
    success_time: str | None
    attach: str | None

    @property
    def paid(self) -> bool:
        return self.trade_state in _PAID


@dataclass(frozen=True)
class WechatCombinedTransaction:
    combine_out_trade_no: str
    sub_orders: tuple[WechatTransaction, ...]


@dataclass(frozen=True)
class WechatRefund:
    sub_mchid: str | None
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    status: str  # PROCESSING | SUCCESS | CLOSED | ABNORMAL
    refund: int  # fen
    total: int  # fen of the payment refunded from
    payer_refund: int | None
    success_time: str | None

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"


@dataclass(frozen=True)
class WechatNotification:
    """A notification whose signature, freshness and service provider were checked, its resource decrypted."""

    id: str
    event_type: str  # TRANSACTION.SUCCESS | REFUND.SUCCESS | REFUND.ABNORMAL | REFUND.CLOSED ...
    create_time: str | None
    summary: str | None
    resource: Mapping[str, Any]
    transaction: WechatTransaction | None = None
    combined: WechatCombinedTransaction | None = None
    refund: WechatRefund | None = None


@dataclass(frozen=True)
class WechatBillRow:
    """One line of a trade bill: a payment (``trade_state`` SUCCESS) or a refund (REFUND)."""

    trade_time: str
    appid: str
    mchid: str
    sub_mchid: str
    transaction_id: str
    out_trade_no: str
    trade_type: str
    trade_state: str
    settlement_total: int  # fen (应结订单金额)
    refund_id: str | None
    out_refund_no: str | None
    refund: int  # fen
    refund_status: str | None
    fee: int  # fen, rounded half up from WeChat's five decimals
    order_total: int  # fen (订单金额)
    description: str
    attach: str


class _Malformed(ValueError):
    pass


# --------------------------------------------------------------------------- the SDK in a worker thread


@functools.lru_cache(maxsize=8)
def _client(config: WechatPayConfig) -> WeChatPay:
    # In certificate mode the SDK downloads the platform certificates here: built in a worker thread, lazily.
    return WeChatPay(
        wechatpay_type=WeChatPayType.NATIVE,  # a default only: every call below names its own type
        mchid=config.mchid,
        private_key=config.private_key,
        cert_serial_no=config.cert_serial_no,
        appid=config.appid,
        apiv3_key=config.apiv3_key,
        partner_mode=True,
        proxy=config.proxy,
        timeout=config.timeout,
        public_key=config.public_key,
        public_key_id=config.public_key_id,
    )


async def _run(config: WechatPayConfig, what: str, call: Callable[[WeChatPay], _T]) -> _T:
    def work() -> _T:
        try:
            return call(_client(config))
        except WechatPayError:
            raise
        except Exception as exc:  # the SDK raises bare Exception (an answer's bad signature...) and requests' errors
            raise WechatPayError(f"WeChat Pay {what}: {type(exc).__name__}: {exc}") from exc

    return await anyio.to_thread.run_sync(work)


def _answer(what: str, result: tuple[int, Any]) -> dict[str, Any]:
    """The JSON object of a 2xx answer (the SDK checked its signature), else the error as WechatPayError."""
    status, body = result
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    try:
        payload = json.loads(text) if text else {}
    except ValueError:
        payload = None
    if 200 <= status < 300:
        if not isinstance(payload, dict):
            raise WechatPayError(f"WeChat Pay {what}: the answer is not a JSON object", http_status=status)
        return payload
    code = payload.get("code") if isinstance(payload, dict) else None
    message = payload.get("message") if isinstance(payload, dict) else text[:200]
    raise WechatPayError(f"WeChat Pay {what}: HTTP {status} {code or ''} {message or ''}".strip(),
                         code=str(code) if code else None, http_status=status)


# --------------------------------------------------------------------------- checks on our side


def _check_order(sub_mchid: str, out_trade_no: str, amount: int, description: str) -> None:
    _check_sub_mchid(sub_mchid)
    _check_out_trade_no(out_trade_no)
    _check_amount(amount)
    if not isinstance(description, str) or not 1 <= len(description) <= 127:
        raise ValueError("description must be 1-127 characters")


def _check_sub_mchid(sub_mchid: str) -> None:
    if not isinstance(sub_mchid, str) or not _SUB_MCHID.fullmatch(sub_mchid):
        raise ValueError(f"sub_mchid must be digits, got {sub_mchid!r}")


def _check_out_trade_no(out_trade_no: str) -> None:
    if not isinstance(out_trade_no, str) or not _OUT_TRADE_NO.fullmatch(out_trade_no):
        raise ValueError(f"out_trade_no must be 6-32 of 0-9 A-Z a-z _ - | *, got {out_trade_no!r}")


def _check_amount(amount: int) -> None:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 1:
        raise ValueError(f"amount must be a positive integer number of fen, got {amount!r}")


def _rfc3339(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        raise ValueError("time_expire must carry a time zone")
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise _Malformed(f"{what} missing")
    return value


def _fen(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Malformed(f"{what}={value!r} is not an amount in fen")
    return value


def _transaction(data: Mapping[str, Any], *, combined: bool = False) -> WechatTransaction:
    amount = data.get("amount")
    if not isinstance(amount, Mapping):
        raise _Malformed("amount missing")
    payer = amount.get("payer_amount" if combined else "payer_total")
    return WechatTransaction(
        sub_mchid=_string(data.get("sub_mchid"), "sub_mchid"),
        out_trade_no=_string(data.get("out_trade_no"), "out_trade_no"),
        transaction_id=data.get("transaction_id") or None,
        trade_state=_string(data.get("trade_state"), "trade_state"),
        trade_type=data.get("trade_type") or None,
        total=_fen(amount.get("total_amount" if combined else "total"), "amount.total"),
        payer_total=None if payer is None else _fen(payer, "amount.payer_total"),
        currency=str(amount.get("currency") or "CNY"),
        success_time=data.get("success_time") or None,
        attach=data.get("attach") or None,
    )


def _combined(data: Mapping[str, Any]) -> WechatCombinedTransaction:
    orders = data.get("sub_orders")
    if not isinstance(orders, list) or not all(isinstance(o, Mapping) for o in orders):
        raise _Malformed("sub_orders missing")
    return WechatCombinedTransaction(
        combine_out_trade_no=_string(data.get("combine_out_trade_no"), "combine_out_trade_no"),
        sub_orders=tuple(_transaction(o, combined=True) for o in orders),
    )


def _refund(data: Mapping[str, Any], sub_mchid: str | None) -> WechatRefund:
    amount = data.get("amount")
    if not isinstance(amount, Mapping):
        raise _Malformed("amount missing")
    payer_refund = amount.get("payer_refund")
    return WechatRefund(
        sub_mchid=data.get("sub_mchid") or sub_mchid,
        out_refund_no=_string(data.get("out_refund_no"), "out_refund_no"),
        refund_id=_string(data.get("refund_id"), "refund_id"),
        out_trade_no=_string(data.get("out_trade_no"), "out_trade_no"),
        transaction_id=_string(data.get("transaction_id"), "transaction_id"),
        status=_string(data.get("status") or data.get("refund_status"), "status"),
        refund=_fen(amount.get("refund"), "amount.refund"),
        total=_fen(amount.get("total"), "amount.total"),
        payer_refund=None if payer_refund is None else _fen(payer_refund, "amount.payer_refund"),
        success_time=data.get("success_time") or None,
    )


def _parsed(what: str, parse: Callable[[], _T]) -> _T:
    try:
        return parse()
    except _Malformed as exc:
        raise WechatPayError(f"WeChat Pay {what}: incomplete answer ({exc})") from exc


# --------------------------------------------------------------------------- paying


async def native_pay(
    config: WechatPayConfig,
    *,
    sub_mchid: str,
    out_trade_no: str,
    amount: int,
    description: str,
    notify_url: str,
    time_expire: datetime | None = None,
    attach: str | None = None,
) -> str:
    """A Native (QR code) payment of ``amount`` fen to ``sub_mchid``; returns the ``code_url`` to show as QR."""
    _check_order(sub_mchid, out_trade_no, amount, description)
    expire = _rfc3339(time_expire)
    result = await _run(config, "native prepay", lambda client: client.pay(
        description=description, out_trade_no=out_trade_no, amount={"total": amount, "currency": "CNY"},
        time_expire=expire, attach=attach, notify_url=notify_url, sub_mchid=sub_mchid,
        pay_type=WeChatPayType.NATIVE,
    ))
    code_url = _answer("native prepay", result).get("code_url")
    if not isinstance(code_url, str) or not code_url:
        raise WechatPayError("WeChat Pay native prepay: no code_url in the answer")
    return code_url


async def h5_pay(
    config: WechatPayConfig,
    *,
    sub_mchid: str,
    out_trade_no: str,
    amount: int,
    description: str,
    notify_url: str,
    payer_client_ip: str,
    time_expire: datetime | None = None,
    attach: str | None = None,
) -> str:
    """An H5 payment (a phone browser outside WeChat); returns the ``h5_url`` to send the buyer to."""
    _check_order(sub_mchid, out_trade_no, amount, description)
    expire = _rfc3339(time_expire)
    scene = {"payer_client_ip": payer_client_ip, "h5_info": {"type": "Wap"}}
    result = await _run(config, "H5 prepay", lambda client: client.pay(
        description=description, out_trade_no=out_trade_no, amount={"total": amount, "currency": "CNY"},
        time_expire=expire, attach=attach, scene_info=scene, notify_url=notify_url, sub_mchid=sub_mchid,
        pay_type=WeChatPayType.H5,
    ))
    h5_url = _answer("H5 prepay", result).get("h5_url")
    if not isinstance(h5_url, str) or not h5_url:
        raise WechatPayError("WeChat Pay H5 prepay: no h5_url in the answer")
    return h5_url


async def _jsapi(config: WechatPayConfig, *, app_id: str, prepay_id: str) -> JsapiPayment:
    time_stamp, nonce, package = str(int(time.time())), secrets.token_hex(16), f"prepay_id={prepay_id}"
    sign = await _run(config, "JSAPI signature",
                      lambda client: str(client.sign([app_id, time_stamp, nonce, package])))
    return JsapiPayment(prepay_id=prepay_id, app_id=app_id, time_stamp=time_stamp, nonce_str=nonce,
                        package=package, pay_sign=sign)


async def jsapi_pay(
    config: WechatPayConfig,
    *,
    sub_mchid: str,
    out_trade_no: str,
    amount: int,
    description: str,
    notify_url: str,
    openid: str,
    sub_appid: str | None = None,
    time_expire: datetime | None = None,
    attach: str | None = None,
) -> JsapiPayment:
    """A JSAPI payment inside WeChat: the prepay and the JS bridge's signed parameters.

    ``openid`` is the buyer's id under the service provider's app, or under ``sub_appid`` (the merchant's own
    official account) when that is given.
    """
    _check_order(sub_mchid, out_trade_no, amount, description)
    if not openid:
        raise ValueError("openid is needed for a JSAPI payment")
    expire = _rfc3339(time_expire)
    payer = {"sub_openid": openid} if sub_appid else {"sp_openid": openid}
    result = await _run(config, "JSAPI prepay", lambda client: client.pay(
        description=description, out_trade_no=out_trade_no, amount={"total": amount, "currency": "CNY"},
        payer=payer, time_expire=expire, attach=attach, notify_url=notify_url, sub_mchid=sub_mchid,
        sub_appid=sub_appid, pay_type=WeChatPayType.JSAPI,
    ))
    prepay_id = _answer("JSAPI prepay", result).get("prepay_id")
    if not isinstance(prepay_id, str) or not prepay_id:
        raise WechatPayError("WeChat Pay JSAPI prepay: no prepay_id in the answer")
    return await _jsapi(config, app_id=sub_appid or config.appid, prepay_id=prepay_id)


async def combine_pay(
    config: WechatPayConfig,
    *,
    combine_out_trade_no: str,
    orders: Sequence[SubOrder],
    channel: Literal["native", "h5", "jsapi"],
    notify_url: str,
    payer_client_ip: str | None = None,
    openid: str | None = None,
    time_expire: datetime | None = None,
) -> CombinedPayment:
    """One payment for several merchants' orders (合单支付, at most 50): the buyer pays once, each sub-order's
    money goes to its own ``sub_mchid``. H5 needs ``payer_client_ip``; JSAPI needs ``openid``."""
    _check_out_trade_no(combine_out_trade_no)
    if not 1 <= len(orders) <= 50:
        raise ValueError("a combined payment has 1 to 50 sub-orders")
    for order in orders:
        _check_order(order.sub_mchid, order.out_trade_no, order.amount, order.description)
        if not 1 <= len(order.attach) <= 128:
            raise ValueError("every sub-order needs attach (1-128 characters)")
    if channel == "h5" and not payer_client_ip:
        raise ValueError("an H5 combined payment needs payer_client_ip")
    if channel == "jsapi" and not openid:
        raise ValueError("a JSAPI combined payment needs openid")
    expire = _rfc3339(time_expire)
    sub_orders = [
        {"mchid": config.mchid, "sub_mchid": o.sub_mchid, "attach": o.attach, "out_trade_no": o.out_trade_no,
         "description": o.description, "amount": {"total_amount": o.amount, "currency": "CNY"}}
        for o in orders
    ]
    scene: dict[str, Any] | None = None
    if payer_client_ip:
        scene = {"payer_client_ip": payer_client_ip, **({"h5_info": {"type": "Wap"}} if channel == "h5" else {})}
    pay_type = {"native": WeChatPayType.NATIVE, "h5": WeChatPayType.H5, "jsapi": WeChatPayType.JSAPI}[channel]
    result = await _run(config, "combined prepay", lambda client: client.combine_pay(
        combine_out_trade_no=combine_out_trade_no, sub_orders=sub_orders, scene_info=scene,
        combine_payer_info={"openid": openid} if openid else None, time_expire=expire, notify_url=notify_url,
        pay_type=pay_type,
    ))
    answer = _answer("combined prepay", result)
    if channel == "jsapi":
        prepay_id = answer.get("prepay_id")
        if not isinstance(prepay_id, str) or not prepay_id:
            raise WechatPayError("WeChat Pay combined prepay: no prepay_id in the answer")
        return CombinedPayment(combine_out_trade_no,
                               jsapi=await _jsapi(config, app_id=config.appid, prepay_id=prepay_id))
    key = "code_url" if channel == "native" else "h5_url"
    url = answer.get(key)
    if not isinstance(url, str) or not url:
        raise WechatPayError(f"WeChat Pay combined prepay: no {key} in the answer")
    if channel == "native":
        return CombinedPayment(combine_out_trade_no, code_url=url)
    return CombinedPayment(combine_out_trade_no, h5_url=url)


# --------------------------------------------------------------------------- query, close


async def query(config: WechatPayConfig, *, sub_mchid: str, out_trade_no: str) -> WechatTransaction | None:
    """The payment's state; None when WeChat Pay has no such order."""
    _check_sub_mchid(sub_mchid)
    _check_out_trade_no(out_trade_no)
    result = await _run(config, "query", lambda client: client.query(out_trade_no=out_trade_no,
                                                                     sub_mchid=sub_mchid))
    try:
        answer = _answer("query", result)
    except WechatPayError as exc:
        if exc.code == "ORDER_NOT_EXIST":
            return None
        raise
    return _parsed("query", lambda: _transaction(answer))


async def combine_query(config: WechatPayConfig, *, combine_out_trade_no: str) -> WechatCombinedTransaction | None:
    """Every sub-order's state of a combined payment; None when WeChat Pay has no such payment."""
    _check_out_trade_no(combine_out_trade_no)
    result = await _run(config, "combined query",
                        lambda client: client.combine_query(combine_out_trade_no=combine_out_trade_no))
    try:
        answer = _answer("combined query", result)
    except WechatPayError as exc:
        if exc.code == "ORDER_NOT_EXIST":
            return None
        raise
    return _parsed("combined query", lambda: _combined(answer))


async def close(config: WechatPayConfig, *, sub_mchid: str, out_trade_no: str) -> bool:
    """Close an unpaid payment; False when WeChat Pay never had it. Raises :class:`WechatPayError` with code
    ``ORDERPAID`` when it was paid meanwhile (then it is refunded, not closed)."""
    _check_sub_mchid(sub_mchid)
    _check_out_trade_no(out_trade_no)
    result = await _run(config, "close", lambda client: client.close(out_trade_no=out_trade_no,
                                                                     sub_mchid=sub_mchid))
    try:
        _answer("close", result)
    except WechatPayError as exc:
        if exc.code == "ORDER_NOT_EXIST":
            return False
        raise
    return True


async def combine_close(config: WechatPayConfig, *, combine_out_trade_no: str,
                        orders: Sequence[tuple[str, str]]) -> None:
    """Close an unpaid combined payment; ``orders`` are its ``(sub_mchid, out_trade_no)``, as placed."""
    _check_out_trade_no(combine_out_trade_no)
    sub_orders = [{"mchid": config.mchid, "sub_mchid": sub, "out_trade_no": no} for sub, no in orders]
    result = await _run(config, "combined close", lambda client: client.combine_close(
        combine_out_trade_no=combine_out_trade_no, sub_orders=sub_orders))
    _answer("combined close", result)


# --------------------------------------------------------------------------- refunds


async def refund(
    config: WechatPayConfig,
    *,
    sub_mchid: str,
    out_trade_no: str,
    out_refund_no: str,
    amount: int,
    total: int,
    notify_url: str | None = None,
    reason: str | None = None,
) -> WechatRefund:
    """Refund ``amount`` fen of the payment of ``total`` fen. ``out_refund_no`` names this refund: sent again it
    returns the same refund and moves nothing more. Usually PROCESSING; the refund notification (or
    :func:`query_refund`) tells when it succeeded."""
    _check_sub_mchid(sub_mchid)
    _check_out_trade_no(out_trade_no)
    _check_amount(amount)
    _check_amount(total)
    if not isinstance(out_refund_no, str) or not _OUT_REFUND_NO.fullmatch(out_refund_no):
        raise ValueError(f"out_refund_no must be 1-64 of 0-9 A-Z a-z _ - | * @, got {out_refund_no!r}")
    if amount > total:
        raise ValueError("a refund cannot exceed the payment")
    result = await _run(config, "refund", lambda client: client.refund(
        out_refund_no=out_refund_no, amount={"refund": amount, "total": total, "currency": "CNY"},
        out_trade_no=out_trade_no, reason=reason[:80] if reason else None, notify_url=notify_url,
        sub_mchid=sub_mchid,
    ))
    answer = _answer("refund", result)
    made = _parsed("refund", lambda: _refund(answer, sub_mchid))
    if (made.out_refund_no, made.out_trade_no, made.refund) != (out_refund_no, out_trade_no, amount):
        raise WechatPayError(f"WeChat Pay refund: {out_refund_no} names a refund of {made.refund} fen on "
                             f"{made.out_trade_no}, not {amount} fen on {out_trade_no}")
    return made


async def query_refund(config: WechatPayConfig, *, sub_mchid: str, out_refund_no: str) -> WechatRefund | None:
    """A refund's state; None when WeChat Pay has no refund of that number."""
    _check_sub_mchid(sub_mchid)
    if not _OUT_REFUND_NO.fullmatch(out_refund_no):
        raise ValueError(f"out_refund_no must be 1-64 of 0-9 A-Z a-z _ - | * @, got {out_refund_no!r}")
    result = await _run(config, "refund query", lambda client: client.query_refund(
        out_refund_no=out_refund_no, sub_mchid=sub_mchid))
    try:
        answer = _answer("refund query", result)
    except WechatPayError as exc:
        if exc.code == "RESOURCE_NOT_EXISTS":
            return None
        raise
    return _parsed("refund query", lambda: _refund(answer, sub_mchid))


# --------------------------------------------------------------------------- notifications


async def verify_notification(
    config: WechatPayConfig, *, headers: Mapping[str, str], body: bytes, now: float | None = None
) -> WechatNotification:
    """Check a notification (payment, combined payment or refund) and decrypt its resource.

    Refused with :class:`InvalidNotification`: a missing ``Wechatpay-*`` header; a ``Wechatpay-Timestamp`` more
    than 5 minutes from ``now`` (the real time: a replay window, not business time); in public-key mode a
    ``Wechatpay-Serial`` other than ``WECHATPAY_PUBLIC_KEY_ID`` (so that a forged serial never makes the SDK
    fetch certificates); a signature the SDK does not verify; a resource that does not decrypt with the API v3
    key (AEAD_AES_256_GCM); a resource for another service provider.
    """
    lowered = {name.lower(): value for name, value in headers.items()}
    canonical = {name: lowered.get(name.lower(), "") for name in _HEADERS}
    missing = [name for name, value in canonical.items() if not value]
    if missing:
        raise InvalidNotification(f"WeChat Pay notification without {', '.join(missing)}")
    stamp = canonical["Wechatpay-Timestamp"]
    moment = time.time() if now is None else now
    if not stamp.isdigit() or abs(moment - int(stamp)) > NOTIFICATION_TOLERANCE:
        raise InvalidNotification(f"WeChat Pay notification timestamp {stamp!r} is not within 5 minutes of now")
    if config.public_key_id is not None and canonical["Wechatpay-Serial"] != config.public_key_id:
        raise InvalidNotification(f"WeChat Pay notification signed with {canonical['Wechatpay-Serial']!r}, "
                                  "not our platform public key")

    def decrypt() -> Any:
        try:
            return _client(config).callback(canonical, body)
        except Exception as exc:  # the SDK raises bare Exception for an algorithm it does not know; JSON errors
            raise InvalidNotification(f"WeChat Pay notification: {type(exc).__name__}: {exc}") from exc

    result = await anyio.to_thread.run_sync(decrypt)
    if not isinstance(result, dict) or not isinstance(result.get("resource"), dict):
        raise InvalidNotification("WeChat Pay notification: the signature does not verify or the resource does "
                                  "not decrypt with the API v3 key")
    resource: dict[str, Any] = result["resource"]
    owner = resource.get("sp_mchid") or resource.get("combine_mchid")
    if owner != config.mchid:
        raise InvalidNotification(f"WeChat Pay notification for mchid {owner!r}, not ours")
    event_type = str(result.get("event_type") or "")
    try:
        transaction = combined = refund_ = None
        if event_type.startswith("REFUND."):
            refund_ = _refund(resource, None)
        elif "combine_out_trade_no" in resource:
            combined = _combined(resource)
        elif event_type.startswith("TRANSACTION."):
            transaction = _transaction(resource)
        return WechatNotification(
            id=_string(result.get("id"), "id"),
            event_type=event_type,
            create_time=result.get("create_time") or None,
            summary=result.get("summary") or None,
            resource=resource,
            transaction=transaction,
            combined=combined,
            refund=refund_,
        )
    except _Malformed as exc:
        raise InvalidNotification(f"WeChat Pay notification: incomplete resource ({exc})") from exc


# --------------------------------------------------------------------------- the trade bill


async def trade_bill(
    config: WechatPayConfig,
    *,
    bill_date: date,
    sub_mchid: str | None = None,
    bill_type: Literal["ALL", "SUCCESS", "REFUND"] = "ALL",
) -> bytes | None:
    """The day's trade bill (CSV bytes), downloaded, unzipped and checked against WeChat Pay's SHA1; None when
    WeChat Pay has no bill for that day (nothing was paid or refunded). All merchants unless ``sub_mchid``."""
    if sub_mchid is not None:
        _check_sub_mchid(sub_mchid)

    def fetch(client: WeChatPay) -> bytes | None:
        try:
            info = _answer("trade bill", client.trade_bill(bill_date=bill_date.isoformat(), bill_type=bill_type,
                                                           tar_type="GZIP", sub_mchid=sub_mchid))
        except WechatPayError as exc:
            if exc.code == "NO_STATEMENT_EXIST":
                return None
            raise
        url, hash_type, hash_value = info.get("download_url"), info.get("hash_type"), info.get("hash_value")
        if not isinstance(url, str) or hash_type != "SHA1" or not isinstance(hash_value, str):
            raise WechatPayError(f"WeChat Pay trade bill: unusable answer {info}")
        status, content = client.download_bill(url=url)
        if status != 200 or not isinstance(content, bytes):
            _answer("bill download", (status, content))
            raise WechatPayError(f"WeChat Pay bill download: HTTP {status}")
        try:
            data = gzip.decompress(content)
        except (OSError, EOFError) as exc:
            raise WechatPayError(f"WeChat Pay bill download: not gzip ({exc})") from exc
        if hashlib.sha1(data).hexdigest() != hash_value.lower():
            raise WechatPayError("WeChat Pay bill download: the file does not match its SHA1")
        return data

    return await _run(config, "trade bill", fetch)


_BILL_COLUMNS = ["交易时间", "微信订单号", "商户订单号", "交易状态", "应结订单金额", "退款金额"]
_FEE_RE = re.compile(r"-?[0-9]+(?:\.[0-9]{1,5})?")


def parse_trade_bill(data: bytes) -> list[WechatBillRow]:
    """The lines of a trade bill: UTF-8 CSV, every value behind a backquote, totals after the lines.

    Columns are found by name, as WeChat Pay asks (their order may change). Raises :class:`BillFormatError`.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BillFormatError(f"the bill is not UTF-8: {exc}") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise BillFormatError("the bill is empty")
    header = [name.strip().lstrip("`") for name in rows[0]]
    index = {name: i for i, name in enumerate(header)}
    missing = [name for name in _BILL_COLUMNS if name not in index]
    if missing:
        raise BillFormatError(f"the bill lacks columns {missing}")
    lines = []
    for number, record in enumerate(rows[1:], start=2):
        if not record or not "".join(record).strip():
            continue
        if record[0].strip().lstrip("`") == "总交易单数":
            break
        values = [value.strip().removeprefix("`") for value in record]

        def cell(name: str, values: list[str] = values) -> str:
            i = index.get(name)
            return values[i] if i is not None and i < len(values) else ""

        def money(name: str, number: int = number) -> int:
            text = cell(name)
            try:
                return yuan_to_fen(text, allow_negative=True) if text else 0
            except ValueError as exc:
                raise BillFormatError(f"bill line {number}: {name}={text!r}") from exc

        fee_text = cell("手续费")
        if fee_text and not _FEE_RE.fullmatch(fee_text):
            raise BillFormatError(f"bill line {number}: 手续费={fee_text!r}")
        fee = int((Decimal(fee_text or "0") * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        lines.append(WechatBillRow(
            trade_time=cell("交易时间"),
            appid=cell("公众账号ID"),
            mchid=cell("商户号"),
            sub_mchid=cell("特约商户号"),
            transaction_id=cell("微信订单号"),
            out_trade_no=cell("商户订单号"),
            trade_type=cell("交易类型"),
            trade_state=cell("交易状态"),
            settlement_total=money("应结订单金额"),
            refund_id=cell("微信退款单号") if cell("微信退款单号") not in ("", "0") else None,
            out_refund_no=cell("商户退款单号") if cell("商户退款单号") not in ("", "0") else None,
            refund=money("退款金额"),
            refund_status=cell("退款状态") or None,
            fee=fee,
            order_total=money("订单金额"),
            description=cell("商品名称"),
            attach=cell("商户数据包"),
        ))
    return lines
