from datetime import timedelta

import httpx

from app.core import clock
from tests import factories as f


async def test_takedown_hides_the_listing_everywhere_and_is_published(client: httpx.AsyncClient, admin_headers):
    s = await f.shop(client, on_hand=5)
    title = s.product["title"]
    cart = (await client.post("/v1/carts")).json()
    await client.post(f"/v1/carts/{cart['id']}/items", json={"variant_id": s.variant_id, "quantity": 1})
    assert (await client.post(f"/v1/admin/products/{s.product['id']}/takedown", headers=s.m.headers,
                              json={"reason": "x"})).status_code == 403
    r = await client.post(f"/v1/admin/products/{s.product['id']}/takedown", headers=admin_headers,
                          json={"reason": "假冒注册商标 (counterfeit trademark)"})
    assert r.status_code == 200, r.text
    assert r.json()["action"] == "takedown" and r.json()["target_id"] == s.product["id"]
    # Gone from the page, the listing and search at once.
    assert (await client.get(f"/v1/products/{s.product['id']}")).status_code == 404
    assert (await client.get("/v1/products", params={"merchant_id": s.m.id})).json()["items"] == []
    assert (await client.get("/v1/products", params={"q": "羽绒"})).json()["items"] == []
    # Not purchasable, not even from a cart filled before the takedown.
    old_cart = await client.post("/v1/checkout", json={"cart_id": cart["id"], "email": "g@example.com",
                                                       "fulfilment": f.delivery(), "payment_method": "cod"})
    assert old_cart.status_code == 422
    assert old_cart.json()["errors"][0]["field"] == "cart_id.0.variant_id"
    direct = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]))
    assert direct.status_code == 422
    # Public enforcement list names the shop, the listing, the measure and the reason.
    public = (await client.get("/v1/enforcement")).json()["items"]
    shop_name = (await client.get(f"/v1/merchants/{s.m.id}")).json()["name"]
    assert [(e["shop_name"], e["target_title"], e["action"], e["reason"]) for e in public] == [
        (shop_name, title, "takedown", "假冒注册商标 (counterfeit trademark)")]
    assert public[0]["merchant_id"] == s.m.id
    # The merchant sees it as taken down and cannot put it back.
    own = await client.get(f"/v1/products/{s.product['id']}", headers=s.m.headers)
    assert own.json()["status"] == "taken_down"
    back = await client.patch(f"/v1/products/{s.product['id']}", headers=s.m.headers, json={"status": "active"})
    assert back.status_code == 409
    assert (await client.post(f"/v1/admin/products/{s.product['id']}/takedown", headers=admin_headers,
                              json={"reason": "again"})).status_code == 409
    # It counts against the merchant's credit, and the admin action is on record with before/after.
    assert (await client.get(f"/v1/merchants/{s.m.id}")).json()["credit_score"] == 600 - 80
    log = (await client.get("/v1/admin/audit-log", headers=admin_headers)).json()["items"]
    entry = next(e for e in log if e["action"] == "product.takedown")
    assert entry["target_id"] == s.product["id"] and entry["before"]["status"] == "active"
    assert entry["after"]["status"] == "taken_down" and entry["actor"].startswith("admin")


async def test_takedown_of_unknown_product_is_404(client: httpx.AsyncClient, admin_headers):
    r = await client.post("/v1/admin/products/prd_nope/takedown", headers=admin_headers, json={"reason": "x"})
    assert r.status_code == 404
    empty = await client.post("/v1/admin/products/prd_nope/takedown", headers=admin_headers, json={"reason": ""})
    assert empty.status_code == 422


async def test_warnings_drop_off_the_public_list_when_they_expire(client: httpx.AsyncClient, admin_headers):
    m = await f.merchant(client)
    ends = (clock.utcnow() + timedelta(days=30)).isoformat()
    r = await client.post("/v1/admin/enforcement/warnings", headers=admin_headers,
                          json={"merchant_id": m.id, "reason": "虚假宣传 false advertising", "ends_at": ends})
    assert r.status_code == 201, r.text
    assert [e["action"] for e in (await client.get("/v1/enforcement")).json()["items"]] == ["warning"]
    clock.travel(timedelta(days=30, seconds=1))
    assert (await client.get("/v1/enforcement")).json()["items"] == []
    past = await client.post("/v1/admin/enforcement/warnings", headers=admin_headers,
                             json={"merchant_id": m.id, "reason": "x", "ends_at": ends})
    assert past.status_code == 409


async def test_enforcement_list_is_paginated(client: httpx.AsyncClient, admin_headers):
    s = await f.shop(client)
    ids = []
    for _ in range(3):
        p = await f.product(client, s.m)
        await client.post(f"/v1/admin/products/{p['id']}/takedown", headers=admin_headers, json={"reason": "r"})
        ids.append(p["id"])
    first = (await client.get("/v1/enforcement", params={"limit": 2})).json()
    second = (await client.get("/v1/enforcement", params={"limit": 2, "cursor": first["next_cursor"]})).json()
    assert [e["target_id"] for e in first["items"] + second["items"]] == ids[::-1]
    assert second["next_cursor"] is None


async def test_a_suspension_hides_everything_at_once_and_is_published_until_it_ends(client: httpx.AsyncClient,
                                                                                     admin_headers):
    s = await f.shop(client, on_hand=5)
    cart = (await client.post("/v1/carts")).json()
    await client.post(f"/v1/carts/{cart['id']}/items", json={"variant_id": s.variant_id, "quantity": 1})
    ends = clock.utcnow() + timedelta(days=7)
    r = await client.post(f"/v1/admin/merchants/{s.m.id}/suspend", headers=admin_headers,
                          json={"reason": "销售假冒商品", "ends_at": ends.isoformat()})
    assert r.status_code == 200 and r.json()["status"] == "suspended"
    assert (await client.get(f"/v1/products/{s.product['id']}")).status_code == 404
    assert (await client.get(f"/v1/merchants/{s.m.id}")).status_code == 404
    checkout = await client.post("/v1/checkout", json={"cart_id": cart["id"], "email": "g@example.com",
                                                       "fulfilment": f.delivery(), "payment_method": "cod"})
    assert checkout.status_code == 422
    public = (await client.get("/v1/enforcement")).json()["items"]
    assert [(e["action"], e["merchant_id"], e["reason"]) for e in public] == [("suspension", s.m.id, "销售假冒商品")]
    clock.travel(timedelta(days=7, seconds=1))
    assert (await client.get("/v1/enforcement")).json()["items"] == []
    past = await client.post(f"/v1/admin/merchants/{s.m.id}/suspend", headers=admin_headers,
                             json={"ends_at": (clock.utcnow() - timedelta(days=1)).isoformat()})
    assert past.status_code == 422 and past.json()["errors"][0]["field"] == "ends_at"
    # Reinstatement is a fresh verification.
    assert (await client.post(f"/v1/admin/merchants/{s.m.id}/verify", headers=admin_headers)).status_code == 200
    assert (await client.get(f"/v1/products/{s.product['id']}")).status_code == 200
