"""A local Alipay OpenAPI gateway (``/gateway.do``) that speaks Alipay's wire format.

Requests are checked as Alipay checks them: the RSA2 signature over the sorted, non-empty parameters with the
app's public key, the app id, ``biz_content`` as JSON, the merchant's ``app_auth_token``. Answers are signed with
the sandbox's own Alipay key over the exact JSON text of ``<method>_response``; notifications and return URLs
over the sorted fields minus ``sign`` and ``sign_type``. Amounts are yuan text on the wire and fen in here.

Supported: ``alipay.trade.page.pay`` and ``alipay.trade.wap.pay`` (opening the signed URL creates the trade and
shows a sandbox cashier), ``alipay.trade.query``, ``alipay.trade.close``, ``alipay.trade.refund`` (idempotent per
``out_request_no``), ``alipay.trade.fastpay.refund.query``, ``alipay.data.dataservice.bill.downloadurl.query``
(the day's statement as Alipay serves it: a zip of GBK CSV files), ``alipay.open.auth.token.app`` (grant types
``authorization_code`` and ``refresh_token``), and the merchant's authorisation page (``/oauth2/appToAppAuth.htm``:
the merchant confirms, its browser goes back to ``redirect_uri`` with ``app_auth_code``, ``app_id`` and ``state``).

Sandbox liberties: a statement is available at once, also for today; the cashier pays without a buyer login.
"""

from __future__ import annotations

import base64
import binascii
import csv
import html
import io
import json
import re
import secrets
import threading
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from app.core.clock import SHANGHAI
from app.core.money import fen_to_yuan, yuan_to_fen
from app.payments.sandbox.keys import public_pem, rsa_key
from app.payments.sandbox.server import Delivery, Request, Response, SandboxServer, post_to_loopback, sandbox_page

__all__ = ["AlipayNotice", "AlipaySandbox", "BillEntry", "SandboxRefund", "SandboxTrade"]

AUTH_PATH = "/oauth2/appToAppAuth.htm"  # Alipay's page where a merchant authorises an app
DEFAULT_SELLER_ID = "2088000000000001"  # the platform's own Alipay account (calls without an app_auth_token)
_TIME = "%Y-%m-%d %H:%M:%S"
_OUT_NO_RE = re.compile(r"[A-Za-z0-9_]{1,64}")
_MAX_AMOUNT = 10_000_000_000
_PRODUCT_CODES = {
    "alipay.trade.page.pay": {"FAST_INSTANT_TRADE_PAY"},
    "alipay.trade.wap.pay": {"QUICK_WAP_WAY", "QUICK_WAP_PAY"},  # the second is what older SDK helpers send
}
_FEE_BASIS_POINTS = 60  # the sandbox charges the common 0.6 % service fee in its statements
_DETAIL_HEADER = [
    "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间", "完成时间", "门店编号", "门店名称", "操作员",
    "终端号", "对方账户", "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）",
    "商家优惠（元）", "券核销金额（元）", "券名称", "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号",
    "服务费（元）", "分润（元）", "备注",
]


def _now() -> datetime:
    return datetime.now(SHANGHAI)


def _digits(n: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(n))


def _fee(amount: int) -> int:
    return (amount * _FEE_BASIS_POINTS + 5_000) // 10_000


@dataclass
class SandboxRefund:
    out_request_no: str
    amount: int  # fen
    refunded_at: datetime


@dataclass
class SandboxTrade:
    seller_id: str
    auth_app_id: str
    out_trade_no: str
    trade_no: str
    method: str
    subject: str
    total_amount: int  # fen
    notify_url: str | None
    return_url: str | None
    created_at: datetime
    status: str = "WAIT_BUYER_PAY"
    paid_at: datetime | None = None
    buyer_id: str = field(default_factory=lambda: "2088" + _digits(12))
    refunds: dict[str, SandboxRefund] = field(default_factory=dict)

    @property
    def refunded(self) -> int:
        return sum(r.amount for r in self.refunds.values())


@dataclass
class BillEntry:
    """One line of a merchant's daily statement; tests may edit ``AlipaySandbox.bill`` to stage a mismatch."""

    seller_id: str
    day: date
    trade_no: str
    out_trade_no: str
    kind: str  # 交易 | 退款
    subject: str
    created_at: str
    finished_at: str
    order_amount: int
    received_amount: int  # negative on refunds
    refund_request_no: str
    service_fee: int  # negative: charged


@dataclass(frozen=True)
class AlipayNotice:
    """A signed asynchronous notification, ready to POST (form-encoded) to ``url``."""

    url: str | None
    form: dict[str, str]

    @property
    def body(self) -> bytes:
        return urlencode(self.form).encode()

    @property
    def headers(self) -> dict[str, str]:
        return {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


@dataclass(frozen=True)
class RecordedCall:
    method: str
    params: dict[str, str]
    biz: dict[str, Any]


class _Refusal(Exception):
    """Ends a call with Alipay's answer ``{code, msg, sub_code, sub_msg}``; gateway errors are not signed."""

    def __init__(self, code: str, msg: str, sub_code: str, sub_msg: str) -> None:
        super().__init__(f"{sub_code}: {sub_msg}")
        self.answer = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}
        self.signed = code == "40004"  # business failures are signed like successes


def _business(sub_code: str, sub_msg: str) -> _Refusal:
    return _Refusal("40004", "Business Failed", sub_code, sub_msg)


def _invalid(sub_code: str, sub_msg: str) -> _Refusal:
    return _Refusal("40002", "Invalid Arguments", sub_code, sub_msg)


class AlipaySandbox(SandboxServer):
    """Alipay's gateway for one app, served on 127.0.0.1. ``gateway_url`` goes into ``ALIPAY_GATEWAY``."""

    thread_name = "alipay-sandbox"

    def __init__(
        self,
        *,
        app_id: str,
        app_public_key: str,
        alipay_private_key: rsa.RSAPrivateKey | None = None,
        seller_id: str = DEFAULT_SELLER_ID,
        deliver_notifications: bool = False,
        open_enrolment: bool = False,
    ) -> None:
        """``app_public_key``: PEM of the app's key pair (what checks the requests' signatures).
        ``deliver_notifications``: POST every notification to its notify URL at once (the sandbox's mode);
        otherwise tests take them from :meth:`pay` and post them themselves. ``open_enrolment``: any
        ``app_auth_token`` is taken as a merchant's authorisation (the sandbox's mode: merchants set theirs in the
        console without an authorisation round trip)."""
        super().__init__()
        self.app_id = app_id
        app_key = serialization.load_pem_public_key(app_public_key.encode())
        if not isinstance(app_key, rsa.RSAPublicKey):
            raise ValueError("the app's public key must be an RSA key")
        self._app_key = app_key
        self._alipay_key = alipay_private_key or rsa_key()
        self.alipay_public_key_pem = public_pem(self._alipay_key)
        self.seller_id = seller_id
        self.deliver_notifications = deliver_notifications
        self.open_enrolment = open_enrolment
        self.trades: dict[tuple[str, str], SandboxTrade] = {}
        self.bill: list[BillEntry] = []
        self.calls: list[RecordedCall] = []
        self.deliveries: list[tuple[AlipayNotice, Delivery | str]] = []
        self._tokens: dict[str, tuple[str, str]] = {}  # app_auth_token -> (seller_id, auth_app_id)
        self._codes: dict[str, tuple[str, str]] = {}
        self._bill_tokens: dict[str, tuple[str, date]] = {}

    @property
    def gateway_url(self) -> str:
        return f"{self.url}/gateway.do"

    def reset(self) -> None:
        """Forget every trade, statement line, call, delivery and merchant authorisation."""
        with self.lock:
            for store in (self.trades, self._tokens, self._codes, self._bill_tokens):
                store.clear()
            self.bill.clear()
            self.calls.clear()
            self.deliveries.clear()

    # ------------------------------------------------------------------ merchants (app authorisation)

    def authorise_merchant(self, seller_id: str | None = None) -> str:
        """A merchant authorises the app: returns the ``app_auth_code`` its browser would bring back."""
        with self.lock:
            code = "sbxcode" + secrets.token_hex(12)
            self._codes[code] = (seller_id or "2088" + _digits(12), "2021" + _digits(12))
            return code

    def issue_token(self, seller_id: str | None = None) -> str:
        """An ``app_auth_token`` for a merchant, skipping the code exchange."""
        with self.lock:
            token = "sbxtoken" + secrets.token_hex(16)
            self._tokens[token] = (seller_id or "2088" + _digits(12), "2021" + _digits(12))
            return token

    # ------------------------------------------------------------------ test helpers

    def trade(self, out_trade_no: str, *, seller_id: str | None = None) -> SandboxTrade:
        with self.lock:
            found = [t for (s, no), t in self.trades.items() if no == out_trade_no and seller_id in (None, s)]
            if len(found) != 1:
                raise KeyError(f"{len(found)} sandbox trades named {out_trade_no!r}")
            return found[0]

    def pay(self, out_trade_no: str, *, seller_id: str | None = None, deliver: bool | None = None) -> AlipayNotice:
        """The buyer pays the whole trade: it becomes TRADE_SUCCESS and its notification is returned (and
        POSTed to its notify URL when ``deliver``, by default the sandbox's ``deliver_notifications``)."""
        with self.lock:
            trade = self.trade(out_trade_no, seller_id=seller_id)
            if trade.status != "WAIT_BUYER_PAY":
                raise ValueError(f"trade {out_trade_no} is {trade.status}, not waiting for payment")
            now = _now()
            trade.status, trade.paid_at = "TRADE_SUCCESS", now
            self.bill.append(BillEntry(
                seller_id=trade.seller_id, day=now.date(), trade_no=trade.trade_no,
                out_trade_no=trade.out_trade_no, kind="交易", subject=trade.subject,
                created_at=trade.created_at.strftime(_TIME), finished_at=now.strftime(_TIME),
                order_amount=trade.total_amount, received_amount=trade.total_amount, refund_request_no="",
                service_fee=-_fee(trade.total_amount),
            ))
            notice = self.notification(out_trade_no, seller_id=trade.seller_id)
        self._maybe_deliver(notice, deliver)
        return notice

    def notification(self, out_trade_no: str, *, seller_id: str | None = None, **overrides: str) -> AlipayNotice:
        """The signed notification for the trade's current state; ``overrides`` change fields before signing
        (e.g. ``total_amount="0.01"`` for a payment that does not match the order)."""
        with self.lock:
            trade = self.trade(out_trade_no, seller_id=seller_id)
            form = self._trade_fields(trade)
            form.update(overrides)
            return AlipayNotice(trade.notify_url, self.sign_fields(form))

    def refund_notification(self, out_trade_no: str, out_request_no: str, *, seller_id: str | None = None,
                            ) -> AlipayNotice:
        """The notification Alipay sends after a refund (``refund_fee``, ``gmt_refund``, ``out_biz_no``)."""
        with self.lock:
            trade = self.trade(out_trade_no, seller_id=seller_id)
            refund = trade.refunds[out_request_no]
            form = self._trade_fields(trade)
            form.update({
                "refund_fee": fen_to_yuan(trade.refunded),
                "gmt_refund": refund.refunded_at.strftime(_TIME) + ".000",
                "out_biz_no": out_request_no,
            })
            return AlipayNotice(trade.notify_url, self.sign_fields(form))

    def return_url(self, out_trade_no: str, *, seller_id: str | None = None) -> str | None:
        """Where the cashier sends the buyer back after paying, with Alipay's signed parameters."""
        with self.lock:
            trade = self.trade(out_trade_no, seller_id=seller_id)
            if not trade.return_url:
                return None
            params = self.sign_fields({
                "charset": "utf-8",
                "out_trade_no": trade.out_trade_no,
                "method": f"{trade.method}.return",
                "total_amount": fen_to_yuan(trade.total_amount),
                "trade_no": trade.trade_no,
                "auth_app_id": trade.auth_app_id,
                "version": "1.0",
                "app_id": self.app_id,
                "sign_type": "RSA2",
                "seller_id": trade.seller_id,
                "timestamp": _now().strftime(_TIME),
            })
            separator = "&" if "?" in trade.return_url else "?"
            return f"{trade.return_url}{separator}{urlencode(params)}"

    def sign_fields(self, fields: dict[str, str], key: rsa.RSAPrivateKey | None = None) -> dict[str, str]:
        """``fields`` with Alipay's ``sign`` over them (sorted, minus ``sign`` and ``sign_type``); ``key`` signs
        as someone else would."""
        content = "&".join(f"{k}={v}" for k, v in sorted(fields.items()) if k not in ("sign", "sign_type"))
        return {**fields, "sign": self._sign(content, key)}

    def deliver(self, notice: AlipayNotice) -> Delivery:
        """POST a notification to its notify URL (loopback only) and record the answer."""
        if notice.url is None:
            raise ValueError("this trade has no notify_url")
        delivery = post_to_loopback(notice.url, content=notice.body, headers=notice.headers)
        with self.lock:
            self.deliveries.append((notice, delivery))
        return delivery

    def _maybe_deliver(self, notice: AlipayNotice, deliver: bool | None) -> None:
        if (self.deliver_notifications if deliver is None else deliver) and notice.url:
            try:
                self.deliver(notice)
            except Exception as exc:  # the receiver is down: Alipay would retry later, the sandbox records it
                with self.lock:
                    self.deliveries.append((notice, f"{type(exc).__name__}: {exc}"))

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    # ------------------------------------------------------------------ signatures

    def _sign(self, content: str, key: rsa.RSAPrivateKey | None = None) -> str:
        signature = (key or self._alipay_key).sign(content.encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    def _request_signature_ok(self, params: dict[str, str]) -> bool:
        content = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "sign" and v != "")
        try:
            signature = base64.b64decode(params.get("sign", ""), validate=True)
            self._app_key.verify(signature, content.encode(), padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def _answer(self, method: str, answer: dict[str, Any], *, signed: bool = True) -> Response:
        key = method.replace(".", "_") + "_response"
        inner = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        raw = f'{{"{key}":{inner},"sign":"{self._sign(inner)}"}}' if signed else f'{{"{key}":{inner}}}'
        return Response(200, raw.encode(), {"Content-Type": "text/html;charset=utf-8"})

    # ------------------------------------------------------------------ HTTP

    def handle(self, request: Request) -> Response:
        if request.path == "/gateway.do" and request.method in ("GET", "POST"):
            return self._gateway(request.form())
        if request.path == "/sandbox/alipay/pay" and request.method == "POST":
            return self._cashier_pay(request.form())
        if request.path == "/sandbox/alipay/bill" and request.method == "GET":
            return self._bill_file(request.query.get("token", ""))
        if request.path == AUTH_PATH and request.method == "GET":
            return self._auth_page(request.query)
        if request.path == AUTH_PATH and request.method == "POST":
            return self._authorised(request.form())
        return Response.text(404, "not found")

    @property
    def auth_url(self) -> str:
        """Where a merchant authorises the app (``ALIPAY_AUTH_URL``)."""
        return f"{self.url}{AUTH_PATH}"

    def _auth_page(self, query: dict[str, str]) -> Response:
        if query.get("app_id") != self.app_id or not query.get("redirect_uri", "").startswith(("http://", "https://")):
            failed = sandbox_page("授权失败 / Authorisation failed", "<p>app_id 或 redirect_uri 无效</p>")
            return Response.text(400, failed, "text/html; charset=utf-8")
        hidden = "".join(f'<input type=hidden name="{html.escape(k)}" value="{html.escape(query.get(k, ""))}">'
                         for k in ("app_id", "redirect_uri", "state"))
        body = (f"<p>应用 / App {html.escape(self.app_id)} 请求代您收款（第三方应用授权）</p>"
                f'<form method=post action="{AUTH_PATH}">{hidden}'
                '<label>商户支付宝账号 / Merchant account <input name=seller_id placeholder="2088..."></label>'
                "<button>确认授权 / Authorise</button></form>")
        return Response.text(200, sandbox_page("支付宝授权 / Alipay authorisation", body), "text/html; charset=utf-8")

    def _authorised(self, form: dict[str, str]) -> Response:
        seller = form.get("seller_id", "")
        code = self.authorise_merchant(seller if re.fullmatch(r"2088[0-9]{12}", seller) else None)
        back = form.get("redirect_uri", "")
        if form.get("app_id") != self.app_id or not back.startswith(("http://", "https://")):
            return Response.text(400, "bad request")
        sep = "&" if "?" in back else "?"
        query = urlencode({"app_id": self.app_id, "app_auth_code": code, "state": form.get("state", "")})
        return Response.redirect(f"{back}{sep}{query}")

    def _gateway(self, params: dict[str, str]) -> Response:
        method = params.get("method", "")
        client_side = method in _PRODUCT_CODES
        with self.lock:
            try:
                seller_id, auth_app_id, biz = self._authenticate(params)
                self.calls.append(RecordedCall(method, dict(params), biz))
                if client_side:
                    return self._cashier(method, params, biz, seller_id, auth_app_id)
                handler = self._server_methods().get(method)
                if handler is None:
                    raise _invalid("isv.invalid-method", f"不存在的方法名 {method}")
                return self._answer(method, {"code": "10000", "msg": "Success", **handler(biz, seller_id,
                                                                                          auth_app_id)})
            except _Refusal as refusal:
                if client_side:
                    return Response.text(400, sandbox_page("支付失败 / Payment failed",
                                                    f"<p>{html.escape(str(refusal))}</p>"), "text/html; charset=utf-8")
                return self._answer(method or "error", refusal.answer, signed=refusal.signed)

    def _authenticate(self, params: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
        if not params.get("method"):
            raise _Refusal("40001", "Missing Required Arguments", "isv.missing-method", "缺少方法名参数")
        if not params.get("sign"):
            raise _Refusal("40001", "Missing Required Arguments", "isv.missing-signature", "缺少签名参数")
        if params.get("app_id") != self.app_id:
            raise _invalid("isv.invalid-app-id", "无效的AppID参数")
        if params.get("sign_type") != "RSA2":
            raise _invalid("isv.invalid-signature-type", "无效的签名类型")
        if params.get("charset", "utf-8").lower() != "utf-8":
            raise _invalid("isv.invalid-charset", "字符集错误")
        try:
            datetime.strptime(params.get("timestamp", ""), _TIME)
        except ValueError:
            raise _invalid("isv.invalid-timestamp", "非法的时间戳参数") from None
        if not self._request_signature_ok(params):
            raise _invalid("isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配")
        token = params.get("app_auth_token")
        if token:
            merchant = self._tokens.get(token)
            if merchant is None and self.open_enrolment:
                merchant = self._tokens[token] = ("2088" + _digits(12), "2021" + _digits(12))
            if merchant is None:
                raise _Refusal("20001", "Insufficient Token Permissions", "aop.invalid-app-auth-token",
                               "无效的应用授权令牌")
            seller_id, auth_app_id = merchant
        else:
            seller_id, auth_app_id = self.seller_id, self.app_id
        try:
            biz = json.loads(params.get("biz_content") or "{}")
        except ValueError:
            raise _invalid("isv.invalid-parameter", "biz_content 不是合法的 JSON") from None
        if not isinstance(biz, dict):
            raise _invalid("isv.invalid-parameter", "biz_content 不是 JSON 对象")
        return seller_id, auth_app_id, biz

    def _server_methods(self) -> dict[str, Any]:
        return {
            "alipay.trade.query": self._query,
            "alipay.trade.close": self._close,
            "alipay.trade.refund": self._refund,
            "alipay.trade.fastpay.refund.query": self._refund_query,
            "alipay.data.dataservice.bill.downloadurl.query": self._bill_url,
            "alipay.open.auth.token.app": self._auth_token,
        }

    # ------------------------------------------------------------------ paying

    def _cashier(self, method: str, params: dict[str, str], biz: dict[str, Any], seller_id: str,
                 auth_app_id: str) -> Response:
        out_trade_no = _out_no(biz, "out_trade_no")
        amount = _amount(biz, "total_amount")
        subject = biz.get("subject")
        if not isinstance(subject, str) or not subject or len(subject) > 256 or re.search(r"[/=&]", subject):
            raise _business("ACQ.INVALID_PARAMETER", "参数有误: subject")
        if biz.get("product_code") not in _PRODUCT_CODES[method]:
            raise _business("ACQ.PRODUCT_CODE_INVALID", f"产品码 {biz.get('product_code')} 不适用于 {method}")
        trade = self.trades.get((seller_id, out_trade_no))
        if trade is not None:
            if trade.status == "TRADE_SUCCESS" or trade.status == "TRADE_FINISHED":
                raise _business("ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            if trade.status == "TRADE_CLOSED":
                raise _business("ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            if (trade.total_amount, trade.subject) != (amount, subject):
                raise _business("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
        else:
            now = _now()
            trade = SandboxTrade(
                seller_id=seller_id, auth_app_id=auth_app_id, out_trade_no=out_trade_no,
                trade_no=now.strftime("%Y%m%d") + "2200" + _digits(16), method=method, subject=subject,
                total_amount=amount, notify_url=params.get("notify_url") or None,
                return_url=params.get("return_url") or None, created_at=now,
            )
            self.trades[(seller_id, out_trade_no)] = trade
        body = (
            f"<p>商户 / Merchant: {html.escape(seller_id)}</p>"
            f"<p>{html.escape(subject)}</p><p class=amount>¥{fen_to_yuan(amount)}</p>"
            f'<form method=post action="/sandbox/alipay/pay">'
            f'<input type=hidden name=seller_id value="{html.escape(seller_id)}">'
            f'<input type=hidden name=out_trade_no value="{html.escape(out_trade_no)}">'
            f"<button>确认付款 / Pay</button></form>"
        )
        return Response.text(200, sandbox_page("支付宝收银台 / Alipay cashier", body), "text/html; charset=utf-8")

    def _cashier_pay(self, form: dict[str, str]) -> Response:
        out_trade_no, seller_id = form.get("out_trade_no", ""), form.get("seller_id", "")
        try:
            self.pay(out_trade_no, seller_id=seller_id, deliver=True)
        except (KeyError, ValueError) as exc:
            return Response.text(400, sandbox_page("支付失败 / Payment failed", f"<p>{html.escape(str(exc))}</p>"),
                                 "text/html; charset=utf-8")
        back = self.return_url(out_trade_no, seller_id=seller_id)
        if back:
            return Response.redirect(back)
        return Response.text(200, sandbox_page("支付成功 / Paid", "<p>✓</p>"), "text/html; charset=utf-8")

    def _trade_fields(self, trade: SandboxTrade) -> dict[str, str]:
        paid = trade.paid_at is not None
        received = fen_to_yuan(trade.total_amount if paid else 0)
        fields = {
            "notify_time": _now().strftime(_TIME),
            "notify_type": "trade_status_sync",
            "notify_id": secrets.token_hex(16) + _digits(8),
            "charset": "utf-8",
            "version": "1.0",
            "sign_type": "RSA2",
            "app_id": self.app_id,
            "auth_app_id": trade.auth_app_id,
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_id": trade.buyer_id,
            "buyer_logon_id": "sbx***@sandbox.com",
            "seller_id": trade.seller_id,
            "trade_status": trade.status,
            "total_amount": fen_to_yuan(trade.total_amount),
            "receipt_amount": received,
            "invoice_amount": received,
            "buyer_pay_amount": received,
            "point_amount": "0.00",
            "subject": trade.subject,
            "gmt_create": trade.created_at.strftime(_TIME),
        }
        if trade.paid_at is not None:
            fields["gmt_payment"] = trade.paid_at.strftime(_TIME)
            fields["fund_bill_list"] = json.dumps([{"amount": received, "fundChannel": "ALIPAYACCOUNT"}],
                                                  separators=(",", ":"))
        return fields

    # ------------------------------------------------------------------ server methods

    def _find(self, biz: dict[str, Any], seller_id: str) -> SandboxTrade:
        out_trade_no, trade_no = biz.get("out_trade_no"), biz.get("trade_no")
        if not out_trade_no and not trade_no:
            raise _invalid("isv.missing-parameter", "缺少必选参数 out_trade_no 或 trade_no")
        for (seller, no), trade in self.trades.items():
            if seller == seller_id and (no == out_trade_no or (trade_no and trade.trade_no == trade_no)):
                return trade
        raise _business("ACQ.TRADE_NOT_EXIST", "交易不存在")

    def _query(self, biz: dict[str, Any], seller_id: str, auth_app_id: str) -> dict[str, Any]:
        trade = self._find(biz, seller_id)
        paid = trade.paid_at is not None
        answer: dict[str, Any] = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "sbx***@sandbox.com",
            "trade_status": trade.status,
            "total_amount": fen_to_yuan(trade.total_amount),
            "buyer_pay_amount": fen_to_yuan(trade.total_amount if paid else 0),
            "receipt_amount": fen_to_yuan(trade.total_amount if paid else 0),
            "buyer_user_id": trade.buyer_id,
        }
        if trade.paid_at is not None:
            answer["send_pay_date"] = trade.paid_at.strftime(_TIME)
        return answer

    def _close(self, biz: dict[str, Any], seller_id: str, auth_app_id: str) -> dict[str, Any]:
        trade = self._find(biz, seller_id)
        if trade.status != "WAIT_BUYER_PAY":
            raise _business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        trade.status = "TRADE_CLOSED"
        return {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no}

    def _refund(self, biz: dict[str, Any], seller_id: str, auth_app_id: str) -> dict[str, Any]:
        trade = self._find(biz, seller_id)
        amount = _amount(biz, "refund_amount")
        request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        answer = {
            "trade_no": trade.trade_no,
            "out_trade_no": trade.out_trade_no,
            "buyer_logon_id": "sbx***@sandbox.com",
            "buyer_user_id": trade.buyer_id,
        }
        earlier = trade.refunds.get(request_no)
        if earlier is not None:
            if earlier.amount != amount:
                raise _business("ACQ.INVALID_PARAMETER", "退款请求号对应的退款金额与原请求不一致")
            return {**answer, "fund_change": "N", "refund_fee": fen_to_yuan(trade.refunded),
                    "gmt_refund_pay": earlier.refunded_at.strftime(_TIME)}
        if trade.paid_at is None or trade.status not in ("TRADE_SUCCESS", "TRADE_CLOSED"):
            raise _business("ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        if amount > trade.total_amount - trade.refunded:
            raise _business("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限")
        now = _now()
        trade.refunds[request_no] = SandboxRefund(request_no, amount, now)
        if trade.refunded == trade.total_amount:
            trade.status = "TRADE_CLOSED"
        self.bill.append(BillEntry(
            seller_id=trade.seller_id, day=now.date(), trade_no=trade.trade_no, out_trade_no=trade.out_trade_no,
            kind="退款", subject=trade.subject, created_at=trade.created_at.strftime(_TIME),
            finished_at=now.strftime(_TIME), order_amount=trade.total_amount, received_amount=-amount,
            refund_request_no=request_no, service_fee=_fee(amount),
        ))
        if trade.notify_url and self.deliver_notifications:
            notice = self.refund_notification(trade.out_trade_no, request_no, seller_id=trade.seller_id)
            # delivered after the answer is built, outside the lock, by a short-lived thread
            _later(self._maybe_deliver, notice, True)
        return {**answer, "fund_change": "Y", "refund_fee": fen_to_yuan(trade.refunded),
                "gmt_refund_pay": now.strftime(_TIME), "send_back_fee": fen_to_yuan(amount)}

    def _refund_query(self, biz: dict[str, Any], seller_id: str, auth_app_id: str) -> dict[str, Any]:
        trade = self._find(biz, seller_id)
        request_no = str(biz.get("out_request_no") or trade.out_trade_no)
        answer = {"trade_no": trade.trade_no, "out_trade_no": trade.out_trade_no, "out_request_no": request_no}
        refund = trade.refunds.get(request_no)
        if refund is None:
            return answer
        return {**answer, "total_amount": fen_to_yuan(trade.total_amount),
                "refund_amount": fen_to_yuan(refund.amount), "refund_status": "REFUND_SUCCESS"}

    def _auth_token(self, biz: dict[str, Any], seller_id: str, auth_app_id: str) -> dict[str, Any]:
        if biz.get("grant_type") == "authorization_code":
            merchant = self._codes.pop(str(biz.get("code", "")), None)
        elif biz.get("grant_type") == "refresh_token":
            merchant = self._codes.pop("refresh:" + str(biz.get("refresh_token", "")), None)
        else:
            raise _invalid("isv.invalid-parameter", "grant_type 无效")
        if merchant is None:
            raise _invalid("isv.code-invalid", "授权码code无效")
        token, refresh = "sbxtoken" + secrets.token_hex(16), "sbxrefresh" + secrets.token_hex(16)
        self._tokens[token] = merchant
        self._codes["refresh:" + refresh] = merchant
        item = {"app_auth_token": token, "app_refresh_token": refresh, "user_id": merchant[0],
                "auth_app_id": merchant[1], "expires_in": 31536000, "re_expires_in": 32140800}
        return {**item, "tokens": [item]}

    # ------------------------------------------------------------------ the daily statement

    def _bill_url(self, biz: dict[str, Any], seller_id: str, auth_app_id: str) -> dict[str, Any]:
        if biz.get("bill_type") != "trade":
            raise _business("isp.bill_type_not_support", "沙箱只提供交易账单 (trade)")
        try:
            day = date.fromisoformat(str(biz.get("bill_date", "")))
        except ValueError:
            raise _invalid("isv.invalid-parameter", "bill_date 应为 yyyy-MM-dd") from None
        if day > _now().date():
            raise _business("isp.bill_not_exist", "账单不存在")
        token = secrets.token_urlsafe(16)
        self._bill_tokens[token] = (seller_id, day)
        return {"bill_download_url": f"{self.url}/sandbox/alipay/bill?token={token}"}

    def _bill_file(self, token: str) -> Response:
        with self.lock:
            found = self._bill_tokens.get(token)
            if found is None:
                return Response.text(404, "no such bill")
            seller_id, day = found
            entries = [e for e in self.bill if e.seller_id == seller_id and e.day == day]
        return Response(200, bill_zip(seller_id, day, entries), {"Content-Type": "application/zip"})


def bill_zip(seller_id: str, day: date, entries: list[BillEntry]) -> bytes:
    """A statement as Alipay serves it: a zip of the detail list and its summary, GBK CSV with ``#`` notes."""
    start = day.strftime("%Y年%m月%d日") + " 00:00:00"
    account = f"#账号：[{seller_id}0156]"
    detail = io.StringIO()
    detail.write(f"#支付宝业务明细查询\n{account}\n#起始日期：[{start}]   终止日期：[{start}]\n")
    detail.write("#-----------------------------------------业务明细列表----------------------------------------\n")
    writer = csv.writer(detail, lineterminator="\n")
    writer.writerow(_DETAIL_HEADER)
    for e in entries:
        writer.writerow([
            e.trade_no + "\t", e.out_trade_no + "\t", e.kind, e.subject, e.created_at, e.finished_at, "", "", "",
            "", "sbx***@sandbox.com", fen_to_yuan(e.order_amount), fen_to_yuan(e.received_amount), "0.00", "0.00",
            "0.00", "0.00", "0.00", "", "0.00", "0.00", e.refund_request_no, fen_to_yuan(e.service_fee), "0.00", "",
        ])
    trades = sum(1 for e in entries if e.kind == "交易")
    detail.write("#-----------------------------------------业务明细列表结束------------------------------------\n")
    detail.write(f"#交易合计：{trades}笔，退款合计：{len(entries) - trades}笔\n")
    detail.write(f"#导出时间：[{_now().strftime('%Y年%m月%d日 %H:%M:%S')}]\n")
    summary = io.StringIO()
    summary.write(f"#支付宝业务汇总查询\n{account}\n")
    summary.write("#-----------------------------------------业务汇总列表----------------------------------------\n")
    summary.write("门店编号,门店名称,交易订单总笔数,退款订单总笔数,订单金额（元）,商家实收（元）,服务费（元）\n")
    summary.write(",".join([
        "合计", "", str(trades), str(len(entries) - trades),
        fen_to_yuan(sum(e.order_amount for e in entries if e.kind == "交易")),
        fen_to_yuan(sum(e.received_amount for e in entries)), fen_to_yuan(sum(e.service_fee for e in entries)),
    ]) + "\n")
    summary.write("#-----------------------------------------业务汇总列表结束-----------------------------------\n")
    stem = f"{seller_id}0156_{day.strftime('%Y%m%d')}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{stem}_业务明细.csv", detail.getvalue().encode("gbk"))
        archive.writestr(f"{stem}_业务明细(汇总).csv", summary.getvalue().encode("gbk"))
    return buffer.getvalue()


def _out_no(biz: dict[str, Any], name: str) -> str:
    value = biz.get(name)
    if not isinstance(value, str) or not _OUT_NO_RE.fullmatch(value):
        raise _business("ACQ.INVALID_PARAMETER", f"参数有误: {name}")
    return value


def _amount(biz: dict[str, Any], name: str) -> int:
    value = biz.get(name)
    try:
        amount = yuan_to_fen(value if isinstance(value, str) else str(value))
    except ValueError:
        raise _business("ACQ.INVALID_PARAMETER", f"参数有误: {name}") from None
    if not 1 <= amount <= _MAX_AMOUNT:
        raise _business("ACQ.INVALID_PARAMETER", f"参数有误: {name} 超出范围")
    return amount


def _later(function: Any, *args: Any) -> None:
    threading.Thread(target=function, args=args, name="alipay-sandbox-notify", daemon=True).start()
