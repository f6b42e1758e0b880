"""Invoices on the pages (C40): the checkout's invoice section (not ticked by default), the request form on the
buyer's order page, the console's order page with 开具发票 and the invoice list, downloads for the buyer and the
shop only, and the product form's VAT rate."""

from __future__ import annotations

import re
from html import unescape

import httpx

from app.core.uscc import uscc_check_char
from tests import factories as f
from tests.web.helpers import assert_good_page, csrf
from tests.web.test_console import _browser, _owner

FIRST17 = "91310115MA1H3YQ2X"
TAXPAYER_ID = FIRST17 + uscc_check_char(FIRST17)
BAD_TAXPAYER_ID = FIRST17 + ("0" if TAXPAYER_ID[-1] != "0" else "1")
ADDRESS = {"fulfilment": "delivery", "name": "李四", "phone": "13800138000", "province": "上海市", "city": "上海市",
           "district": "徐汇区", "line1": "漕溪北路 398 号", "postal_code": "200030", "payment_method": "cod"}


async def _signed_in(client: httpx.AsyncClient) -> tuple[httpx.AsyncClient, dict[str, str]]:
    """A shopper's own browser, signed in, and the same shopper's API token."""
    browser = _browser(client)
    email = f"invoice-{id(browser)}@example.com"
    token = await f.customer(client, email=email)
    login = assert_good_page(await browser.get("/account/login"))
    r = await browser.post("/account/login", data={"csrf": csrf(login), "email": email, "password": "s3cret-pass",
                                                   "next": "/"})
    assert r.status_code == 303, r.text[:500]
    return browser, token


async def _checkout_page(browser: httpx.AsyncClient, shop: f.Shop) -> str:
    page = assert_good_page(await browser.get(f"/products/{shop.product['id']}"))
    await browser.post("/cart/items", data={"csrf": csrf(page), "variant_id": shop.variant_id, "quantity": "1"})
    return assert_good_page(await browser.get("/checkout"))


def _beside(page: str, field: str) -> str:
    found = re.search(rf'data-testid="error-{field}">([^<]+)<', page)
    assert found, f"no message beside {field}"
    return unescape(found.group(1))


async def test_a_buyer_asks_at_checkout_the_shop_issues_and_the_buyer_downloads(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=5)
    browser, token = await _signed_in(client)
    page = await _checkout_page(browser, shop)
    box = re.search(r'<input type="checkbox" name="invoice" value="1"[^>]*>', page)
    assert box and "checked" not in box.group(0)  # not ticked unless the buyer asks
    assert "需要发票" in page and "纳税人识别号" in page
    company = {"invoice": "1", "invoice_kind": "company", "invoice_title": "上海流通科技有限公司"}
    r = await browser.post("/checkout", data={**ADDRESS, **company, "invoice_taxpayer_id": BAD_TAXPAYER_ID,
                                              "csrf": csrf(page)})
    assert r.status_code == 422
    assert "统一社会信用代码" in _beside(r.text, "invoice_taxpayer_id")
    assert f'value="{BAD_TAXPAYER_ID}"' in r.text and "checked" in re.search(
        r'<input type="checkbox" name="invoice"[^>]*>', r.text).group(0)  # type: ignore[union-attr]
    assert (await client.get("/v1/orders", headers=token)).json()["items"] == []
    r = await browser.post("/checkout", data={**ADDRESS, **company, "invoice_taxpayer_id": TAXPAYER_ID,
                                              "csrf": csrf(page)})
    assert r.status_code == 303, r.text[:2000]
    order_id = r.headers["location"].split("/orders/")[1].split("?")[0]
    mine = assert_good_page(await browser.get(f"/orders/{order_id}"))
    assert "已申请发票" in mine and "上海流通科技有限公司" in mine and 'data-testid="invoice-download"' not in mine

    owner = _browser(client)
    await _owner(owner, shop)
    console = assert_good_page(await owner.get(f"/console/orders/{order_id}"))
    assert "上海流通科技有限公司" in console and TAXPAYER_ID in console
    assert 'data-testid="issue-invoice"' not in console and "订单付款后可开具发票" in console  # cash on delivery
    for step in ("shipments", "deliver"):
        body = {"carrier": "SF", "tracking_no": "SF1234567890123"} if step == "shipments" else None
        assert (await client.post(f"/v1/orders/{order_id}/{step}", headers=shop.m.headers, json=body)).is_success
    console = assert_good_page(await owner.get(f"/console/orders/{order_id}"))
    assert 'data-testid="issue-invoice"' in console and "开具发票" in console
    r = await owner.post(f"/console/orders/{order_id}/invoice", data={"csrf": csrf(console)})
    assert r.status_code == 303, r.text[:2000]
    [invoice] = (await client.get(f"/v1/orders/{order_id}/invoices", headers=token)).json()["items"]
    console = assert_good_page(await owner.get(f"/console/orders/{order_id}"))
    assert invoice["number"] in console and 'data-testid="issue-invoice"' not in console and "开具发票" in console
    pdf = await owner.get(f"/console/orders/{order_id}/invoices/{invoice['id']}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    listed = assert_good_page(await owner.get("/console/invoices", params={"q": invoice["number"]}))
    assert invoice["number"] in listed and "蓝字" in listed and "上海流通科技有限公司" in listed

    mine = assert_good_page(await browser.get(f"/orders/{order_id}"))
    link = re.search(r'href="(/orders/[^"]+\.pdf)"[^>]*data-testid="invoice-download"', mine)
    assert link and invoice["number"] in mine and "下载发票" in mine and 'data-testid="invoice-form"' not in mine
    download = await browser.get(link.group(1))
    assert download.status_code == 200 and download.content == pdf.content
    stranger, _ = await _signed_in(client)
    assert (await stranger.get(link.group(1))).status_code == 404
    other_shop = _browser(client)
    await _owner(other_shop, await f.shop(client))
    assert (await other_shop.get(f"/console/orders/{order_id}/invoices/{invoice['id']}.pdf")).status_code == 404


async def test_a_buyer_asks_afterwards_on_the_order_page(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=5)
    browser, token = await _signed_in(client)
    page = await _checkout_page(browser, shop)
    r = await browser.post("/checkout", data={**ADDRESS, "csrf": csrf(page)})
    assert r.status_code == 303, r.text[:2000]
    order_id = r.headers["location"].split("/orders/")[1].split("?")[0]
    mine = assert_good_page(await browser.get(f"/orders/{order_id}"))
    assert 'data-testid="invoice-form"' in mine and "申请开具发票" in mine
    r = await browser.post(f"/orders/{order_id}/invoice", data={
        "csrf": csrf(mine), "invoice_kind": "company", "invoice_title": "某某有限公司",
        "invoice_taxpayer_id": BAD_TAXPAYER_ID})
    assert r.status_code == 422 and "统一社会信用代码" in _beside(r.text, "invoice_taxpayer_id")
    assert (await client.get(f"/v1/orders/{order_id}/invoices", headers=token)).json()["request"] is None
    r = await browser.post(f"/orders/{order_id}/invoice", data={
        "csrf": csrf(mine), "invoice_kind": "personal", "invoice_title": "李四", "invoice_taxpayer_id": ""})
    assert r.status_code == 303, r.text[:2000]
    asked = (await client.get(f"/v1/orders/{order_id}/invoices", headers=token)).json()["request"]
    assert asked["kind"] == "personal" and asked["title"] == "李四"
    mine = assert_good_page(await browser.get(f"/orders/{order_id}"))
    assert "修改发票信息" in mine and 'value="李四"' in mine


async def test_the_product_form_sets_the_vat_rate(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client)
    owner = _browser(client)
    await _owner(owner, shop)
    edit = assert_good_page(await owner.get(f"/console/catalog/products/{shop.product['id']}"))
    assert "税率" in edit and "按类目默认" in edit
    form = {"csrf": csrf(edit), "title": shop.product["title"], "category": "apparel", "description": "",
            "status": "active"}
    r = await owner.post(f"/console/catalog/products/{shop.product['id']}", data={**form, "tax_rate": "6"})
    assert r.status_code == 303, r.text[:2000]
    product = (await client.get(f"/v1/products/{shop.product['id']}")).json()
    assert (product["tax_rate"], product["tax_rate_source"]) == (6, "product")
    edit = assert_good_page(await owner.get(f"/console/catalog/products/{shop.product['id']}"))
    assert re.search(r'<option value="6" selected>6%</option>', edit)
    r = await owner.post(f"/console/catalog/products/{shop.product['id']}", data={**form, "tax_rate": "7"})
    assert r.status_code == 422
    r = await owner.post(f"/console/catalog/products/{shop.product['id']}", data={**form, "tax_rate": ""})
    assert r.status_code == 303
    product = (await client.get(f"/v1/products/{shop.product['id']}")).json()
    assert (product["tax_rate"], product["tax_rate_source"]) == (13, "category")
