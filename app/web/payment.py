"""The storefront's side of Alipay and WeChat Pay: where the buyer goes after placing an order (the provider's
page on a phone or for Alipay, the order page with a WeChat Pay QR code on a desktop), the pay page of a checkout
across merchants (each merchant's payment one after another, each turning paid as it lands), the QR code itself
(inline SVG, no image service), the order's state for the page to poll, and the way back from Alipay's cashier."""

from __future__ import annotations

import base64
import json
import re
import secrets
from typing import Any
from urllib.parse import urlencode

import segno
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from starlette.responses import Response

from app.config import Settings
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import NotFound
from app.merchants.models import Merchant
from app.orders.models import Order, Payment
from app.orders.views import OrderView
from app.payments.sandbox.run import wechat_pay_page
from app.web import i18n
from app.web.pages import lang_of, read_cookie, redirect, render, set_cookie

router = APIRouter()

WECHAT_CODE = "wxcode"  # the WeChat Pay code_url of the browser's last checkout (signed cookie)
WECHAT_JSAPI = "wxjsapi"  # the JSAPI parameters of the browser's last checkout inside WeChat (signed cookie)
WECHAT_OPENID = "wxopenid"  # the buyer's openid from the platform's OAuth step (signed cookie)
_OPENID_STATE = "wxstate"  # the OAuth step's state, for this browser only (signed cookie)
_OPENID = re.compile(r"[A-Za-z0-9_-]{6,128}")
SANDBOXED = frozenset({"alipay", "wechatpay"})


def in_wechat(request: Request) -> bool:
    """The page is open in WeChat's own browser (where WeChat Pay is paid by JSAPI)."""
    return "MicroMessenger" in (request.headers.get("user-agent") or "")


def openid_of(request: Request) -> str | None:
    """The openid the OAuth step gave this browser, inside WeChat only."""
    return read_cookie(request, WECHAT_OPENID) if in_wechat(request) else None


def openid_step(request: Request, settings: Settings, back: str) -> Response | None:
    """Inside WeChat, with the OAuth step configured (`WECHATPAY_OAUTH_URL`) and the buyer's openid not yet known:
    send the buyer there (it comes back to `/wechat/openid` with the openid and our state). None otherwise."""
    if not (in_wechat(request) and settings.wechatpay_oauth_url and settings.wechatpay_appid) or openid_of(request):
        return None
    state = secrets.token_urlsafe(16)
    comeback = settings.shop_public_url.rstrip("/") + "/wechat/openid?" + urlencode({"next": back})
    query = urlencode({"appid": settings.wechatpay_appid, "redirect_uri": comeback, "state": state})
    sep = "&" if "?" in settings.wechatpay_oauth_url else "?"
    response = redirect(f"{settings.wechatpay_oauth_url}{sep}{query}")
    set_cookie(response, request, _OPENID_STATE, state, max_age=600)
    return response


@router.get("/wechat/openid")
async def openid_back(request: Request, openid: str = "", state: str = "", next: str = "/checkout") -> Response:
    """Back from the OAuth step with the buyer's openid: kept for this browser when the state is the one this
    browser was sent with; on to `next` (a path of this site)."""
    expected = read_cookie(request, _OPENID_STATE)
    if not expected or not secrets.compare_digest(expected, state[:64]) or not _OPENID.fullmatch(openid):
        return render(request, "error.html", {"messages": [i18n.translate(lang_of(request), "wechat_oauth_failed")],
                                              "status": 400}, status=400)
    response = redirect(next if next.startswith("/") and not next.startswith("//") else "/checkout")
    set_cookie(response, request, WECHAT_OPENID, openid, max_age=3600)
    response.delete_cookie(_OPENID_STATE, path="/")
    return response


def after_checkout(request: Request, response: Response, out: dict[str, Any]) -> Response:
    """Send the buyer on to pay: to the provider's page when it has one (Alipay's cashier, WeChat Pay's H5 page);
    a WeChat Pay QR code is shown on the order page `response` leads to. A checkout with a payment per merchant
    goes to its pay page, unless one step pays them all (WeChat Pay's combined H5 page)."""
    payment = out.get("payment") or {}
    if payment.get("jsapi"):  # paid in the page, through WeChat's JS bridge
        packed = base64.urlsafe_b64encode(json.dumps(payment["jsapi"]).encode()).decode()  # cookie-safe
        set_cookie(response, request, WECHAT_JSAPI, packed, max_age=3600)
    if len(out.get("payments") or []) > 1:
        if payment.get("combined") and payment.get("h5_url"):
            response.headers["location"] = str(payment["h5_url"])
        else:
            response.headers["location"] = f"/orders/{out['orders'][0]['id']}/pay"
        return response
    url = payment.get("pay_url") or payment.get("h5_url")
    if payment.get("code_url"):
        set_cookie(response, request, WECHAT_CODE, str(payment["code_url"]), max_age=3600)
    if url:
        response.headers["location"] = str(url)
    return response


def qr_svg(text: str) -> str:
    """`text` as a QR code, an inline SVG that scales with its box (a title for screen readers)."""
    svg: str = segno.make(text, error="m").svg_inline(scale=1, border=2, omitsize=True, svgclass="qr",
                                                     title="QR")
    return svg


def order_payment(request: Request, order: OrderView, settings: Settings) -> dict[str, Any]:
    """What the order page shows about paying: the WeChat Pay QR code while the order waits for it, whether it is
    the sandbox (and then its pay page), and whether the page polls until the payment lands."""
    waiting = order["status"] == "pending_payment"
    sandbox = settings.shop_payments_sandbox and order["payment_method"] in SANDBOXED
    context: dict[str, Any] = {"poll": waiting, "sandbox": sandbox, "qr": None, "sandbox_pay": None, "jsapi": None}
    if waiting and order["payment_method"] == "wechatpay" and in_wechat(request):
        packed = read_cookie(request, WECHAT_JSAPI)
        context["jsapi"] = base64.urlsafe_b64decode(packed.encode()).decode() if packed else None
    code = read_cookie(request, WECHAT_CODE) if waiting and order["payment_method"] == "wechatpay" else None
    if code:
        context["qr"] = qr_svg(code)
        if sandbox:
            context["sandbox_pay"] = wechat_pay_page(settings.wechatpay_api_base, code)
    return context


@router.get("/orders/{order_id}/state")
async def order_state(request: Request, order_id: str, session: SessionDep) -> JSONResponse:
    """The order's status for its page to poll while it waits for the payment (this browser's orders only)."""
    if order_id not in (read_cookie(request, "orders") or "").split(","):
        raise NotFound("order", order_id)
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("order", order_id)
    lang = lang_of(request)
    return JSONResponse({"status": order.status, "payment_status": order.payment_status,
                         "status_text": i18n.translate(lang, order.status),
                         "payment_status_text": i18n.translate(lang, order.payment_status)},
                        headers={"Cache-Control": "no-store"})


@router.get("/payments/return")
async def payment_return(request: Request, payment_id: str, session: SessionDep) -> Response:
    """Back from a provider's cashier: to this browser's order paid by `payment_id` (else its order list), or to
    its checkout's pay page when the checkout has other merchants' payments still to make."""
    known = [i for i in (read_cookie(request, "orders") or "").split(",") if i]
    found = (await session.execute(select(Order.id, Order.checkout_id).where(
        Order.payment_id == payment_id, Order.id.in_(known)).order_by(Order.id).limit(1))).first() if known else None
    if found is None:
        return redirect("/account")
    shares = await session.scalar(select(Payment.id).where(Payment.checkout_id == found.checkout_id,
                                                           Payment.id != payment_id).limit(1))
    return redirect(f"/orders/{found.id}/pay" if shares else f"/orders/{found.id}")


@router.get("/orders/{order_id}/pay")
async def pay_page(request: Request, order_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    """The pay page of a checkout across merchants (the checkout of `order_id`): each merchant's payment one after
    another (Alipay: its own cashier link; WeChat Pay: one QR code for the combined payment), each turning paid as
    it lands. This browser's orders only."""
    known = [i for i in (read_cookie(request, "orders") or "").split(",") if i]
    checkout_id = await session.scalar(select(Order.checkout_id).where(Order.id == order_id,
                                                                       Order.id.in_(known))) if known else None
    if checkout_id is None:
        raise NotFound("order", order_id)
    rows = (await session.execute(
        select(Order, Payment, Merchant.name).join(Payment, Payment.id == Order.payment_id)
        .join(Merchant, Merchant.id == Order.merchant_id)
        .where(Order.checkout_id == checkout_id, Order.id.in_(known)).order_by(Order.merchant_id))).all()
    if not rows:
        raise NotFound("order", order_id)
    sandbox = settings.shop_payments_sandbox and rows[0].Payment.provider in SANDBOXED
    shares: list[dict[str, Any]] = []
    combined: dict[str, Any] | None = None
    for order, payment, merchant_name in rows:
        client = payment.client or {}
        waiting = order.status == "pending_payment"
        shares.append({"order": order, "payment": payment, "merchant": merchant_name, "waiting": waiting,
                       "pay_url": client.get("pay_url") if waiting else None})
        if client.get("jsapi") and combined is None and waiting:
            combined = {"jsapi": json.dumps(client["jsapi"])}
        elif client.get("code_url") and combined is None and waiting:
            combined = {"qr": qr_svg(str(client["code_url"])),
                        "sandbox_pay": wechat_pay_page(settings.wechatpay_api_base, str(client["code_url"]))
                        if sandbox else None}
    total = sum(s["order"].total for s in shares)
    return render(request, "pay.html", {"shares": shares, "combined": combined, "sandbox": sandbox,
                                        "provider": rows[0].Payment.provider, "total": total,
                                        "currency": rows[0].Order.currency,
                                        "waiting": any(s["waiting"] for s in shares)})
