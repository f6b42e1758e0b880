import httpx
from sqlalchemy import select

from app.core.models import OutboxEvent
from app.trust import sellers as trust_sellers
from tests import factories as f
from tests.trust.helpers import order_for, ship_and_deliver

PERSON = "110101199003070011"


async def _individual(client: httpx.AsyncClient, name: str, licence: str = PERSON) -> f.MerchantCtx:
    r = await client.post("/v1/merchants", json={"name": name, "kind": "individual", "licence_no": licence,
                                                  "contact_email": "p@example.com", "id_number_consent": True})
    assert r.status_code == 201, r.text
    await client.post(f"/v1/admin/merchants/{r.json()['id']}/verify", headers=f.ADMIN)
    return f.MerchantCtx(r.json()["id"], r.json()["api_key"])


async def test_the_platform_publishes_its_models_and_sellers_choose_one(client: httpx.AsyncClient):
    platform = (await client.get("/v1/platform")).json()
    assert [m["code"] for m in platform["trading_models"]] == [
        "b2c_mall", "b2c_single_store", "b2b_marketplace", "b2b_own", "c2c"]
    assert platform["trading_models"][4]["name_zh"] == "C2C 网上个人交易市场"
    company = await f.merchant(client)
    r = await client.put("/v1/seller-profile", headers=company.headers, json={"trading_model": "b2b_marketplace"})
    assert r.status_code == 200 and r.json()["trading_model"] == "b2b_marketplace"
    assert (await client.get(f"/v1/merchants/{company.id}")).json()["trading_model"] == "b2b_marketplace"
    c2c = await client.put("/v1/seller-profile", headers=company.headers, json={"trading_model": "c2c"})
    assert c2c.status_code == 422 and c2c.json()["errors"][0]["field"] == "trading_model"
    declared = await client.put("/v1/seller-profile", headers=company.headers,
                                json={"trading_model": "b2c_mall", "self_declaration": "sporadic_small"})
    assert declared.status_code == 422 and declared.json()["errors"][0]["field"] == "self_declaration"
    assert (await client.put("/v1/seller-profile", json={"trading_model": "c2c"})).status_code == 401


async def test_individuals_trade_c2c_with_their_declaration_and_badge(client: httpx.AsyncClient):
    person = await _individual(client, "阿婆自产茶叶")
    b2c = await client.put("/v1/seller-profile", headers=person.headers, json={"trading_model": "b2c_mall"})
    assert b2c.status_code == 422
    ok = await client.put("/v1/seller-profile", headers=person.headers,
                          json={"trading_model": "c2c", "self_declaration": "own_farm_produce"})
    assert ok.status_code == 200
    profile = (await client.get(f"/v1/merchants/{person.id}")).json()
    assert profile["trading_model"] == "c2c" and profile["registration_type"] == "unregistered"
    assert "未登记" in profile["badge"] and "自产农副产品" in profile["self_declaration"]
    registered = await f.merchant(client)
    assert (await client.get(f"/v1/merchants/{registered.id}")).json()["badge"] is None


async def test_disabled_models_are_refused(db_url: str, fake_stripe):
    from app.main import create_app
    from tests.conftest import make_settings

    application = create_app(make_settings(db_url, shop_trading_models="b2c_mall,c2c"))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://t") as c:
            m = await f.merchant(c)
            r = await c.put("/v1/seller-profile", headers=m.headers, json={"trading_model": "b2b_own"})
            assert r.status_code == 422 and "does not run" in r.json()["errors"][0]["message"]
            assert [x["code"] for x in (await c.get("/v1/platform")).json()["trading_models"]] == ["b2c_mall", "c2c"]
    finally:
        await application.state.engine.dispose()


async def _sell(client: httpx.AsyncClient, seller: f.MerchantCtx, price: int) -> None:
    wh = await f.location(client, seller)
    p = await f.product(client, seller, price=price, category="books-media")
    await f.stock(client, seller, wh, p["variants"][0]["sku"], 1)
    shop = f.Shop(seller, wh, wh, p)
    buyer = await f.customer(client)
    order = await order_for(client, shop, buyer)
    await ship_and_deliver(client, shop, order["id"])
    done = await client.post(f"/v1/orders/{order['id']}/complete", headers=buyer)
    assert done.status_code == 200, done.text


async def test_one_persons_yearly_sales_across_shops_are_flagged_over_100k(client: httpx.AsyncClient, app,
                                                                          admin_headers):
    first = await _individual(client, "书摊一号")
    second = await _individual(client, "书摊二号")
    other = await _individual(client, "别人的店", licence="110101198501010025")
    await _sell(client, first, 6_000_000)  # ¥60,000
    await _sell(client, other, 9_000_000)  # someone else: not added to this person
    factory, settings = app.state.sessionmaker, app.state.settings
    assert await trust_sellers.flag_individual_turnover(factory, settings) == 0
    await _sell(client, second, 4_000_100)  # ¥40,001: together ¥100,001
    assert await trust_sellers.flag_individual_turnover(factory, settings) == 2
    assert await trust_sellers.flag_individual_turnover(factory, settings) == 0  # once a year
    flagged = (await client.get("/v1/admin/sellers-over-threshold", headers=admin_headers)).json()["items"]
    assert sorted(x["merchant_id"] for x in flagged) == sorted([first.id, second.id])
    assert {x["person_yearly_sales"] for x in flagged} == {10_000_100}
    async with factory() as s:
        reminders = (await s.scalars(select(OutboxEvent).where(OutboxEvent.kind == "seller.over_threshold"))).all()
    assert len(reminders) == 1 and sorted(reminders[0].payload["merchant_ids"]) == sorted([first.id, second.id])
