"""The platform's disclosures on every page (C6, C36) and its own pages (C7, C18), through real HTTP: the footer
shows the ICP number from the settings, the licence, rules, credit-rules and complaint links and the contact;
those pages exist in Chinese; packing slips show only what delivery needs (C41)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from app.main import create_app
from app.trust import credit
from tests import factories as f
from tests.conftest import make_settings
from tests.web.helpers import assert_good_page, csrf
from tests.web.test_console import _browser, _delivery_order, _owner, _pdftotext, _staff
from tests.web.test_pages import _buy_pickup

ICP = "京ICP备12345678号-2"
PHONE = "400-820-8820"


@pytest.fixture
async def configured(db_url: str, fake_stripe: object) -> AsyncIterator[httpx.AsyncClient]:
    """The app with the operator's own ICP number and phone (not the demo placeholder)."""
    application = create_app(make_settings(db_url, shop_platform_icp_no=ICP, shop_platform_phone=PHONE))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver",
                                     timeout=60) as c:
            yield c
    finally:
        await application.state.engine.dispose()


def _footer(html: str) -> str:
    assert html.count('data-testid="site-footer"') == 1, "one footer per page"
    return html.split('data-testid="site-footer"')[1].split("</footer>")[0]


async def test_every_page_footer_shows_the_configured_icp_number_and_links_to_real_pages(
        configured: httpx.AsyncClient) -> None:
    client = configured
    shop = await f.shop(client, on_hand=5, store_on_hand=3)
    order_id = await _buy_pickup(client, shop)
    await _owner(client, shop)
    pages = ["/", "/search?q=羽绒", f"/products/{shop.product['id']}", f"/shops/{shop.m.id}", "/cart",
             f"/orders/{order_id}", "/legal/licence", "/legal/rules", "/legal/credit-score-v1", "/legal/complaints",
             "/console/", "/console/orders", "/leader/login"]
    links: set[str] = set()
    for path in pages:
        page = assert_good_page(await client.get(path))
        foot = _footer(page)
        assert ICP in foot and "沪ICP备00000000号-1" not in page, path  # from the setting, not the template
        for testid, href in (("licence-link", "/legal/licence"), ("rules-link", "/legal/rules"),
                             ("credit-link", "/legal/credit-score-v1"), ("complaints-link", "/legal/complaints")):
            assert f'href="{href}" data-testid="{testid}"' in foot, (path, testid)
            links.add(href)
        assert PHONE in foot and "投诉举报" in foot, path
    for href in sorted(links):
        page = assert_good_page(await client.get(href))
        assert re.search(r"<h1>[^<]*[\u4e00-\u9fff]", page), href  # a real page with a Chinese heading
    licence = assert_good_page(await client.get("/legal/licence"))
    assert ICP in licence.split('data-testid="licence-table"')[1] and "统一社会信用代码" in licence
    assert (await client.get("/v1/platform")).json()["icp_no"] == ICP


async def test_the_credit_rules_page_publishes_the_formula_the_scores_use(client: httpx.AsyncClient) -> None:
    page = assert_good_page(await client.get(f"/legal/credit-score-{credit.FORMULA_VERSION}"))
    assert "商家信用评价规则" in page and f"{credit.BASE} 分" in page
    formula = page.split('data-testid="credit-formula">')[1].split("</pre>")[0]
    assert formula.startswith(f"score = {credit.BASE}") and "clamped to 0 … 1000" in formula
    for term in ("已完成订单", "发货时效", "退货率", "成立的投诉", "被平台下架的商品"):
        assert term in page
    m = await f.merchant(client)
    profile = (await client.get(f"/v1/merchants/{m.id}")).json()
    assert profile["platform"]["credit_rules_url"] == f"/legal/credit-score-{profile['credit_formula']}"
    rules = assert_good_page(await client.get("/legal/rules"))
    assert "平台服务协议与交易规则" in rules and "第一条" in rules and "七日" in rules


async def test_a_shopper_files_a_complaint_from_the_link_on_every_page(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client)
    home = assert_good_page(await client.get("/"))
    assert 'href="/legal/complaints"' in _footer(home)
    page = assert_good_page(await client.get("/legal/complaints"))
    assert "七个工作日" in page
    empty = await client.post("/legal/complaints", data={"csrf": csrf(page), "target_type": "product",
                                                         "target_id": shop.product["id"], "reason": ""})
    assert empty.status_code == 422 and "reason" in empty.text
    r = await client.post("/legal/complaints", data={
        "csrf": csrf(page), "target_type": "product", "target_id": shop.product["id"],
        "reason": "图片与实物不符", "contact_email": "buyer@example.com"})
    assert r.status_code == 200, r.text[:2000]
    assert "投诉已提交" in r.text
    queue = (await client.get("/v1/admin/complaints", headers=f.ADMIN)).json()["items"]
    assert [(c["target_id"], c["reason"]) for c in queue] == [(shop.product["id"], "图片与实物不符")]
    forged = await client.post("/legal/complaints", data={"csrf": "nope", "target_type": "product",
                                                          "target_id": shop.product["id"], "reason": "x"})
    assert forged.status_code == 403


async def test_packing_slips_show_a_masked_phone_and_no_full_number(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client, on_hand=10)
    order = await _delivery_order(client, shop, phone="13812345678", name="李四")
    await client.post(f"/v1/orders/{order['id']}/shipments", headers=shop.m.headers,
                      json={"carrier": "SF", "tracking_no": "SF1234567890123"})
    owner = _browser(client)
    await _owner(owner, shop)
    warehouse = await _staff(client, owner, "warehouse")
    page = assert_good_page(await warehouse.get("/console/shipping"))
    pdf = await warehouse.post("/console/shipping/slips", data={"csrf": csrf(page), "order_id": [order["id"]]})
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    words = await _pdftotext(pdf.content)
    assert "李四" in words and "138****5678" in words and "淮海中路" in words
    assert "13812345678" not in words and "buyer@example.com" not in words


async def test_the_owner_answers_a_rules_change_in_the_console(client: httpx.AsyncClient) -> None:
    from datetime import timedelta

    from app.core import clock

    r = await client.post("/v1/admin/rules", headers=f.ADMIN, json={
        "version": "2027.3", "title": "交易规则修订", "body": "第一条 新条款。", "summary": "运费规则调整",
        "effective_at": (clock.utcnow() + timedelta(days=10)).isoformat()})
    assert r.status_code == 201, r.text
    shop = await f.shop(client)
    owner = _browser(client)
    await _owner(owner, shop)
    manager = await _staff(client, owner, "manager")
    assert 'data-testid="rules-coming"' not in assert_good_page(await manager.get("/console/"))
    page = assert_good_page(await owner.get("/console/"))
    coming = page.split('data-testid="rules-coming"')[1].split("</section>")[0]
    assert "交易规则修订（2027.3）" in coming and "运费规则调整" in coming
    assert (await manager.post("/console/rules/2027.3", data={"csrf": csrf(page), "decision": "refuse"})
            ).status_code == 403
    bad = await owner.post("/console/rules/2027.3", data={"csrf": csrf(page), "decision": "maybe"})
    assert bad.status_code == 422
    done = await owner.post("/console/rules/2027.3", data={"csrf": csrf(page), "decision": "refuse"})
    assert done.status_code == 303
    after = assert_good_page(await owner.get(done.headers["location"]))
    assert "按原规则退出" in after and 'data-testid="rules-coming"' not in after
    answers = (await client.get("/v1/admin/rules/versions/2027.3/decisions", headers=f.ADMIN)).json()["items"]
    assert [(a["merchant_id"], a["decision"]) for a in answers] == [(shop.m.id, "refuse")]
    audit = (await client.get("/v1/admin/audit-log", headers=f.ADMIN, params={"merchant_id": shop.m.id})).json()
    assert any(a["action"] == "console.rules.answer" for a in audit["items"])
