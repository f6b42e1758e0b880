"""Buyers: registered by a merchant, several tokens per company, credit figures, buyer price lists."""

import httpx

from tests import factories as f


async def test_buyers_tokens_and_tenancy(client: httpx.AsyncClient):
    m = await f.merchant(client)
    b = await f.buyer(client, m, credit_limit=500_000, payment_terms_days=60)
    assert b.token.startswith("byr_")
    got = await client.get(f"/v1/wholesale/buyers/{b.id}", headers=m.headers)
    assert got.status_code == 200
    assert {k: got.json()[k] for k in ("credit_limit", "credit_used", "open_credit", "payment_terms_days")} == {
        "credit_limit": 500_000, "credit_used": 0, "open_credit": 500_000, "payment_terms_days": 60}
    second = await client.post(f"/v1/wholesale/buyers/{b.id}/tokens", headers=m.headers, params={"label": "张会计"})
    assert second.status_code == 201 and second.json()["token"] != b.token
    for token in (b.token, second.json()["token"]):
        assert (await client.get("/v1/orders", headers=f.bearer(token))).status_code == 200
    assert (await client.post("/v1/wholesale/buyers", headers=b.headers, json={"name": "x"})).status_code == 403
    other = await f.merchant(client)
    assert (await client.get(f"/v1/wholesale/buyers/{b.id}", headers=other.headers)).status_code == 404
    assert (await client.post(f"/v1/wholesale/buyers/{b.id}/tokens", headers=other.headers)).status_code == 404
    listed = await client.get("/v1/wholesale/buyers", headers=m.headers)
    assert [x["id"] for x in listed.json()["items"]] == [b.id]
    assert (await client.get("/v1/wholesale/buyers", headers=other.headers)).json()["items"] == []
    for body in ({"name": ""}, {"name": "x", "credit_limit": -1}, {"name": "x", "payment_terms_days": 400},
                 {"name": "x", "credit_limit": 10**13}):
        assert (await client.post("/v1/wholesale/buyers", headers=m.headers, json=body)).status_code == 422


async def test_a_buyer_price_list_overrides_the_tiers(client: httpx.AsyncClient):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    await f.wholesale_product(client, m, wh, sku="RICE-5KG")  # tiers 1: 1000, 50: 900, 100: 800
    vip, plain = await f.buyer(client, m), await f.buyer(client, m)
    r = await client.put(f"/v1/wholesale/buyers/{vip.id}/prices", headers=m.headers, json={"prices": [
        {"sku": "RICE-5KG", "min_qty": 1, "unit_price": 850}, {"sku": "RICE-5KG", "min_qty": 200, "unit_price": 700}]})
    assert r.status_code == 200, r.text
    bad = await client.put(f"/v1/wholesale/buyers/{vip.id}/prices", headers=m.headers,
                           json={"prices": [{"sku": "NOPE", "unit_price": 1}]})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "prices.0.sku"

    async def price(b: f.BuyerCtx, qty: int) -> int:
        out = await client.post("/v1/wholesale/orders", headers=b.headers, json={
            "merchant_id": m.id, "lines": [{"sku": "RICE-5KG", "quantity": qty}]})
        assert out.status_code == 201, out.text
        return int(out.json()["lines"][0]["unit_price"])

    assert [await price(vip, 20), await price(vip, 100), await price(vip, 200)] == [850, 850, 700]
    assert [await price(plain, 20), await price(plain, 100)] == [1_000, 800]
