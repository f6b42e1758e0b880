"""E-invoices (COMPLIANCE C40) through the HTTP API on SQLite and PostgreSQL: the buyer's request (at checkout or
afterwards, the taxpayer number checked), tax rates per product, the merchant's blue invoice with its PDF (read back
with poppler's pdftotext), the red invoice a refund issues, both in the regulator export, and who may download."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import timedelta
from typing import Any

import httpx

from app.core import clock
from app.core.uscc import uscc_check_char
from tests import factories as f

COMPANY = "上海流通科技有限公司"
FIRST17 = "91310115MA1H3YQ2X"
TAXPAYER_ID = FIRST17 + uscc_check_char(FIRST17)
BAD_TAXPAYER_ID = FIRST17 + ("0" if TAXPAYER_ID[-1] != "0" else "1")  # one wrong check character


async def _pdftotext(pdf: bytes) -> str:
    """The PDF's text as poppler's pdftotext reads it (the Chinese must be real text, not pictures of it)."""
    proc = await asyncio.create_subprocess_exec("pdftotext", "-layout", "-", "-", stdin=asyncio.subprocess.PIPE,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate(pdf)
    assert proc.returncode == 0
    return out.decode()


async def _listing(client: httpx.AsyncClient, m: f.MerchantCtx, wh: dict[str, Any], *, title: str, price: int,
                   category: str, **extra: Any) -> dict[str, Any]:
    p = await f.product(client, m, title=title, price=price, category=category, **extra)
    await f.stock(client, m, wh, p["variants"][0]["sku"], 50)
    return p


async def _delivered(client: httpx.AsyncClient, m: f.MerchantCtx, order_id: str) -> None:
    s = await client.post(f"/v1/orders/{order_id}/shipments", headers=m.headers,
                          json={"carrier": "SF", "tracking_no": "SF1234567890123"})
    assert s.status_code == 201, s.text
    d = await client.post(f"/v1/orders/{order_id}/deliver", headers=m.headers)
    assert d.status_code == 200, d.text


async def _buy(client: httpx.AsyncClient, headers: dict[str, str], lines: list[tuple[str, int]],
               **extra: Any) -> dict[str, Any]:
    r = await client.post("/v1/checkout", headers=headers, json=f.checkout_body(lines, email=None, **extra))
    assert r.status_code == 201, r.text
    return dict(r.json()["orders"][0])


async def _export(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, dict[str, str]]:
    start, end = clock.utcnow() - timedelta(days=1), clock.utcnow() + timedelta(minutes=1)
    r = await client.get("/v1/admin/exports/transactions", headers=headers,
                         params={"from": start.isoformat(), "to": end.isoformat()})
    assert r.status_code == 200, r.text
    return {row["order_id"]: row for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig")))}


def _tax(amount: int, rate: int) -> int:
    """amount × rate / (100 + rate), to the nearest fen (half away from zero)."""
    q, r = divmod(abs(amount) * rate, 100 + rate)
    tax = q + (1 if 2 * r >= 100 + rate else 0)
    return -tax if amount < 0 else tax


async def test_a_company_invoice_with_tax_per_line_shipping_and_discount_as_a_pdf(
        client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    m = await f.merchant(client, name="流通优选旗舰店")
    wh = await f.location(client, m)
    coat = await _listing(client, m, wh, title="羊毛大衣", price=3_000, category="apparel")
    book = await _listing(client, m, wh, title="红楼梦 精装版", price=2_500, category="books-media")
    r = await client.post("/v1/promotions", headers=m.headers, json={
        "code": "TEN", "kind": "percent", "value": 10, "channels": ["online"], "starts_at": "2020-01-01T00:00:00Z",
        "ends_at": "2099-01-01T00:00:00Z"})
    assert r.status_code == 201, r.text
    shopper = await f.customer(client)
    order = await _buy(client, shopper, [(coat["variants"][0]["id"], 1), (book["variants"][0]["id"], 2)],
                       coupon_code="TEN",
                       invoice={"kind": "company", "title": COMPANY, "taxpayer_id": TAXPAYER_ID.lower()})
    assert order["discount"] == 800 and order["shipping"] > 0
    listed = (await client.get(f"/v1/orders/{order['id']}/invoices", headers=shopper)).json()
    assert listed["request"]["title"] == COMPANY and listed["request"]["taxpayer_id"] == TAXPAYER_ID
    assert listed["items"] == []

    unpaid = await client.post(f"/v1/orders/{order['id']}/invoices", headers=m.headers)
    assert unpaid.status_code == 409  # cash on delivery: invoiced once paid
    await _delivered(client, m, order["id"])
    assert (await client.post(f"/v1/orders/{order['id']}/invoices", headers=shopper)).status_code == 403
    r = await client.post(f"/v1/orders/{order['id']}/invoices", headers=m.headers)
    assert r.status_code == 201, r.text
    inv = r.json()
    assert inv["color"] == "blue" and inv["kind"] == "company" and inv["title"] == COMPANY
    assert inv["taxpayer_id"] == TAXPAYER_ID
    by_sku = {ln["sku"]: ln for ln in inv["lines"]}
    coat_line, book_line = by_sku[coat["variants"][0]["sku"]], by_sku[book["variants"][0]["sku"]]
    # The 10 % off is spread over the lines; apparel is taxed at 13 %, books at 9 %, delivery as the goods.
    assert (coat_line["amount"], coat_line["tax_rate"], coat_line["tax"]) == (2_700, 13, _tax(2_700, 13))
    assert (book_line["quantity"], book_line["amount"], book_line["tax_rate"]) == (2, 4_500, 9)
    assert book_line["tax"] == _tax(4_500, 9) == 372
    ship = by_sku["SHIPPING"]
    assert ship["amount"] == order["shipping"] and ship["tax_rate"] == 13
    assert inv["total"] == order["total"] == sum(ln["amount"] for ln in inv["lines"])
    assert inv["tax_total"] == sum(ln["tax"] for ln in inv["lines"])
    again = await client.post(f"/v1/orders/{order['id']}/invoices", headers=m.headers)
    assert again.status_code == 409

    pdf = await client.get(inv["pdf_url"], headers=shopper)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = await _pdftotext(pdf.content)
    for word in (COMPANY, TAXPAYER_ID, inv["number"], "羊毛大衣", "红楼梦 精装版", "运费", "流通优选旗舰店",
                 "13%", "9%", f"{coat_line['tax'] / 100:.2f}", f"{book_line['tax'] / 100:.2f}",
                 f"¥{inv['tax_total'] / 100:.2f}", f"¥{inv['total'] / 100:.2f}", order["number"]):
        assert word in text, word
    assert (await client.get(inv["pdf_url"], headers=m.headers)).status_code == 200

    # Nobody else gets it: another customer, another merchant, a device, nobody at all.
    stranger, other = await f.customer(client), await f.merchant(client)
    for headers in (stranger, other.headers, {}):
        assert (await client.get(inv["pdf_url"], headers=headers)).status_code in (401, 404)
    assert (await client.get(inv["pdf_url"], headers=stranger)).status_code == 404
    assert (await client.get(inv["pdf_url"], headers=other.headers)).status_code == 404

    # The merchant's numbers run on: the next invoice takes the next number.
    second = await _buy(client, shopper, [(coat["variants"][0]["id"], 1)])
    r = await client.post(f"/v1/orders/{second['id']}/invoice-request", headers=shopper,
                          json={"kind": "personal", "title": "李四"})
    assert r.status_code == 200, r.text
    await _delivered(client, m, second["id"])
    nxt = (await client.post(f"/v1/orders/{second['id']}/invoices", headers=m.headers)).json()
    assert int(nxt["number"]) == int(inv["number"]) + 1 and nxt["taxpayer_id"] is None

    rows = await _export(client, admin_headers)
    exported = json.loads(rows[order["id"]]["invoices"])
    assert [(i["number"], i["color"], i["total"], i["tax_total"]) for i in exported] == [
        (inv["number"], "blue", inv["total"], inv["tax_total"])]


async def test_a_refund_after_invoicing_issues_a_red_invoice_and_both_are_exported(
        client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    m = await f.merchant(client)
    wh = await f.location(client, m)
    tea = await _listing(client, m, wh, title="西湖龙井 明前特级", price=12_800, category="agri")
    shopper = await f.customer(client)
    order = await _buy(client, shopper, [(tea["variants"][0]["id"], 3)])
    await _delivered(client, m, order["id"])
    r = await client.post(f"/v1/orders/{order['id']}/invoice-request", headers=shopper,
                          json={"kind": "company", "title": COMPANY, "taxpayer_id": TAXPAYER_ID})
    assert r.status_code == 200, r.text
    blue = (await client.post(f"/v1/orders/{order['id']}/invoices", headers=m.headers)).json()
    assert blue["lines"] == [{"sku": tea["variants"][0]["sku"], "title": "西湖龙井 明前特级", "quantity": 3,
                              "amount": 38_400, "tax_rate": 9, "tax": _tax(38_400, 9)}]
    late = await client.post(f"/v1/orders/{order['id']}/invoice-request", headers=shopper,
                             json={"kind": "personal", "title": "李四"})
    assert late.status_code == 409  # issued: the request no longer changes

    ret = await client.post(f"/v1/orders/{order['id']}/returns", headers=shopper,
                            json={"lines": [{"variant_id": tea["variants"][0]["id"], "quantity": 1}]})
    assert ret.status_code == 201, ret.text
    refunded = ret.json()["amount"]
    assert refunded == 12_800
    listed = (await client.get(f"/v1/orders/{order['id']}/invoices", headers=shopper)).json()["items"]
    assert [i["color"] for i in listed] == ["blue", "red"]
    red = listed[1]
    assert red["original_id"] == blue["id"] and red["original_number"] == blue["number"]
    assert red["lines"] == [{"sku": tea["variants"][0]["sku"], "title": "西湖龙井 明前特级", "quantity": -1,
                             "amount": -refunded, "tax_rate": 9, "tax": -_tax(refunded, 9)}]
    assert red["total"] == -refunded and red["tax_total"] == red["lines"][0]["tax"]
    after = (await client.get(f"/v1/orders/{order['id']}", headers=shopper)).json()
    assert blue["total"] + red["total"] == after["total"] - after["refunded"]
    text = await _pdftotext((await client.get(red["pdf_url"], headers=shopper)).content)
    assert "红字" in text and blue["number"] in text and red["number"] in text and "-128.00" in text

    rows = await _export(client, admin_headers)
    exported = json.loads(rows[order["id"]]["invoices"])
    assert [(i["color"], i["number"], i["total"], i["original_number"]) for i in exported] == [
        ("blue", blue["number"], blue["total"], None), ("red", red["number"], -refunded, blue["number"])]
    assert exported[1]["lines"][0]["quantity"] == -1


async def test_a_bad_taxpayer_number_is_refused_naming_the_field(client: httpx.AsyncClient) -> None:
    shop = await f.shop(client)
    shopper = await f.customer(client)
    refused = await client.post("/v1/checkout", headers=shopper, json=f.checkout_body(
        [(shop.variant_id, 1)], email=None, invoice={"kind": "company", "title": COMPANY,
                                                     "taxpayer_id": BAD_TAXPAYER_ID}))
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["invoice.taxpayer_id"]
    assert (await client.get("/v1/orders", headers=shopper)).json()["items"] == []  # nothing was placed
    order = await _buy(client, shopper, [(shop.variant_id, 1)])
    url = f"/v1/orders/{order['id']}/invoice-request"
    for body in ({"kind": "company", "title": COMPANY, "taxpayer_id": BAD_TAXPAYER_ID},
                 {"kind": "company", "title": COMPANY}):
        r = await client.post(url, headers=shopper, json=body)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in r.json()["errors"]] == ["taxpayer_id"]
    assert (await client.get(f"/v1/orders/{order['id']}/invoices", headers=shopper)).json()["request"] is None
    assert (await client.post(url, headers=await f.customer(client), json={"kind": "personal", "title": "王五"})
            ).status_code == 404
    assert (await client.post(url, headers=shop.m.headers, json={"kind": "personal", "title": "王五"})
            ).status_code == 403
    assert (await client.post(f"/v1/orders/{order['id']}/invoices", headers=shop.m.headers)).status_code == 409


async def test_tax_rates_default_by_category_and_are_set_per_product(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    rates = {}
    for category in ("apparel", "agri", "fresh", "books-media", "services", "home"):
        p = await f.product(client, m, category=category)
        rates[category] = (p["tax_rate"], p["tax_rate_source"])
    assert rates == {"apparel": (13, "category"), "agri": (9, "category"), "fresh": (9, "category"),
                     "books-media": (9, "category"), "services": (6, "category"), "home": (13, "category")}
    p = await f.product(client, m, category="apparel", tax_rate=3)
    assert (p["tax_rate"], p["tax_rate_source"]) == (3, "product")
    r = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"tax_rate": 0})
    assert r.status_code == 200 and r.json()["tax_rate"] == 0
    r = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"tax_rate": None})
    assert r.status_code == 200 and (r.json()["tax_rate"], r.json()["tax_rate_source"]) == (13, "category")
    bad = await client.patch(f"/v1/products/{p['id']}", headers=m.headers, json={"tax_rate": 7})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "tax_rate"


async def test_cancelling_an_invoiced_order_reverses_the_whole_invoice(client: httpx.AsyncClient) -> None:
    """A wholesale buyer on terms asks for the invoice; paid, invoiced, then cancelled before shipping: the refund
    issues a red invoice for everything the blue one showed."""
    m = await f.merchant(client)
    wh = await f.location(client, m)
    await f.wholesale_product(client, m, wh, sku="RICE-5KG", category="agri")
    b = await f.buyer(client, m)
    r = await client.post("/v1/wholesale/orders", headers=b.headers, json={
        "merchant_id": m.id, "mode": "all_or_nothing", "payment": "terms",
        "lines": [{"sku": "RICE-5KG", "quantity": 50}]})
    assert r.status_code == 201, r.text
    order_id = r.json()["order"]["id"]
    asked = await client.post(f"/v1/orders/{order_id}/invoice-request", headers=b.headers,
                              json={"kind": "company", "title": COMPANY, "taxpayer_id": TAXPAYER_ID})
    assert asked.status_code == 200, asked.text
    assert (await client.post(f"/v1/orders/{order_id}/mark-paid", headers=m.headers)).status_code == 200
    blue = (await client.post(f"/v1/orders/{order_id}/invoices", headers=m.headers)).json()
    assert blue["total"] == 50 * 900 and blue["lines"][0]["tax_rate"] == 9
    assert (await client.get(blue["pdf_url"], headers=b.headers)).status_code == 200  # the buyer's own invoice
    cancelled = await client.post(f"/v1/orders/{order_id}/cancel", headers=m.headers,
                                  json={"code": "out_of_stock", "refund_now": True})  # paid: a published reason
    assert cancelled.status_code == 200, cancelled.text
    items = (await client.get(f"/v1/orders/{order_id}/invoices", headers=m.headers)).json()["items"]
    assert [(i["color"], i["total"], i["tax_total"]) for i in items] == [
        ("blue", blue["total"], blue["tax_total"]), ("red", -blue["total"], -blue["tax_total"])]
    assert items[1]["original_id"] == blue["id"] and items[1]["lines"][0]["quantity"] == -50


async def test_invoices_issued_at_once_get_distinct_running_numbers(client: httpx.AsyncClient) -> None:
    """Five orders of one shop invoiced at the same moment: five numbers, no gap, no duplicate; and the same order
    invoiced twice at once gets one invoice."""
    m = await f.merchant(client)
    wh = await f.location(client, m)
    coat = await _listing(client, m, wh, title="羊毛大衣", price=3_000, category="apparel")
    shopper = await f.customer(client)
    orders = []
    for _ in range(5):
        o = await _buy(client, shopper, [(coat["variants"][0]["id"], 1)], invoice={"kind": "personal", "title": "李四"})
        await _delivered(client, m, o["id"])
        orders.append(o)
    answers = await asyncio.gather(*(client.post(f"/v1/orders/{o['id']}/invoices", headers=m.headers)
                                     for o in orders))
    assert [a.status_code for a in answers] == [201] * 5
    numbers = sorted(int(a.json()["number"]) for a in answers)
    assert numbers == list(range(numbers[0], numbers[0] + 5))
    extra = await _buy(client, shopper, [(coat["variants"][0]["id"], 1)], invoice={"kind": "personal", "title": "李四"})
    await _delivered(client, m, extra["id"])
    twice = await asyncio.gather(*(client.post(f"/v1/orders/{extra['id']}/invoices", headers=m.headers)
                                   for _ in range(2)))
    assert sorted(a.status_code for a in twice) == [201, 409]
    assert len((await client.get(f"/v1/orders/{extra['id']}/invoices", headers=m.headers)).json()["items"]) == 1
