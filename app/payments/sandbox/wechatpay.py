"""A local WeChat Pay API v3 (service-provider mode) that speaks WeChat Pay's wire format.

Requests are checked as WeChat Pay checks them: the ``Authorization: WECHATPAY2-SHA256-RSA2048`` signature over
method, request target, timestamp (within 5 minutes), nonce and body with the merchant certificate's public key,
its serial, the sp_mchid/sp_appid and the sub-merchant relation. Every answer carries ``Wechatpay-Timestamp``,
``-Nonce``, ``-Signature``, ``-Serial`` signed with the sandbox's platform key; notifications are signed the same
way and their resource is encrypted with AEAD_AES_256_GCM under the API v3 key.

The ``wechatpayv3`` SDK only addresses https://api.mch.weixin.qq.com and only lets its requests go through a
forward proxy, so the sandbox is that proxy: it answers ``CONNECT api.mch.weixin.qq.com:443`` and serves the API
itself over TLS with its own certificate authority (``ca_bundle_path``, to trust through ``REQUESTS_CA_BUNDLE``).
Direct requests to ``url`` are served too, and the sandbox's pay pages only that way.

Supported (partner paths): Native, H5 and JSAPI prepay, query by out_trade_no or transaction id, close, combined
payment (合单: prepay, query, close), refunds (idempotent per out_refund_no; PROCESSING until settled) and their
query, the trade bill and its download, the platform certificates.

Sandbox liberties: a bill is available at once, also for today; payments need no buyer.
"""

from __future__ import annotations

import base64
import binascii
import csv
import gzip
import hashlib
import html
import io
import json
import re
import secrets
import string
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from app.core.clock import SHANGHAI
from app.core.money import fen_to_yuan
from app.payments.sandbox.keys import public_pem, rsa_key, self_signed_certificate
from app.payments.sandbox.server import Delivery, Request, Response, SandboxServer, post_to_loopback, sandbox_page

__all__ = ["API_HOST", "SandboxCombine", "SandboxRefund", "SandboxTransaction", "WechatBillEntry", "WechatNotice",
           "WechatPaySandbox"]

API_HOST = "api.mch.weixin.qq.com"
_OUT_TRADE_NO = re.compile(r"[0-9A-Za-z_\-|*]{6,32}")
_OUT_REFUND_NO = re.compile(r"[0-9A-Za-z_\-|*@]{1,64}")
_AUTH_FIELD = re.compile(r'(\w+)="([^"]*)"')
_TRADE_TYPES = {"native": "NATIVE", "h5": "MWEB", "jsapi": "JSAPI"}
_FEE_RATE = "0.60%"
_BILL_HEADER = [
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号", "用户标识", "交易类型",
    "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号", "商户退款单号", "退款金额",
    "充值券退款金额", "退款类型", "退款状态", "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额",
    "费率备注",
]


def _now() -> datetime:
    return datetime.now(SHANGHAI).replace(microsecond=0)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(SHANGHAI).isoformat(timespec="seconds")


def _digits(n: int) -> str:
    return "".join(secrets.choice(string.digits) for _ in range(n))


def _nonce(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def _fee_text(amount: int) -> str:
    """WeChat's fee column: yuan with five decimals (0.6 % of ``amount`` fen)."""
    thousandths_of_fen = amount * 6  # 0.6 % in 1/1000 fen
    return f"{thousandths_of_fen // 100_000}.{thousandths_of_fen % 100_000:05d}"


@dataclass
class SandboxTransaction:
    sub_mchid: str
    out_trade_no: str
    description: str
    total: int  # fen
    trade_type: str  # NATIVE | MWEB | JSAPI
    notify_url: str
    prepay_id: str
    code: str  # what code_url and the pay page carry
    created_at: datetime
    sub_appid: str | None = None
    openid: str | None = None
    sub_openid: str | None = None
    attach: str | None = None
    combine_out_trade_no: str | None = None
    trade_state: str = "NOTPAY"
    transaction_id: str | None = None
    success_time: datetime | None = None

    @property
    def paid(self) -> bool:
        return self.trade_state in ("SUCCESS", "REFUND")


@dataclass
class SandboxCombine:
    combine_out_trade_no: str
    orders: list[tuple[str, str]]  # (sub_mchid, out_trade_no)
    notify_url: str
    trade_type: str
    openid: str | None
    code: str


@dataclass
class SandboxRefund:
    sub_mchid: str
    out_refund_no: str
    refund_id: str
    out_trade_no: str
    transaction_id: str
    refund: int
    total: int
    notify_url: str | None
    reason: str | None
    created_at: datetime
    status: str = "PROCESSING"
    success_time: datetime | None = None


@dataclass
class WechatBillEntry:
    """One line of the trade bill; tests may edit ``WechatPaySandbox.bill`` to stage a mismatch."""

    day: date
    time: str
    appid: str
    mchid: str
    sub_mchid: str
    transaction_id: str
    out_trade_no: str
    openid: str
    trade_type: str
    trade_state: str  # SUCCESS | REFUND
    total: int  # fen (the order's, also on refund lines)
    refund_id: str = ""
    out_refund_no: str = ""
    refund: int = 0
    refund_status: str = ""
    description: str = ""
    attach: str = ""
    fee: str = "0.00000"


@dataclass(frozen=True)
class WechatNotice:
    """A signed, encrypted notification, ready to POST (``body`` with ``headers``) to ``url``."""

    url: str
    headers: dict[str, str]
    body: bytes

    def resource(self, apiv3_key: str) -> dict[str, Any]:
        """The decrypted resource (for tests that look inside)."""
        envelope = json.loads(self.body)["resource"]
        plain = AESGCM(apiv3_key.encode()).decrypt(
            envelope["nonce"].encode(), base64.b64decode(envelope["ciphertext"]),
            envelope["associated_data"].encode(),
        )
        parsed: dict[str, Any] = json.loads(plain)
        return parsed


@dataclass(frozen=True)
class RecordedCall:
    method: str
    target: str
    body: dict[str, Any] | None


class _Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.status, self.code, self.message = status, code, message


def _param(message: str) -> _Refusal:
    return _Refusal(400, "PARAM_ERROR", message)


def _text(payload: dict[str, Any], name: str, *, limit: int = 127) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        raise _param(f"{name} 格式错误")
    return value


def _amount(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _param(f"{name} 应为正整数（分）")
    return value


class WechatPaySandbox(SandboxServer):
    """WeChat Pay for one service provider. Point the SDK at it with ``proxy={"https": sandbox.url}`` (the
    gateway does so when ``WECHATPAY_API_BASE`` is ``url``) and trust ``ca_bundle_path``."""

    thread_name = "wechatpay-sandbox"

    def __init__(
        self,
        *,
        mchid: str,
        appid: str,
        apiv3_key: str,
        merchant_public_key: str,
        merchant_serial_no: str,
        platform_private_key: rsa.RSAPrivateKey | None = None,
        sub_mchids: Iterable[str] = (),
        deliver_notifications: bool = False,
        settle_refunds_at_once: bool = False,
        platform_mode: Literal["public_key", "certificate"] = "public_key",
        reused_refund_number: Literal["refuse", "return_original"] = "refuse",
        open_enrolment: bool = False,
    ) -> None:
        """``merchant_public_key``/``merchant_serial_no``: the merchant API certificate's key and serial (what
        checks the requests). ``sub_mchids``: the merchants bound to this service provider (``bind`` adds more).
        ``deliver_notifications`` and ``settle_refunds_at_once`` make the sandbox act on its own (its ``make
        run`` mode); otherwise tests take notifications from :meth:`pay` and :meth:`settle_refund`.
        ``platform_mode``: notifications name the platform public key's id (accounts opened since 2024) or the
        platform certificate's serial (older accounts). ``reused_refund_number``: an out_refund_no sent again
        with other amounts is refused (what WeChat Pay answers today) or answered with the original refund
        (what "one refund per number" also allows). ``open_enrolment``: any sub_mchid is taken as bound (the
        sandbox's mode: merchants set theirs in the console)."""
        super().__init__(tls_hosts=(API_HOST,))
        if len(apiv3_key.encode()) != 32:
            raise ValueError("the API v3 key is 32 bytes")
        key = serialization.load_pem_public_key(merchant_public_key.encode())
        if not isinstance(key, rsa.RSAPublicKey):
            raise ValueError("the merchant key must be an RSA key")
        self.mchid, self.appid, self.apiv3_key = mchid, appid, apiv3_key
        self._merchant_key = key
        self.merchant_serial_no = merchant_serial_no
        self._platform_key = platform_private_key or rsa_key()
        self.platform_public_key_pem = public_pem(self._platform_key)
        self.public_key_id = "PUB_KEY_ID_0" + _digits(29)
        serial = x509.random_serial_number()
        self.platform_serial_no = f"{serial:040X}"
        self.platform_certificate_pem = self_signed_certificate(
            self._platform_key, serial=serial, common_name="Tenpay.com sandbox platform"
        )
        self.sub_mchids = set(sub_mchids)
        self.open_enrolment = open_enrolment
        self.platform_mode = platform_mode
        self.reused_refund_number = reused_refund_number
        self.deliver_notifications = deliver_notifications
        self.settle_refunds_at_once = settle_refunds_at_once
        self.transactions: dict[tuple[str, str], SandboxTransaction] = {}
        self.combines: dict[str, SandboxCombine] = {}
        self.refunds: dict[tuple[str, str], SandboxRefund] = {}
        self.bill: list[WechatBillEntry] = []
        self.calls: list[RecordedCall] = []
        self.deliveries: list[tuple[WechatNotice, Delivery | str]] = []
        self._bill_files: dict[str, tuple[bytes, bool]] = {}

    def bind(self, sub_mchid: str) -> None:
        """Make ``sub_mchid`` one of this service provider's merchants."""
        with self.lock:
            self.sub_mchids.add(sub_mchid)

    def reset(self) -> None:
        """Forget every payment, refund, bill line, call and delivery (bound merchants stay)."""
        with self.lock:
            for store in (self.transactions, self.combines, self.refunds, self._bill_files):
                store.clear()
            self.bill.clear()
            self.calls.clear()
            self.deliveries.clear()

    # ------------------------------------------------------------------ test helpers

    def transaction(self, out_trade_no: str, *, sub_mchid: str | None = None) -> SandboxTransaction:
        with self.lock:
            found = [t for (s, no), t in self.transactions.items() if no == out_trade_no and sub_mchid in (None, s)]
            if len(found) != 1:
                raise KeyError(f"{len(found)} sandbox transactions named {out_trade_no!r}")
            return found[0]

    def refund(self, out_refund_no: str, *, sub_mchid: str | None = None) -> SandboxRefund:
        with self.lock:
            found = [r for (s, no), r in self.refunds.items() if no == out_refund_no and sub_mchid in (None, s)]
            if len(found) != 1:
                raise KeyError(f"{len(found)} sandbox refunds named {out_refund_no!r}")
            return found[0]

    def pay(self, out_trade_no: str, *, sub_mchid: str | None = None, deliver: bool | None = None,
            openid: str | None = None) -> WechatNotice:
        """The buyer pays: the transaction becomes SUCCESS and its notification is returned (and POSTed to
        its notify URL when ``deliver``, by default the sandbox's ``deliver_notifications``)."""
        with self.lock:
            transaction = self.transaction(out_trade_no, sub_mchid=sub_mchid)
            if transaction.combine_out_trade_no is not None:
                raise ValueError(f"{out_trade_no} is part of combined payment {transaction.combine_out_trade_no}")
            self._settle_payment(transaction, openid)
            notice = self.transaction_notification(out_trade_no, sub_mchid=transaction.sub_mchid)
        self._maybe_deliver(notice, deliver)
        return notice

    def pay_combined(self, combine_out_trade_no: str, *, deliver: bool | None = None,
                     openid: str | None = None) -> WechatNotice:
        """The buyer pays every sub-order of a combined payment at once; one notification covers them."""
        with self.lock:
            combine = self.combines[combine_out_trade_no]
            for key in combine.orders:
                self._settle_payment(self.transactions[key], openid or combine.openid)
            notice = self.combine_notification(combine_out_trade_no)
        self._maybe_deliver(notice, deliver)
        return notice

    def _settle_payment(self, transaction: SandboxTransaction, openid: str | None) -> None:
        if transaction.trade_state != "NOTPAY":
            raise ValueError(f"{transaction.out_trade_no} is {transaction.trade_state}, not waiting for payment")
        now = _now()
        transaction.trade_state, transaction.success_time = "SUCCESS", now
        transaction.transaction_id = "4200" + now.strftime("%Y%m%d") + _digits(16)
        transaction.openid = transaction.openid or openid or "o" + _nonce(27)
        self.bill.append(WechatBillEntry(
            day=now.date(), time=now.strftime("%Y-%m-%d %H:%M:%S"), appid=self.appid, mchid=self.mchid,
            sub_mchid=transaction.sub_mchid, transaction_id=transaction.transaction_id,
            out_trade_no=transaction.out_trade_no, openid=transaction.openid,
            trade_type=transaction.trade_type, trade_state="SUCCESS", total=transaction.total,
            description=transaction.description, attach=transaction.attach or "", fee=_fee_text(transaction.total),
        ))

    def settle_refund(self, out_refund_no: str, *, sub_mchid: str | None = None, status: str = "SUCCESS",
                      deliver: bool | None = None) -> WechatNotice | None:
        """A PROCESSING refund ends (SUCCESS, ABNORMAL or CLOSED); returns its notification (None without a
        notify URL)."""
        with self.lock:
            refund = self.refund(out_refund_no, sub_mchid=sub_mchid)
            if refund.status != "PROCESSING":
                raise ValueError(f"refund {out_refund_no} is {refund.status} already")
            refund.status = status
            if status == "SUCCESS":
                refund.success_time = _now()
            notice = (self.refund_notification(out_refund_no, sub_mchid=refund.sub_mchid)
                      if refund.notify_url else None)
        if notice is not None:
            self._maybe_deliver(notice, deliver)
        return notice

    def transaction_notification(self, out_trade_no: str, *, sub_mchid: str | None = None,
                                 **options: Any) -> WechatNotice:
        """The notification for the transaction's current state. ``options``: ``timestamp`` (seconds),
        ``signing_key`` and ``serial`` (signed as someone else), ``apiv3_key`` (encrypted under another key),
        ``resource_overrides`` (fields changed inside the resource before encryption)."""
        with self.lock:
            transaction = self.transaction(out_trade_no, sub_mchid=sub_mchid)
            if not transaction.paid:
                raise ValueError(f"{out_trade_no} is {transaction.trade_state}: WeChat Pay notifies payments only")
            # what was paid, as WeChat Pay sent it then (a later refund does not change a resent notification)
            resource = {**self._transaction_view(transaction), "trade_state": "SUCCESS", "trade_state_desc": "支付成功"}
            return self.notice(url=transaction.notify_url, event_type="TRANSACTION.SUCCESS", summary="支付成功",
                               original_type="transaction", resource=resource, **options)

    def combine_notification(self, combine_out_trade_no: str, **options: Any) -> WechatNotice:
        with self.lock:
            combine = self.combines[combine_out_trade_no]
            return self.notice(url=combine.notify_url, event_type="TRANSACTION.SUCCESS", summary="支付成功",
                               original_type="transaction", resource=self._combine_view(combine), **options)

    def refund_notification(self, out_refund_no: str, *, sub_mchid: str | None = None,
                            **options: Any) -> WechatNotice:
        with self.lock:
            refund = self.refund(out_refund_no, sub_mchid=sub_mchid)
            if refund.notify_url is None:
                raise ValueError(f"refund {out_refund_no} has no notify_url")
            resource: dict[str, Any] = {
                "sp_mchid": self.mchid,
                "sub_mchid": refund.sub_mchid,
                "out_trade_no": refund.out_trade_no,
                "transaction_id": refund.transaction_id,
                "out_refund_no": refund.out_refund_no,
                "refund_id": refund.refund_id,
                "refund_status": refund.status,
                "user_received_account": "支付用户零钱",
                "amount": {"total": refund.total, "refund": refund.refund, "payer_total": refund.total,
                           "payer_refund": refund.refund},
            }
            if refund.success_time is not None:
                resource["success_time"] = _rfc3339(refund.success_time)
            summary = {"SUCCESS": "退款成功", "ABNORMAL": "退款异常", "CLOSED": "退款关闭"}.get(refund.status, "退款")
            return self.notice(url=refund.notify_url, event_type=f"REFUND.{refund.status}", summary=summary,
                               original_type="refund", resource=resource, **options)

    def notice(
        self,
        *,
        url: str,
        event_type: str,
        summary: str,
        original_type: str,
        resource: dict[str, Any],
        timestamp: int | None = None,
        signing_key: rsa.RSAPrivateKey | None = None,
        serial: str | None = None,
        apiv3_key: str | None = None,
        resource_overrides: dict[str, Any] | None = None,
    ) -> WechatNotice:
        """Any notification, encrypted and signed as WeChat Pay does it."""
        plain = json.dumps({**resource, **(resource_overrides or {})}, ensure_ascii=False, separators=(",", ":"))
        nonce = _nonce(12)
        ciphertext = AESGCM((apiv3_key or self.apiv3_key).encode()).encrypt(
            nonce.encode(), plain.encode(), original_type.encode()
        )
        body = json.dumps({
            "id": str(uuid.uuid4()),
            "create_time": _rfc3339(_now()),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": summary,
            "resource": {
                "original_type": original_type,
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": base64.b64encode(ciphertext).decode(),
                "associated_data": original_type,
                "nonce": nonce,
            },
        }, ensure_ascii=False, separators=(",", ":")).encode()
        default_serial = self.public_key_id if self.platform_mode == "public_key" else self.platform_serial_no
        headers = {"Content-Type": "application/json",
                   **self._signature_headers(body, serial or default_serial, timestamp, signing_key)}
        return WechatNotice(url, headers, body)

    def deliver(self, notice: WechatNotice) -> Delivery:
        """POST a notification to its notify URL (loopback only) and record the answer."""
        delivery = post_to_loopback(notice.url, content=notice.body, headers=notice.headers)
        with self.lock:
            self.deliveries.append((notice, delivery))
        return delivery

    def _maybe_deliver(self, notice: WechatNotice, deliver: bool | None) -> None:
        if self.deliver_notifications if deliver is None else deliver:
            try:
                self.deliver(notice)
            except Exception as exc:  # the receiver is down: WeChat Pay would retry later, the sandbox records it
                with self.lock:
                    self.deliveries.append((notice, f"{type(exc).__name__}: {exc}"))

    def verify_jsapi(self, bridge: dict[str, str]) -> bool:
        """What the WeChat client checks before it shows the payment: ``paySign`` by the merchant's key over
        appId, timeStamp, nonceStr and package, and a package naming a prepay of this sandbox."""
        message = "".join(f"{bridge.get(k, '')}\n" for k in ("appId", "timeStamp", "nonceStr", "package"))
        try:
            self._merchant_key.verify(base64.b64decode(bridge.get("paySign", ""), validate=True), message.encode(),
                                      padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        prepay_id = bridge.get("package", "").removeprefix("prepay_id=")
        with self.lock:
            return bridge.get("signType") == "RSA" and any(
                t.prepay_id == prepay_id for t in self.transactions.values()
            )

    def pay_page_url(self, code_url: str) -> str:
        """The sandbox page a buyer opens instead of scanning ``code_url`` with WeChat."""
        return f"{self.url}/sandbox/wechatpay/pay?{urlencode({'code': code_url.rsplit('=', 1)[-1]})}"

    def calls_to(self, method: str, prefix: str) -> list[RecordedCall]:
        with self.lock:
            return [c for c in self.calls if c.method == method and c.target.startswith(prefix)]

    # ------------------------------------------------------------------ signatures

    def _signature_headers(self, body: bytes, serial: str, timestamp: int | None = None,
                           key: rsa.RSAPrivateKey | None = None) -> dict[str, str]:
        stamp, nonce = str(int(time.time()) if timestamp is None else timestamp), _nonce(32)
        message = f"{stamp}\n{nonce}\n{body.decode()}\n".encode()
        signature = (key or self._platform_key).sign(message, padding.PKCS1v15(), hashes.SHA256())
        return {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": base64.b64encode(signature).decode(),
            "Wechatpay-Serial": serial,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
        }

    def _answer(self, request: Request, status: int, payload: dict[str, Any] | None) -> Response:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        # the SDK in public-key mode names the key it expects; in certificate mode it looks up the serial
        serial = (self.public_key_id if request.headers.get("wechatpay-serial") == self.public_key_id
                  else self.platform_serial_no)
        headers = {"Request-ID": "08" + _digits(30), **self._signature_headers(body, serial)}
        if payload is not None:
            headers["Content-Type"] = "application/json; charset=utf-8"
        return Response(status, body, headers)

    def _authenticate(self, request: Request) -> None:
        scheme, _, rest = request.headers.get("authorization", "").partition(" ")
        fields = dict(_AUTH_FIELD.findall(rest))
        if scheme != "WECHATPAY2-SHA256-RSA2048" or not {"mchid", "nonce_str", "signature", "timestamp",
                                                          "serial_no"} <= fields.keys():
            raise _Refusal(401, "SIGN_ERROR", "Authorization 头格式错误")
        if fields["mchid"] != self.mchid:
            raise _Refusal(401, "SIGN_ERROR", "商户号与签名不符")
        if fields["serial_no"] != self.merchant_serial_no:
            raise _Refusal(401, "SIGN_ERROR", "商户证书序列号有误")
        if not fields["timestamp"].isdigit() or abs(time.time() - int(fields["timestamp"])) > 300:
            raise _Refusal(401, "SIGN_ERROR", "请求时间戳超出有效范围")
        message = (f"{request.method}\n{request.target}\n{fields['timestamp']}\n{fields['nonce_str']}\n"
                   f"{request.body.decode('utf-8', 'replace')}\n")
        try:
            self._merchant_key.verify(base64.b64decode(fields["signature"], validate=True), message.encode(),
                                      padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            raise _Refusal(401, "SIGN_ERROR", "签名错误") from None

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/sandbox/wechatpay/pay") and request.tunnel_host is None:
            return self._paysandbox_page(request)
        with self.lock:
            try:
                self._authenticate(request)
                payload = json.loads(request.body) if request.body else None
                if request.body and not isinstance(payload, dict):
                    raise _param("请求体应为 JSON 对象")
                self.calls.append(RecordedCall(request.method, request.target, payload))
                if request.path == "/v3/billdownload/file":
                    return self._bill_download(request)
                status, answer = self._route(request, payload or {})
            except _Refusal as refusal:
                return self._answer(request, refusal.status, {"code": refusal.code, "message": refusal.message})
            except ValueError:
                return self._answer(request, 400, {"code": "PARAM_ERROR", "message": "请求体不是合法的 JSON"})
            return self._answer(request, status, answer)

    def _route(self, request: Request, body: dict[str, Any]) -> tuple[int, dict[str, Any] | None]:
        method, path, query = request.method, request.path, request.query
        if method == "POST" and (m := re.fullmatch(r"/v3/pay/partner/transactions/(native|h5|jsapi)", path)):
            return 200, self._prepay(m.group(1), body)
        if method == "GET" and (m := re.fullmatch(r"/v3/pay/partner/transactions/out-trade-no/([^/]+)", path)):
            return 200, self._query(query, out_trade_no=m.group(1))
        if method == "GET" and (m := re.fullmatch(r"/v3/pay/partner/transactions/id/([^/]+)", path)):
            return 200, self._query(query, transaction_id=m.group(1))
        if method == "POST" and (m := re.fullmatch(r"/v3/pay/partner/transactions/out-trade-no/([^/]+)/close",
                                                   path)):
            self._close(body, m.group(1))
            return 204, None
        if method == "POST" and (m := re.fullmatch(r"/v3/combine-transactions/(native|h5|jsapi)", path)):
            return 200, self._combine_prepay(m.group(1), body)
        if method == "GET" and (m := re.fullmatch(r"/v3/combine-transactions/out-trade-no/([^/]+)", path)):
            return 200, self._combine_view(self._combine(m.group(1)))
        if method == "POST" and (m := re.fullmatch(r"/v3/combine-transactions/out-trade-no/([^/]+)/close", path)):
            self._combine_close(m.group(1), body)
            return 204, None
        if method == "POST" and path == "/v3/refund/domestic/refunds":
            return 200, self._refund(body)
        if method == "GET" and (m := re.fullmatch(r"/v3/refund/domestic/refunds/([^/]+)", path)):
            return 200, self._refund_view(self._find_refund(query.get("sub_mchid", ""), m.group(1)))
        if method == "GET" and path == "/v3/bill/tradebill":
            return 200, self._trade_bill(request)
        if method == "GET" and path == "/v3/certificates":
            return 200, self._certificates()
        raise _Refusal(404, "NOT_FOUND", f"{method} {path} 不存在")

    # ------------------------------------------------------------------ paying

    def _bound(self, sub_mchid: Any) -> str:
        if self.open_enrolment and isinstance(sub_mchid, str) and sub_mchid.isdigit():
            self.sub_mchids.add(sub_mchid)
        if not isinstance(sub_mchid, str) or sub_mchid not in self.sub_mchids:
            raise _Refusal(400, "INVALID_REQUEST", "受理关系不存在")
        return sub_mchid

    def _prepay(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("sp_appid") != self.appid or body.get("sp_mchid") != self.mchid:
            raise _Refusal(400, "INVALID_REQUEST", "sp_appid 与 sp_mchid 不匹配")
        sub_mchid = self._bound(body.get("sub_mchid"))
        out_trade_no = body.get("out_trade_no")
        if not isinstance(out_trade_no, str) or not _OUT_TRADE_NO.fullmatch(out_trade_no):
            raise _param("out_trade_no 格式错误")
        description = _text(body, "description")
        notify_url = _text(body, "notify_url", limit=256)
        if not notify_url.startswith(("https://", "http://")):
            raise _param("notify_url 格式错误")
        amount = body.get("amount")
        if not isinstance(amount, dict) or amount.get("currency", "CNY") != "CNY":
            raise _param("amount 格式错误")
        total = _amount(amount.get("total"), "amount.total")
        if "time_expire" in body:
            try:
                datetime.fromisoformat(str(body["time_expire"]))
            except ValueError:
                raise _param("time_expire 格式错误") from None
        openid = sub_openid = None
        if kind == "h5":
            scene = body.get("scene_info")
            if not isinstance(scene, dict) or not scene.get("payer_client_ip") or not isinstance(
                    scene.get("h5_info"), dict) or not scene["h5_info"].get("type"):
                raise _param("H5 支付需要 scene_info.payer_client_ip 与 scene_info.h5_info.type")
        if kind == "jsapi":
            payer = body.get("payer")
            openid = payer.get("sp_openid") if isinstance(payer, dict) else None
            sub_openid = payer.get("sub_openid") if isinstance(payer, dict) else None
            if not (openid or sub_openid) or (sub_openid and not body.get("sub_appid")):
                raise _param("JSAPI 支付需要 payer.sp_openid，或 sub_appid 与 payer.sub_openid")
        existing = self.transactions.get((sub_mchid, out_trade_no))
        if existing is not None:
            if existing.paid:
                raise _Refusal(400, "ORDERPAID", "该订单已支付")
            if existing.trade_state == "CLOSED":
                raise _Refusal(400, "ORDER_CLOSED", "订单已关闭")
            if (existing.total, existing.description, existing.trade_type) != (total, description,
                                                                                 _TRADE_TYPES[kind]):
                raise _Refusal(400, "INVALID_REQUEST", "201 商户订单号重复")
            transaction = existing
        else:
            now = _now()
            transaction = SandboxTransaction(
                sub_mchid=sub_mchid, out_trade_no=out_trade_no, description=description, total=total,
                trade_type=_TRADE_TYPES[kind], notify_url=notify_url,
                prepay_id="wx" + now.strftime("%d%H%M%S") + secrets.token_hex(13), code=secrets.token_urlsafe(12),
                created_at=now, sub_appid=body.get("sub_appid"), openid=openid, sub_openid=sub_openid,
                attach=body.get("attach"),
            )
            self.transactions[(sub_mchid, out_trade_no)] = transaction
        return self._prepay_answer(kind, transaction.prepay_id, transaction.code)

    def _prepay_answer(self, kind: str, prepay_id: str, code: str) -> dict[str, Any]:
        if kind == "native":
            return {"code_url": f"weixin://wxpay/bizpayurl?pr={code}"}
        if kind == "h5":
            return {"h5_url": f"{self.url}/sandbox/wechatpay/pay?{urlencode({'code': code, 'package': prepay_id})}"}
        return {"prepay_id": prepay_id}

    def _transaction_view(self, t: SandboxTransaction) -> dict[str, Any]:
        view: dict[str, Any] = {
            "sp_appid": self.appid,
            "sp_mchid": self.mchid,
            "sub_mchid": t.sub_mchid,
            "out_trade_no": t.out_trade_no,
            "trade_type": t.trade_type,
            "trade_state": t.trade_state,
            "trade_state_desc": {"NOTPAY": "订单未支付", "SUCCESS": "支付成功", "REFUND": "转入退款",
                                 "CLOSED": "订单已关闭"}[t.trade_state],
            "amount": {"total": t.total, "currency": "CNY"},
        }
        if t.sub_appid:
            view["sub_appid"] = t.sub_appid
        if t.attach:
            view["attach"] = t.attach
        if t.paid:
            assert t.transaction_id is not None and t.success_time is not None
            view.update({
                "transaction_id": t.transaction_id,
                "bank_type": "OTHERS",
                "success_time": _rfc3339(t.success_time),
                "payer": {"sp_openid": t.openid, **({"sub_openid": t.sub_openid} if t.sub_openid else {})},
                "amount": {"total": t.total, "payer_total": t.total, "currency": "CNY", "payer_currency": "CNY"},
            })
        return view

    def _query(self, query: dict[str, str], *, out_trade_no: str | None = None,
               transaction_id: str | None = None) -> dict[str, Any]:
        if query.get("sp_mchid") != self.mchid:
            raise _param("sp_mchid 错误")
        sub_mchid = self._bound(query.get("sub_mchid"))
        for (sub, no), t in self.transactions.items():
            if sub == sub_mchid and (no == out_trade_no or (transaction_id and t.transaction_id == transaction_id)):
                return self._transaction_view(t)
        raise _Refusal(404, "ORDER_NOT_EXIST", "订单不存在")

    def _close(self, body: dict[str, Any], out_trade_no: str) -> None:
        if body.get("sp_mchid") != self.mchid:
            raise _param("sp_mchid 错误")
        transaction = self.transactions.get((self._bound(body.get("sub_mchid")), out_trade_no))
        if transaction is None:
            raise _Refusal(404, "ORDER_NOT_EXIST", "订单不存在")
        if transaction.paid:
            raise _Refusal(400, "ORDERPAID", "该订单已支付")
        transaction.trade_state = "CLOSED"

    # ------------------------------------------------------------------ combined payment

    def _combine(self, combine_out_trade_no: str) -> SandboxCombine:
        combine = self.combines.get(combine_out_trade_no)
        if combine is None:
            raise _Refusal(404, "ORDER_NOT_EXIST", "订单不存在")
        return combine

    def _combine_prepay(self, kind: str, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("combine_appid") != self.appid or body.get("combine_mchid") != self.mchid:
            raise _Refusal(400, "INVALID_REQUEST", "combine_appid 与 combine_mchid 不匹配")
        combine_no = body.get("combine_out_trade_no")
        if not isinstance(combine_no, str) or not _OUT_TRADE_NO.fullmatch(combine_no):
            raise _param("combine_out_trade_no 格式错误")
        notify_url = _text(body, "notify_url", limit=256)
        sub_orders = body.get("sub_orders")
        if not isinstance(sub_orders, list) or not 1 <= len(sub_orders) <= 50:
            raise _param("sub_orders 应有 1 到 50 个子单")
        if kind == "h5" and not (isinstance(body.get("scene_info"), dict)
                                 and body["scene_info"].get("payer_client_ip")):
            raise _param("H5 合单支付需要 scene_info.payer_client_ip")
        payer = body.get("combine_payer_info")
        openid = payer.get("openid") if isinstance(payer, dict) else None
        if kind == "jsapi" and not openid:
            raise _param("JSAPI 合单支付需要 combine_payer_info.openid")
        orders: list[tuple[tuple[str, str], int, str, str]] = []  # (sub_mchid, out_trade_no), total, ...
        for order in sub_orders:
            if not isinstance(order, dict) or order.get("mchid") != self.mchid:
                raise _param("子单 mchid 应为服务商商户号")
            out_trade_no = order.get("out_trade_no")
            if not isinstance(out_trade_no, str) or not _OUT_TRADE_NO.fullmatch(out_trade_no):
                raise _param("子单 out_trade_no 格式错误")
            amount = order.get("amount")
            if not isinstance(amount, dict) or amount.get("currency", "CNY") != "CNY":
                raise _param("子单 amount 格式错误")
            orders.append(((self._bound(order.get("sub_mchid")), out_trade_no),
                           _amount(amount.get("total_amount"), "amount.total_amount"),
                           _text(order, "description"), _text(order, "attach", limit=128)))
        keys = [key for key, _, _, _ in orders]
        if len(set(keys)) != len(keys):
            raise _param("子单 out_trade_no 重复")
        existing = self.combines.get(combine_no)
        if existing is not None:
            if any(self.transactions[key].paid for key in existing.orders):
                raise _Refusal(400, "ORDERPAID", "该订单已支付")
            if existing.orders != keys:
                raise _Refusal(400, "INVALID_REQUEST", "201 商户订单号重复")
            return self._prepay_answer(kind, self.transactions[keys[0]].prepay_id, existing.code)
        if any(key in self.transactions for key in keys):
            raise _Refusal(400, "INVALID_REQUEST", "201 商户订单号重复")
        now, code = _now(), secrets.token_urlsafe(12)
        prepay_id = "wx" + now.strftime("%d%H%M%S") + secrets.token_hex(13)
        for key, total, description, attach in orders:
            self.transactions[key] = SandboxTransaction(
                sub_mchid=key[0], out_trade_no=key[1], description=description, total=total,
                trade_type=_TRADE_TYPES[kind], notify_url=notify_url, prepay_id=prepay_id, code=code,
                created_at=now, attach=attach, combine_out_trade_no=combine_no, openid=openid,
            )
        self.combines[combine_no] = SandboxCombine(combine_no, keys, notify_url, _TRADE_TYPES[kind], openid, code)
        return self._prepay_answer(kind, prepay_id, code)

    def _combine_view(self, combine: SandboxCombine) -> dict[str, Any]:
        orders = []
        for key in combine.orders:
            t = self.transactions[key]
            order: dict[str, Any] = {
                "mchid": self.mchid, "sub_mchid": t.sub_mchid, "trade_type": t.trade_type,
                "trade_state": t.trade_state, "attach": t.attach or "", "out_trade_no": t.out_trade_no,
                "amount": {"total_amount": t.total, "currency": "CNY"},
            }
            if t.paid:
                assert t.success_time is not None
                order.update({"bank_type": "OTHERS", "success_time": _rfc3339(t.success_time),
                              "transaction_id": t.transaction_id,
                              "amount": {"total_amount": t.total, "payer_amount": t.total, "currency": "CNY",
                                         "payer_currency": "CNY"}})
            orders.append(order)
        view: dict[str, Any] = {"combine_appid": self.appid, "combine_mchid": self.mchid,
                                "combine_out_trade_no": combine.combine_out_trade_no, "sub_orders": orders}
        if combine.openid:
            view["combine_payer_info"] = {"openid": combine.openid}
        return view

    def _combine_close(self, combine_out_trade_no: str, body: dict[str, Any]) -> None:
        combine = self._combine(combine_out_trade_no)
        if body.get("combine_appid") != self.appid:
            raise _param("combine_appid 错误")
        named = body.get("sub_orders")
        if not isinstance(named, list) or sorted(
                (str(o.get("sub_mchid")), str(o.get("out_trade_no"))) for o in named if isinstance(o, dict)
        ) != sorted(combine.orders):
            raise _param("sub_orders 与下单时不一致")
        if any(self.transactions[key].paid for key in combine.orders):
            raise _Refusal(400, "ORDERPAID", "该订单已支付")
        for key in combine.orders:
            self.transactions[key].trade_state = "CLOSED"

    # ------------------------------------------------------------------ refunds

    def _find_refund(self, sub_mchid: str, out_refund_no: str) -> SandboxRefund:
        refund = self.refunds.get((self._bound(sub_mchid), out_refund_no))
        if refund is None:
            raise _Refusal(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
        return refund

    def _refund(self, body: dict[str, Any]) -> dict[str, Any]:
        sub_mchid = self._bound(body.get("sub_mchid"))
        out_refund_no = body.get("out_refund_no")
        if not isinstance(out_refund_no, str) or not _OUT_REFUND_NO.fullmatch(out_refund_no):
            raise _param("out_refund_no 格式错误")
        amount = body.get("amount")
        if not isinstance(amount, dict) or amount.get("currency") != "CNY":
            raise _param("amount 格式错误")
        refund_amount, total = _amount(amount.get("refund"), "amount.refund"), _amount(amount.get("total"),
                                                                                       "amount.total")
        transaction = None
        for (sub, no), t in self.transactions.items():
            if sub == sub_mchid and (no == body.get("out_trade_no") or (
                    body.get("transaction_id") and t.transaction_id == body.get("transaction_id"))):
                transaction = t
        if transaction is None:
            raise _Refusal(404, "RESOURCE_NOT_EXISTS", "订单不存在")
        earlier = self.refunds.get((sub_mchid, out_refund_no))
        if earlier is not None:
            if self.reused_refund_number == "refuse" and (earlier.out_trade_no, earlier.refund, earlier.total) != (
                    transaction.out_trade_no, refund_amount, total):
                raise _Refusal(400, "INVALID_REQUEST", "订单金额或退款金额与之前请求不一致")
            return self._refund_view(earlier)
        if not transaction.paid:
            raise _Refusal(400, "INVALID_REQUEST", "订单未支付，不能退款")
        if total != transaction.total:
            raise _Refusal(400, "INVALID_REQUEST", "订单金额与原订单金额不一致")
        refunded = sum(r.refund for r in self.refunds.values()
                       if (r.sub_mchid, r.out_trade_no) == (sub_mchid, transaction.out_trade_no)
                       and r.status != "CLOSED")
        if refund_amount > transaction.total - refunded:
            raise _Refusal(400, "NOT_ENOUGH", "申请退款金额超过订单可退金额")
        assert transaction.transaction_id is not None
        now = _now()
        refund = SandboxRefund(
            sub_mchid=sub_mchid, out_refund_no=out_refund_no, refund_id="50" + _digits(30),
            out_trade_no=transaction.out_trade_no, transaction_id=transaction.transaction_id,
            refund=refund_amount, total=total, notify_url=body.get("notify_url"), reason=body.get("reason"),
            created_at=now,
        )
        self.refunds[(sub_mchid, out_refund_no)] = refund
        transaction.trade_state = "REFUND"
        self.bill.append(WechatBillEntry(
            day=now.date(), time=now.strftime("%Y-%m-%d %H:%M:%S"), appid=self.appid, mchid=self.mchid,
            sub_mchid=sub_mchid, transaction_id=transaction.transaction_id, out_trade_no=transaction.out_trade_no,
            openid=transaction.openid or "", trade_type=transaction.trade_type, trade_state="REFUND",
            total=transaction.total, refund_id=refund.refund_id, out_refund_no=out_refund_no, refund=refund_amount,
            refund_status="PROCESSING", description=transaction.description, attach=transaction.attach or "",
            fee="-" + _fee_text(refund_amount),
        ))
        answer = self._refund_view(refund)
        if self.settle_refunds_at_once:
            threading.Thread(target=self.settle_refund, args=(out_refund_no,), kwargs={"sub_mchid": sub_mchid},
                             name="wechatpay-sandbox-refund", daemon=True).start()
        return answer

    def _refund_view(self, r: SandboxRefund) -> dict[str, Any]:
        view: dict[str, Any] = {
            "refund_id": r.refund_id,
            "out_refund_no": r.out_refund_no,
            "transaction_id": r.transaction_id,
            "out_trade_no": r.out_trade_no,
            "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱",
            "create_time": _rfc3339(r.created_at),
            "status": r.status,
            "funds_account": "AVAILABLE",
            "amount": {"total": r.total, "refund": r.refund, "payer_total": r.total, "payer_refund": r.refund,
                       "settlement_refund": r.refund, "settlement_total": r.total, "discount_refund": 0,
                       "currency": "CNY", "refund_fee": 0},
        }
        if r.success_time is not None:
            view["success_time"] = _rfc3339(r.success_time)
        return view

    # ------------------------------------------------------------------ bills and certificates

    def _trade_bill(self, request: Request) -> dict[str, Any]:
        query = request.query
        try:
            day = date.fromisoformat(query.get("bill_date", ""))
        except ValueError:
            raise _param("bill_date 格式错误") from None
        bill_type = query.get("bill_type", "ALL")
        if bill_type not in ("ALL", "SUCCESS", "REFUND"):
            raise _param("bill_type 错误")
        sub_mchid = query.get("sub_mchid")
        if sub_mchid is not None:
            self._bound(sub_mchid)
        entries = [e for e in self.bill if e.day == day and sub_mchid in (None, e.sub_mchid)
                   and (bill_type == "ALL" or (bill_type == "SUCCESS") == (e.trade_state == "SUCCESS"))]
        if not entries:
            raise _Refusal(400, "NO_STATEMENT_EXIST", "账单文件不存在")
        data = trade_bill_csv(entries)
        token = secrets.token_urlsafe(16)
        self._bill_files[token] = (data, query.get("tar_type") == "GZIP")
        base = f"https://{API_HOST}" if request.tunnel_host else self.url
        return {"hash_type": "SHA1", "hash_value": hashlib.sha1(data).hexdigest(),
                "download_url": f"{base}/v3/billdownload/file?token={token}"}

    def _bill_download(self, request: Request) -> Response:
        found = self._bill_files.get(request.query.get("token", ""))
        if found is None:
            return self._answer(request, 404, {"code": "RESOURCE_NOT_EXISTS", "message": "账单文件不存在"})
        data, gzipped = found
        return Response(200, gzip.compress(data) if gzipped else data, {"Content-Type": "application/octet-stream"})

    def _certificates(self) -> dict[str, Any]:
        certificate = x509.load_pem_x509_certificate(self.platform_certificate_pem.encode())
        nonce = _nonce(12)
        ciphertext = AESGCM(self.apiv3_key.encode()).encrypt(
            nonce.encode(), self.platform_certificate_pem.encode(), b"certificate"
        )
        return {"data": [{
            "serial_no": self.platform_serial_no,
            "effective_time": _rfc3339(certificate.not_valid_before_utc),
            "expire_time": _rfc3339(certificate.not_valid_after_utc),
            "encrypt_certificate": {"algorithm": "AEAD_AES_256_GCM", "nonce": nonce, "associated_data": "certificate",
                                    "ciphertext": base64.b64encode(ciphertext).decode()},
        }]}

    # ------------------------------------------------------------------ the sandbox's pay page

    def _paysandbox_page(self, request: Request) -> Response:
        code = request.form().get("code", "")
        with self.lock:
            transactions = [t for t in self.transactions.values() if t.code == code]
        if not transactions:
            return Response.text(404, sandbox_page("订单不存在 / No such payment", ""), "text/html; charset=utf-8")
        if request.method == "POST":
            try:
                first = transactions[0]
                if first.combine_out_trade_no is not None:
                    self.pay_combined(first.combine_out_trade_no, deliver=True)
                else:
                    self.pay(first.out_trade_no, sub_mchid=first.sub_mchid, deliver=True)
            except ValueError as exc:
                return Response.text(400, sandbox_page("支付失败 / Payment failed", f"<p>{html.escape(str(exc))}</p>"),
                                     "text/html; charset=utf-8")
            back = request.form().get("redirect_url")
            if back:
                return Response.redirect(back)
            return Response.text(200, sandbox_page("支付成功 / Paid", "<p>✓</p>"), "text/html; charset=utf-8")
        total = sum(t.total for t in transactions)
        items = "".join(f"<li>{html.escape(t.description)} ¥{fen_to_yuan(t.total)}</li>" for t in transactions)
        back = request.query.get("redirect_url", "")
        body = (
            f"<ul>{items}</ul><p class=amount>¥{fen_to_yuan(total)}</p>"
            f'<form method=post><input type=hidden name=code value="{html.escape(code)}">'
            f'<input type=hidden name=redirect_url value="{html.escape(back)}">'
            f"<button>确认支付 / Pay</button></form>"
        )
        return Response.text(200, sandbox_page("微信支付 / WeChat Pay", body), "text/html; charset=utf-8")


def trade_bill_csv(entries: list[WechatBillEntry]) -> bytes:
    """A trade bill as WeChat Pay serves it: a header, one line per payment or refund with every field behind a
    backquote, then the totals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(_BILL_HEADER)
    for e in entries:
        refund = e.trade_state == "REFUND"
        writer.writerow(["`" + value for value in (
            e.time, e.appid, e.mchid, e.sub_mchid, "", e.transaction_id, e.out_trade_no, e.openid, e.trade_type,
            e.trade_state, "OTHERS", "CNY", fen_to_yuan(e.total), "0.00", e.refund_id or "0",
            e.out_refund_no or "0", fen_to_yuan(e.refund), "0.00", "ORIGINAL" if refund else "",
            e.refund_status, e.description, e.attach, e.fee, _FEE_RATE, fen_to_yuan(e.total),
            fen_to_yuan(e.refund), "",
        )])
    writer.writerow(["总交易单数", "应结订单总金额", "退款总金额", "充值券退款总金额", "手续费总金额", "订单总金额",
                     "申请退款总金额"])
    paid = [e for e in entries if e.trade_state == "SUCCESS"]
    refunds = sum(e.refund for e in entries)
    writer.writerow(["`" + value for value in (
        str(len(entries)), fen_to_yuan(sum(e.total for e in paid)), fen_to_yuan(refunds), "0.00", "0.00000",
        fen_to_yuan(sum(e.total for e in paid)), fen_to_yuan(refunds),
    )])
    return out.getvalue().encode("utf-8")

