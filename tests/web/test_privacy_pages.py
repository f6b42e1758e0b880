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
