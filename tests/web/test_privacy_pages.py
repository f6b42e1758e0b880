"""The storefront's sign-up form and account page for personal information (C19, C20): nothing optional is
pre-ticked, the privacy notice must be agreed, consents can be changed and the person's data downloaded."""

from __future__ import annotations

import re

import httpx

from tests.web.helpers import assert_good_page, csrf

OPTIONAL = ("marketing", "share_merchant", "share_carrier")


def _box(html: str, purpose: str) -> str:
    found = re.search(rf'<input type="checkbox"[^>]*data-testid="consent-{purpose}"[^>]*>', html)
    assert found, purpose
    return found.group(0)


async def test_the_signup_form_ticks_nothing_optional_and_needs_the_privacy_notice(client: httpx.AsyncClient):
    page = assert_good_page(await client.get("/account/login"))
    assert "隐私政策" in page and "可选" in page
    assert "required" in _box(page, "required") and "checked" not in _box(page, "required")
    for purpose in OPTIONAL:
        assert "checked" not in _box(page, purpose)
    form = {"csrf": csrf(page), "name": "赵六", "email": "zhao@example.com", "password": "s3cret-pass"}
    refused = await client.post("/account/register", data=form)
    assert refused.status_code == 422 and "请阅读并勾选同意《隐私政策》" in refused.text
    assert (await client.post("/v1/auth/token", data={"username": "zhao@example.com",
                                                      "password": "s3cret-pass"})).status_code == 401
    done = await client.post("/account/register", data=form | {"consent_required": "1"})
    assert done.status_code == 303, done.text[:2000]
    account = assert_good_page(await client.get("/account"))
    assert "我的个人信息与授权" in account
    assert "checked" in _box(account, "account") and "disabled" in _box(account, "account")
    for purpose in OPTIONAL:
        assert "checked" not in _box(account, purpose)


async def test_the_account_page_gives_and_withdraws_consents_and_downloads_the_data(client: httpx.AsyncClient):
    page = assert_good_page(await client.get("/account/login"))
    r = await client.post("/account/register", data={
        "csrf": csrf(page), "name": "钱七", "email": "qian@example.com", "password": "s3cret-pass",
        "consent_required": "1", "consent_marketing": "1"})
    assert r.status_code == 303
    account = assert_good_page(await client.get("/account"))
    assert "checked" in _box(account, "marketing") and "2026-12-v1" in account
    saved = await client.post("/account/consents", data={"csrf": csrf(account), "consent_share_carrier": "1"})
    assert saved.status_code == 303 and saved.headers["location"] == "/account?saved=1"
    account = assert_good_page(await client.get("/account?saved=1"))
    assert "撤回立即生效" in account
    assert "checked" not in _box(account, "marketing") and "checked" in _box(account, "share_carrier")
    data = await client.get("/account/data")
    assert data.status_code == 200 and data.headers["content-disposition"].startswith("attachment")
    got = data.json()
    assert got["profile"]["email"] == "qian@example.com"
    given = {c["purpose"]: c["granted"] for c in got["consents"]["items"]}
    assert given["marketing"] is False and given["share_carrier"] is True and given["account"] is True


async def test_the_checkout_page_links_the_order_terms_the_order_will_keep(client: httpx.AsyncClient):
    from app.orders import terms
    from tests import factories as f

    shop = await f.shop(client, on_hand=3)
    page = assert_good_page(await client.get(f"/products/{shop.product['id']}"))
    r = await client.post("/cart/items", data={"csrf": csrf(page), "variant_id": shop.variant_id, "quantity": "1",
                                               "next": f"/products/{shop.product['id']}"})
    assert r.status_code == 303
    checkout = assert_good_page(await client.get("/checkout"))
    link = re.search(r'data-testid="order-terms">[^<]*<a href="([^"]+)"', checkout)
    assert link and link.group(1) == f"/v1/order-terms/{terms.CURRENT}" and "《订单条款》" in checkout
    text = await client.get(link.group(1))
    assert text.status_code == 200 and "合同成立" in text.text


async def test_the_console_cancels_a_paid_order_only_with_a_published_reason(client: httpx.AsyncClient,
                                                                              fake_stripe):
    from tests import factories as f
    from tests.api.test_order_contract import _paid_order

    shop = await f.shop(client, on_hand=5, price=25_000)
    order = await _paid_order(client, fake_stripe, shop, await f.customer(client))
    login = (await client.get("/console/login")).text
    assert (await client.post("/console/login", data={"csrf": csrf(login),
                                                      "api_key": shop.m.api_key})).status_code == 303
    page = assert_good_page(await client.get(f"/console/orders/{order['id']}"))
    assert "合同已成立" in page and 'name="code" required' in page and "checked" not in page.split(
        'data-testid="cancel-refund-now"')[0].rsplit("<input", 1)[1]
    refused = await client.post(f"/console/orders/{order['id']}/cancel", data={"csrf": csrf(page), "reason": "不卖了"})
    assert refused.status_code == 409
    assert (await client.get(f"/v1/orders/{order['id']}", headers=shop.m.headers)).json()["status"] == "paid"
    done = await client.post(f"/console/orders/{order['id']}/cancel", data={
        "csrf": csrf(page), "code": "out_of_stock", "refund_now": "1", "reason": "盘亏"})
    assert done.status_code == 303, done.text[:2000]
    after = (await client.get(f"/v1/orders/{order['id']}", headers=shop.m.headers)).json()
    assert after["status"] == "cancelled" and after["seller_cancel_code"] == "out_of_stock"
