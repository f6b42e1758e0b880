"""Seller records (C1, C5, C8, C26): the verification record the platform keeps, rejection with a reason, drafts
only until verified, the marks shoppers see on cards, product pages and search, and the half-yearly report."""

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx

from app.core import clock
from app.core.clock import SHANGHAI
from app.trust import samr
from app.trust import sellers as trust_sellers
from tests import factories as f
from tests.trust.test_trading_models import _sell

RECORD = {"licence_type": "business_licence", "registered_address": "上海市徐汇区淮海中路 999 号",
          "legal_representative": "王建国", "contact_phone": "13812345678", "licence_expires_on": "2040-12-31"}
PERSON = "110101199003070011"  # check digit valid (GB 11643)


async def _sign_up(client: httpx.AsyncClient, **over: object) -> httpx.Response:
    body = {"name": "上海示例贸易有限公司", "kind": "enterprise", "licence_no": "91350100M000100Y43",
            "contact_email": "boss@example.com", **RECORD}
    body.update(over)
    return await client.post("/v1/merchants", json=body)


async def _admin_view(client: httpx.AsyncClient, merchant_id: str) -> dict[str, object]:
    items = (await client.get("/v1/admin/merchants", headers=f.ADMIN, params={"limit": 500})).json()["items"]
    return next(m for m in items if m["id"] == merchant_id)


async def test_verification_keeps_the_sellers_record_and_who_verified_it(client: httpx.AsyncClient):
    mid = (await _sign_up(client)).json()["id"]
    pending = await _admin_view(client, mid)
    assert pending["status"] == "pending" and pending["record_missing"] == []
    assert {k: pending[k] for k in RECORD} == RECORD
    v = await client.post(f"/v1/admin/merchants/{mid}/verify", headers=f.ADMIN)
    assert v.status_code == 200, v.text
    assert v.json()["verified_by"].startswith("admin") and v.json()["verified_at"]
    # The record is the platform's: the public shop profile shows none of the phone, address or ID data.
    public = (await client.get(f"/v1/merchants/{mid}")).text
    assert "13812345678" not in public and "王建国" not in public
    bare = await client.post("/v1/merchants", json={"name": "缺资料", "kind": "enterprise",
                                                     "licence_no": "91350100M000100Y43", "contact_email": "a@b.cn"})
    missing = await _admin_view(client, bare.json()["id"])
    assert missing["record_missing"] == ["registered_address", "legal_representative", "contact_phone"]
    assert missing["licence_type"] == "business_licence"  # implied by kind and a valid credit code


async def test_an_id_number_whose_check_digit_is_wrong_is_refused(client: httpx.AsyncClient):
    person = {"name": "小王的书摊", "kind": "individual", "contact_email": "w@example.com",
              "registered_address": "北京市东城区示例胡同 1 号", "contact_phone": "13900001111",
              "id_number_consent": True}
    ok = await client.post("/v1/merchants", json={**person, "licence_no": PERSON})
    assert ok.status_code == 201, ok.text
    assert (await _admin_view(client, ok.json()["id"]))["licence_type"] == "resident_id_card"
    assert (await _admin_view(client, ok.json()["id"]))["record_missing"] == []  # no legal representative needed
    for wrong in ("110101199003070012", "11010119900307001X"):  # shape right, check digit wrong
        r = await client.post("/v1/merchants", json={**person, "licence_no": wrong})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "licence_no", wrong
        assert "GB 11643" in r.json()["errors"][0]["message"]


async def test_a_wrong_licence_type_or_phone_is_refused_naming_the_field(client: httpx.AsyncClient):
    r = await _sign_up(client, licence_type="resident_id_card")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "licence_type"
    r = await _sign_up(client, contact_phone="12345")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "contact_phone"
    r = await _sign_up(client, licence_expires_on="not a date")
    assert r.status_code == 422 and "licence_expires_on" in r.text
    assert (await _sign_up(client, contact_phone="021-64381234")).status_code == 201
    listed = (await client.get("/v1/admin/merchants", headers=f.ADMIN, params={"limit": 500})).json()["items"]
    assert len(listed) == 1  # the refused sign-ups created nothing


async def test_a_pending_seller_keeps_drafts_and_cannot_put_listings_on_sale_until_verified(
        client: httpx.AsyncClient):
    m = await f.merchant(client, verify=False)
    on_sale = await client.post("/v1/products", headers=m.headers, json=f.product_body(status="active"))
    assert on_sale.status_code == 403 and "draft" in on_sale.json()["detail"]
    draft = await client.post("/v1/products", headers=m.headers, json=f.product_body(status="draft"))
    assert draft.status_code == 201, draft.text
    switch = await client.patch(f"/v1/products/{draft.json()['id']}", headers=m.headers, json={"status": "active"})
    assert switch.status_code == 403
    bulk = await client.post("/v1/products/bulk-edit", headers=m.headers,
                             json={"product_ids": [draft.json()["id"]], "status": "active"})
    assert bulk.status_code == 403, bulk.text
    mine = await client.get(f"/v1/products/{draft.json()['id']}", headers=m.headers)
    assert mine.json()["status"] == "draft"  # nothing changed
    await client.post(f"/v1/admin/merchants/{m.id}/verify", headers=f.ADMIN)
    live = await client.patch(f"/v1/products/{draft.json()['id']}", headers=m.headers, json={"status": "active"})
    assert live.status_code == 200 and live.json()["status"] == "active"
    assert [p["id"] for p in (await client.get("/v1/products")).json()["items"]] == [draft.json()["id"]]


async def test_a_rejected_seller_is_told_why_and_keeps_drafts_only(client: httpx.AsyncClient):
    mid = (await _sign_up(client)).json()
    m = f.MerchantCtx(mid["id"], mid["api_key"])
    no_reason = await client.post(f"/v1/admin/merchants/{m.id}/reject", headers=f.ADMIN, json={})
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    r = await client.post(f"/v1/admin/merchants/{m.id}/reject", headers=f.ADMIN,
                          json={"reason": "营业执照照片模糊，无法核对注册地址"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "rejected" and r.json()["status_reason"].startswith("营业执照照片模糊")
    assert r.json()["verified_by"].startswith("admin")
    refused = await client.post("/v1/products", headers=m.headers, json=f.product_body(status="active"))
    assert refused.status_code == 403 and "rejected" in refused.json()["detail"]
    assert (await client.post("/v1/products", headers=m.headers, json=f.product_body(status="draft"))
            ).status_code == 201
    queue = (await client.get("/v1/admin/merchants", headers=f.ADMIN, params={"status": "rejected"})).json()
    assert [x["id"] for x in queue["items"]] == [m.id]
    active = await f.merchant(client)
    assert (await client.post(f"/v1/admin/merchants/{active.id}/reject", headers=f.ADMIN,
                              json={"reason": "x"})).status_code == 409  # a trading seller is suspended instead
    assert (await client.post(f"/v1/admin/merchants/{m.id}/reject", json={"reason": "x"})).status_code == 401


async def test_platform_goods_and_unregistered_sellers_are_marked_on_cards_product_pages_and_search(
        client: httpx.AsyncClient):
    own = await f.merchant(client, name="流通自营旗舰店")
    r = await client.put(f"/v1/admin/merchants/{own.id}/self-operated", headers=f.ADMIN, json={"self_operated": True})
    assert r.status_code == 200 and r.json()["self_operated"] is True
    own_p = await f.product(client, own, title="自营 羽绒服 A")
    person = await client.post("/v1/merchants", json={"name": "小王的书摊", "kind": "individual",
                                                       "licence_no": PERSON, "contact_email": "w@example.com",
                                                       "id_number_consent": True})
    await client.post(f"/v1/admin/merchants/{person.json()['id']}/verify", headers=f.ADMIN)
    pm = f.MerchantCtx(person.json()["id"], person.json()["api_key"])
    person_p = await f.product(client, pm, title="个人 羽绒服 B")
    shop = await f.merchant(client, name="登记企业店")
    shop_p = await f.product(client, shop, title="企业 羽绒服 C")

    def card(page: str, product_id: str) -> str:
        start = page.index(f'href="/products/{product_id}"')
        return page[start:page.index("</li>", start)]

    for path in ("/", "/search?q=羽绒服"):
        page = (await client.get(path)).text
        assert 'data-testid="self-operated"' in card(page, own_p["id"]), path
        assert "未登记个人卖家" in card(page, person_p["id"]) and "自营" not in card(page, person_p["id"]), path
        assert "已登记商家" in card(page, shop_p["id"]) and "未登记" not in card(page, shop_p["id"]), path
    assert "未登记个人卖家" in (await client.get(f"/products/{person_p['id']}")).text
    own_page = (await client.get(f"/products/{own_p['id']}")).text
    assert 'data-testid="self-operated"' in own_page and "未登记个人卖家" not in own_page
    assert PERSON not in (await client.get(f"/products/{person_p['id']}")).text  # the ID number never shows
    assert (await client.get(f"/v1/merchants/{own.id}")).json()["self_operated"] is True


async def test_the_half_yearly_report_lists_every_seller_and_marks_those_over_the_limit(
        client: httpx.AsyncClient, app):
    over = await client.post("/v1/merchants", json={"name": "书摊一号", "kind": "individual", "licence_no": PERSON,
                                                     "contact_email": "p@example.com", "contact_phone": "13900001111",
                                                     "registered_address": "北京市东城区示例胡同 1 号",
                                                     "id_number_consent": True})
    await client.post(f"/v1/admin/merchants/{over.json()['id']}/verify", headers=f.ADMIN)
    seller = f.MerchantCtx(over.json()["id"], over.json()["api_key"])
    small = await client.post("/v1/merchants", json={"name": "小本生意", "kind": "individual",
                                                      "licence_no": "110101198501010025", "contact_email": "s@e.cn",
                                                      "id_number_consent": True})
    await client.post(f"/v1/admin/merchants/{small.json()['id']}/verify", headers=f.ADMIN)
    company = (await _sign_up(client)).json()["id"]
    await _sell(client, seller, 10_000_100)  # ¥100,001 this year
    assert await trust_sellers.flag_individual_turnover(app.state.sessionmaker, app.state.settings) == 1
    period = samr.due_period(clock.utcnow() + timedelta(days=200)).label  # a half-year that holds today
    r = await client.get("/v1/admin/reports/samr", headers=f.ADMIN, params={"period": period})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert f"samr_{period}.csv" in r.headers["content-disposition"]
    text = r.content.decode("utf-8-sig")
    sellers_part, stats_part = text.split("\r\n\r\n")
    rows = list(csv.DictReader(io.StringIO(sellers_part)))
    assert list(rows[0]) == list(samr.SELLER_COLUMNS)
    by_name = {row["经营者名称"]: row for row in rows}
    assert by_name["书摊一号"]["年交易额超过10万元"] == "是" and by_name["小本生意"]["年交易额超过10万元"] == "否"
    assert by_name["书摊一号"]["统一社会信用代码或身份证号"] == PERSON
    assert "无须办理市场主体登记" in by_name["书摊一号"]["自我声明"]
    assert by_name["书摊一号"]["网店网址"].endswith(f"/shops/{seller.id}")
    assert by_name["上海示例贸易有限公司"]["法定代表人或经营者"] == "王建国" and company
    stats = dict(csv.reader(io.StringIO(stats_part)))
    assert stats["商家总数"] == "3" and stats["未登记个人卖家"] == "2"
    assert stats["年交易额超过10万元的未登记个人卖家"] == "1" and int(stats["报告期内成交金额（分）"]) >= 10_000_100
    audit = (await client.get("/v1/admin/audit-log", headers=f.ADMIN)).json()["items"]
    assert any(a["action"] == "report.samr" and a["target_id"] == period for a in audit)
    for bad in ("2026H3", "2026", "H1"):
        bad_r = await client.get("/v1/admin/reports/samr", headers=f.ADMIN, params={"period": bad})
        assert bad_r.status_code == 422 and bad_r.json()["errors"][0]["field"] == "period", bad
    assert (await client.get("/v1/admin/reports/samr", headers=seller.headers,
                             params={"period": period})).status_code == 403


async def test_the_report_job_writes_the_file_in_january_and_july_only(client: httpx.AsyncClient, app, tmp_path):
    await f.merchant(client, name="报告期内的商家")
    settings = app.state.settings.model_copy(update={"shop_report_dir": str(tmp_path)})
    local = clock.utcnow().astimezone(SHANGHAI)
    # Travel to the 3rd of the next month that is neither January nor July, then to the next January or July.
    first = datetime(local.year + (local.month == 12), local.month % 12 + 1, 3, 12, tzinfo=SHANGHAI)
    if first.month in (1, 7):
        first = first.replace(month=first.month + 1)
    clock.travel(first.astimezone(UTC) - clock.utcnow())
    assert await samr.scheduled_report(app.state.sessionmaker, settings) == 0
    assert list(tmp_path.iterdir()) == []
    month = 7 if first.month < 7 else 1
    year = first.year + (month == 1)
    clock.travel(datetime(year, month, 2, 9, tzinfo=SHANGHAI).astimezone(UTC) - clock.utcnow())
    assert await samr.scheduled_report(app.state.sessionmaker, settings) == 1
    assert await samr.scheduled_report(app.state.sessionmaker, settings) == 0  # once per half-year
    expected = f"samr_{year - 1}H2.csv" if month == 1 else f"samr_{year}H1.csv"
    assert [p.name for p in tmp_path.iterdir()] == [expected]
    assert "报告期内的商家" in (tmp_path / expected).read_text(encoding="utf-8-sig")


async def test_a_rejected_seller_corrects_its_record_and_goes_back_to_the_queue(client: httpx.AsyncClient):
    body = (await client.post("/v1/merchants", json={"name": "待补资料", "kind": "enterprise",
                                                      "licence_no": "91350100M000100Y43",
                                                      "contact_email": "c@example.com"})).json()
    m = f.MerchantCtx(body["id"], body["api_key"])
    await client.post(f"/v1/admin/merchants/{m.id}/reject", headers=f.ADMIN, json={"reason": "缺少注册地址"})
    bad = await client.put("/v1/seller-record", headers=m.headers, json={"contact_phone": "110"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "contact_phone"
    assert (await client.put("/v1/seller-record", headers=m.headers, json={"registered_address": None})
            ).status_code == 422
    assert (await _admin_view(client, m.id))["status"] == "rejected"  # the refused corrections changed nothing
    r = await client.put("/v1/seller-record", headers=m.headers, json={
        "registered_address": "上海市徐汇区淮海中路 999 号", "legal_representative": "王建国",
        "contact_phone": "13812345678"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "pending" and r.json()["record_missing"] == []
    queue = (await client.get("/v1/admin/merchants", headers=f.ADMIN, params={"status": "pending"})).json()
    assert [x["id"] for x in queue["items"]] == [m.id]
    await client.post(f"/v1/admin/merchants/{m.id}/verify", headers=f.ADMIN)
    late = await client.put("/v1/seller-record", headers=m.headers, json={"contact_phone": "13900001111"})
    assert late.status_code == 409 and "licence-changes" in late.json()["detail"]


async def test_an_id_number_is_kept_only_with_its_own_separate_consent(client: httpx.AsyncClient):
    person = {"name": "小王的书摊", "kind": "individual", "licence_no": PERSON, "contact_email": "w@example.com"}
    refused = await client.post("/v1/merchants", json=person)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["id_number_consent"]
    assert "身份证号码" in refused.json()["errors"][0]["message"]  # the notice the person agrees to
    queue = (await client.get("/v1/admin/merchants", headers=f.ADMIN, params={"limit": 500})).json()["items"]
    assert all(m["licence_no"] != PERSON for m in queue)  # nothing of it was kept
    given = await client.post("/v1/merchants", json={**person, "id_number_consent": True})
    assert given.status_code == 201, given.text
    kept = await _admin_view(client, given.json()["id"])
    assert kept["licence_no"] == PERSON and kept["id_number_consent_version"] == "2026-12-v1"
    assert kept["id_number_consent_at"]
    # A business licence is not sensitive personal information: no such consent is asked or recorded.
    company = await client.post("/v1/merchants", json={**person, "kind": "enterprise",
                                                       "licence_no": "91350100M000100Y43"})
    assert company.status_code == 201
    assert (await _admin_view(client, company.json()["id"]))["id_number_consent_at"] is None
    # The same holds when a seller's licence changes to an ID number: the request itself keeps the number.
    seller = f.MerchantCtx(company.json()["id"], company.json()["api_key"])
    change = {"kind": "individual", "licence_no": PERSON, "note": "注销公司，转为个人经营"}
    bare = await client.post("/v1/licence-changes", headers=seller.headers, json=change)
    assert bare.status_code == 422 and [e["field"] for e in bare.json()["errors"]] == ["id_number_consent"]
    assert (await client.get("/v1/licence-changes", headers=seller.headers)).json()["items"] == []
    agreed = await client.post("/v1/licence-changes", headers=seller.headers,
                               json={**change, "id_number_consent": True})
    assert agreed.status_code == 201, agreed.text
    assert (await _admin_view(client, seller.id))["id_number_consent_at"]
