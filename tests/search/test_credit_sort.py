"""C12: results sort by the seller's credit score (API and the storefront's 信用 sort), search is never personalised
(`personalized=false` is accepted and changes nothing) and no result is an ad (`is_ad: false`; a card that were
one would say 广告). Both databases."""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.jobs import all_jobs
from app.trust import reputation
from app.web import i18n
from app.web.pages import TEMPLATES
from tests import factories as f
from tests.api.test_order_contract import _paid_order
from tests.fakes.stripe_server import FakeStripe
from tests.web.helpers import assert_good_page


async def _complaints_upheld(client: httpx.AsyncClient, admin: dict[str, str], m: f.MerchantCtx, n: int) -> None:
    """`n` complaints against the merchant upheld by the platform: 40 credit points each."""
    for _ in range(n):
        made = await client.post("/v1/complaints", json={"target_type": "merchant", "target_id": m.id,
                                                         "reason": "发货与描述不符", "contact_email": "w@example.com"})
        assert made.status_code == 201, made.text
        done = await client.post(f"/v1/admin/complaints/{made.json()['id']}/resolve", headers=admin,
                                 json={"outcome": "upheld", "note": "属实"})
        assert done.status_code == 200, done.text


async def _credit(client: httpx.AsyncClient, merchant_id: str) -> int:
    return int((await client.get(f"/v1/merchants/{merchant_id}")).json()["credit_score"])


async def _all_pages(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        r = await client.get("/v1/products", params=params | ({"cursor": cursor} if cursor else {}))
        assert r.status_code == 200, r.text
        seen += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if not cursor:
            return seen


async def test_sort_by_credit_orders_by_the_sellers_score_ties_newest_first_and_pages_through_every_match_once(
        client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    good, fair, poor = [await f.merchant(client) for _ in range(3)]
    made: dict[str, list[str]] = {good.id: [], fair.id: [], poor.id: []}
    # interleaved, so that neither creation order nor price lines them up by seller
    for i, m in enumerate([poor, good, fair, poor, good, fair, good]):
        p = await f.product(client, m, title=f"青花瓷花瓶 {i}号", skus=(f"CREDIT-VASE-{i}",), price=1000 * (7 - i))
        made[m.id].append(p["id"])
    await f.product(client, good, title="玻璃杯", skus=("CREDIT-GLASS",))  # not a match
    await _complaints_upheld(client, admin_headers, fair, 1)
    await _complaints_upheld(client, admin_headers, poor, 2)
    scores = [await _credit(client, m.id) for m in (good, fair, poor)]
    assert scores == [600, 560, 520]  # as each shop page shows it
    expected = [pid for m in (good, fair, poor) for pid in reversed(made[m.id])]  # same seller: newest first
    items = await _all_pages(client, q="花瓶", sort="credit", limit=2)
    assert [p["id"] for p in items] == expected
    assert all(p["is_ad"] is False for p in items)
    # the non-personalised option: accepted, and the same for everyone (a signed-in merchant included)
    plain = await _all_pages(client, q="花瓶", sort="credit", limit=2, personalized="false")
    assert [p["id"] for p in plain] == expected
    signed_in = await client.get("/v1/products", headers=poor.headers,
                                 params={"q": "花瓶", "sort": "credit", "limit": 10, "personalized": "false"})
    assert [p["id"] for p in signed_in.json()["items"]] == expected
    # without a query too, and the other sorts still carry is_ad
    listed = await _all_pages(client, sort="credit", limit=3)
    assert [p["id"] for p in listed if p["id"] in expected] == expected
    cheap = (await client.get("/v1/products", params={"q": "花瓶", "sort": "price_asc"})).json()["items"]
    assert [p["is_ad"] for p in cheap] == [False] * 7
    bad = await client.get("/v1/products", params={"q": "花瓶", "personalized": "maybe"})
    assert bad.status_code == 422 and "personalized" in bad.text


async def test_the_storefront_sorts_by_credit_under_its_chinese_label(
        client: httpx.AsyncClient, admin_headers: dict[str, str]) -> None:
    good, poor = await f.merchant(client), await f.merchant(client)
    await f.product(client, good, title="信用排序茶壶 好店", skus=("CREDIT-POT-G",), price=9_900)
    await f.product(client, poor, title="信用排序茶壶 差店", skus=("CREDIT-POT-P",), price=1_000)
    await _complaints_upheld(client, admin_headers, poor, 1)
    page = assert_good_page(await client.get("/search", params={"q": "信用排序茶壶", "sort": "credit"}))
    assert '<option value="credit" selected>信用</option>' in page
    assert page.index("信用排序茶壶 好店") < page.index("信用排序茶壶 差店")
    assert "广告" not in page  # nothing is a paid placement
    newest = assert_good_page(await client.get("/search", params={"q": "信用排序茶壶", "sort": "newest"}))
    assert newest.index("信用排序茶壶 差店") < newest.index("信用排序茶壶 好店")


async def test_orders_move_the_sort_once_the_scores_are_refreshed(
        client: httpx.AsyncClient, app: Any, fake_stripe: FakeStripe) -> None:
    steady = await f.shop(client, on_hand=5, price=25_000)
    cancelling = await f.shop(client, on_hand=5, price=25_000)
    order = await _paid_order(client, fake_stripe, cancelling, await f.customer(client))
    r = await client.post(f"/v1/orders/{order['id']}/cancel", headers=cancelling.m.headers,
                          json={"code": "out_of_stock", "refund_now": True, "reason": "仓库盘亏"})
    assert r.status_code == 200, r.text
    assert await _credit(client, cancelling.m.id) == 570 and await _credit(client, steady.m.id) == 600
    # what the hourly `refresh_credit_scores` job does in `shop serve`
    assert any(job.run is reputation.refresh_credit_scores for job in all_jobs())
    assert await reputation.refresh_credit_scores(app.state.sessionmaker, app.state.settings) == 1
    assert await reputation.refresh_credit_scores(app.state.sessionmaker, app.state.settings) == 0
    ids = [p["id"] for p in await _all_pages(client, sort="credit", limit=50)]
    assert ids.index(steady.product["id"]) < ids.index(cancelling.product["id"])


def test_a_paid_placement_card_says_guanggao_and_an_ordinary_one_does_not() -> None:
    card = {"id": "prd_1", "title": "青花瓷花瓶", "merchant_id": "mer_1", "seller": "景德镇瓷器店", "price_min": 12_800,
            "price_max": 12_800, "currency": "CNY", "picture": None, "rating": None, "in_stock": True,
            "registration": "registered", "self_operated": False}

    def render(**over: Any) -> str:
        return TEMPLATES.env.get_template("_products.html").render(
            products=[card | over], pages=1, lang="zh", t=lambda key, **kw: i18n.translate("zh", key, **kw))

    ad = render(is_ad=True)
    assert re.search(r'<span class="tag ad" data-testid="ad-label">广告</span>', ad)
    assert "广告" not in render(is_ad=False)
