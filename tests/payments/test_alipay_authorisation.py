"""A merchant authorises the platform's Alipay app from the console (第三方应用授权): the link to Alipay's page,
the way back with an app_auth_code exchanged for the merchant's app_auth_token (`alipay.open.auth.token.app`,
against the local fake), the token kept encrypted, and every Alipay call for that merchant carrying it."""

from __future__ import annotations

import re
from html import unescape
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from sqlalchemy import select

from app.orders.models import Payment
from app.payments.models import PaymentAccount
from tests import factories as f
from tests.fakes.alipay_server import FakeAlipay
from tests.web.helpers import assert_good_page, csrf

SELLER = "2088000000000888"


async def _console(client: httpx.AsyncClient, s: f.Shop) -> str:
    login = (await client.get("/console/login")).text
    await client.post("/console/login", data={"csrf": csrf(login), "api_key": s.m.api_key})
    return assert_good_page(await client.get("/console/payments"))


def _authorise_at_alipay(link: str, seller: str = SELLER) -> str:
    """The merchant confirms on Alipay's page; returns where its browser is sent back (path and query)."""
    with httpx.Client(trust_env=False, timeout=10) as browser:
        shown = browser.get(link)
        assert shown.status_code == 200 and "沙箱" in shown.text and "确认授权" in shown.text
        query = dict(parse_qsl(urlsplit(link).query))
        back = browser.post(link.split("?")[0], data={**query, "seller_id": seller})
    assert back.status_code == 303
    found = urlsplit(back.headers["location"])
    return f"{found.path}?{found.query}"


def _open(url: str) -> None:
    """The buyer's browser opens Alipay's cashier (the trade exists at Alipay from then on)."""
    with httpx.Client(trust_env=False, timeout=10) as browser:
        assert browser.get(url).status_code == 200


async def _account(app: Any, merchant_id: str) -> PaymentAccount:
    async with app.state.sessionmaker() as session:
        found = await session.scalar(select(PaymentAccount).where(PaymentAccount.merchant_id == merchant_id,
                                                                  PaymentAccount.provider == "alipay"))
        assert found is not None
        return found


async def test_a_merchant_authorises_the_app_and_is_paid_with_its_own_token(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay):
    s = await f.shop(cn_client, price=10_000)
    page = await _console(cn_client, s)
    link = unescape(re.search(r'href="([^"]+)" data-testid="alipay-authorise"', page).group(1))  # type: ignore[union-attr]
    query = dict(parse_qsl(urlsplit(link).query))
    assert link.startswith(alipay.auth_url) and query["app_id"] == alipay.app_id
    assert query["redirect_uri"].endswith("/console/payments/alipay/authorised") and query["state"]

    back = _authorise_at_alipay(link)
    assert "app_auth_code=" in back
    done = assert_good_page(await cn_client.get(back))
    assert "已保存" in done and SELLER in done
    listed = (await cn_client.get("/v1/payment-accounts", headers=s.m.headers)).json()["items"]
    assert [(a["provider"], a["sub_merchant_id"], a["authorised"]) for a in listed] == [("alipay", SELLER, True)]
    [exchange] = alipay.calls_to("alipay.open.auth.token.app")
    assert exchange.biz["grant_type"] == "authorization_code"

    # Each Alipay request for this merchant carries its token: the money lands in its own account.
    r = await cn_client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], method="alipay"))
    assert r.status_code == 201, r.text
    pay_url = r.json()["payment"]["pay_url"]
    token = dict(parse_qsl(urlsplit(pay_url).query))["app_auth_token"]
    _open(pay_url)
    assert alipay.trade(r.json()["payment"]["id"]).seller_id == SELLER

    # Kept encrypted: neither the account nor the payment holds the token in clear.
    account = await _account(cn_app, s.m.id)
    assert account.auth_token and account.auth_token.startswith("sealed:") and token not in account.auth_token
    assert account.refresh_token and account.refresh_token.startswith("sealed:")
    async with cn_app.state.sessionmaker() as session:
        kept = await session.scalar(select(Payment.account).where(Payment.id == r.json()["payment"]["id"]))
    assert kept and kept.startswith("sealed:") and token not in kept

    # The same code again is refused by Alipay: nothing changes.
    again = await cn_client.get(back)
    assert again.status_code == 422 and "app_auth_code" in again.text
    assert (await _account(cn_app, s.m.id)).auth_token == account.auth_token


async def test_an_authorisation_that_is_not_this_shops_changes_nothing(
        cn_client: httpx.AsyncClient, cn_app: Any, alipay: FakeAlipay):
    s = await f.shop(cn_client)
    other = await f.shop(cn_client)
    page = await _console(cn_client, other)  # the link made for another shop's session
    link = unescape(re.search(r'href="([^"]+)" data-testid="alipay-authorise"', page).group(1))  # type: ignore[union-attr]
    back = _authorise_at_alipay(link)
    await _console(cn_client, s)  # now signed in as the first shop
    r = await cn_client.get(back)
    assert r.status_code == 400 and "state" in r.text
    code = dict(parse_qsl(urlsplit(back).query))["app_auth_code"]
    r = await cn_client.get(f"/console/payments/alipay/authorised?app_auth_code={code}&state=forged|x")
    assert r.status_code == 400
    assert not alipay.calls_to("alipay.open.auth.token.app")
    listed = (await cn_client.get("/v1/payment-accounts", headers=s.m.headers)).json()["items"]
    assert listed == []
    # Signed out, the callback is the console's login.
    cn_client.cookies.clear()
    r = await cn_client.get(back)
    assert r.status_code in (302, 303) and r.headers["location"].startswith("/console/login")
