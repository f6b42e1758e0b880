import httpx
from sqlalchemy import select

from app.orders.models import Order
from tests import factories as f


async def test_cod_checkout_reserves_and_snapshots_prices(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10, price=4_950)
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)]),
                          headers={"Idempotency-Key": "k1"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["payment"] is None and len(body["orders"]) == 1
    o = body["orders"][0]
    assert o["channel"] == "retail" and o["status"] == "confirmed" and o["payment_method"] == "cod"
    assert o["lines"][0]["unit_price"] == 4_950 and o["lines"][0]["total"] == 9_900
    assert o["subtotal"] == 9_900 and o["shipping"] == 0 and o["total"] == 9_900 and o["currency"] == "CNY"
    assert len(o["number"]) == len("261128-7K3F9-QM2XA")
    inv = await client.get(f"/v1/inventory/{s.sku}", params={"merchant_id": s.m.id}, headers=s.m.headers)
    wh = next(loc for loc in inv.json()["locations"] if loc["location_id"] == s.warehouse["id"])
    assert (wh["on_hand"], wh["reserved"], wh["available"]) == (10, 2, 8)
    # The price changes later; the order keeps its snapshot.
    await client.patch(f"/v1/products/{s.product['id']}", headers=s.m.headers,
                       json={"variants": [{"sku": s.sku, "price": 1}]})
    got = await client.get(f"/v1/orders/{o['id']}", headers=s.m.headers)
    assert got.json()["lines"][0]["unit_price"] == 4_950
    assert await f.levels(app) == await f.ledger(app)


async def test_out_of_stock_names_every_short_sku_and_reserves_nothing(client: httpx.AsyncClient, app):
    a = await f.shop(client, on_hand=1)
    b = await f.shop(client, on_hand=5)
    c = await f.shop(client, on_hand=0)
    before = await f.levels(app)
    r = await client.post("/v1/checkout", json=f.checkout_body([(a.variant_id, 2), (b.variant_id, 1),
                                                                (c.variant_id, 1)]))
    assert r.status_code == 409
    assert r.json()["skus"] == sorted([a.sku, c.sku])
    assert a.sku in r.json()["detail"]
    assert await f.levels(app) == before
    orders = await client.get("/v1/orders", headers=b.m.headers)
    assert orders.json()["items"] == []


async def test_one_order_per_merchant(client: httpx.AsyncClient, app):
    a = await f.shop(client, on_hand=3, price=5_000)
    b = await f.shop(client, on_hand=3, price=20_000)
    r = await client.post("/v1/checkout", json=f.checkout_body([(a.variant_id, 1), (b.variant_id, 2)]))
    assert r.status_code == 201
    orders = {o["merchant_id"]: o for o in r.json()["orders"]}
    assert set(orders) == {a.m.id, b.m.id}
    assert orders[a.m.id]["total"] == 5_000 + 1_000  # below ¥99: delivery fee
    assert orders[b.m.id]["total"] == 40_000
    # Two orders, each holding only its own merchant's lines, placed by one checkout (one payment covers both).
    assert len({o["id"] for o in orders.values()} | {o["number"] for o in orders.values()}) == 4
    assert [line["sku"] for line in orders[a.m.id]["lines"]] == [a.sku]
    assert [(line["sku"], line["quantity"]) for line in orders[b.m.id]["lines"]] == [(b.sku, 2)]
    async with app.state.sessionmaker() as session:
        placed = (await session.execute(select(Order.id, Order.checkout_id))).all()
    assert {order_id for order_id, _ in placed} == {o["id"] for o in orders.values()}
    assert len({checkout_id for _, checkout_id in placed}) == 1
    # Each merchant sees only its own order.
    seen_by_a = await client.get("/v1/orders", headers=a.m.headers)
    assert [o["id"] for o in seen_by_a.json()["items"]] == [orders[a.m.id]["id"]]
    assert (await client.get(f"/v1/orders/{orders[b.m.id]['id']}", headers=a.m.headers)).status_code == 404


async def test_idempotent_replay_and_conflicting_reuse(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=10)
    body = f.checkout_body([(s.variant_id, 3)])
    first = await client.post("/v1/checkout", json=body, headers={"Idempotency-Key": "same"})
    again = await client.post("/v1/checkout", json=body, headers={"Idempotency-Key": "same"})
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (10, 3)
    other = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 4)]),
                              headers={"Idempotency-Key": "same"})
    assert other.status_code == 409 and "different request" in other.json()["detail"]
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (10, 3)
    listed = await client.get("/v1/orders", headers=s.m.headers)
    assert len(listed.json()["items"]) == 1


async def test_replay_after_the_stock_is_gone_still_returns_the_first_answer(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=3)
    body = f.checkout_body([(s.variant_id, 3)])
    first = await client.post("/v1/checkout", json=body, headers={"Idempotency-Key": "last-three"})
    assert first.status_code == 201, first.text
    # Nothing is left, so doing the work again would fail: the replay gets the stored answer instead.
    sold_out = await client.post("/v1/checkout", json=body, headers={"Idempotency-Key": "another-key"})
    assert sold_out.status_code == 409, sold_out.text
    again = await client.post("/v1/checkout", json=body, headers={"Idempotency-Key": "last-three"})
    assert again.status_code == 201 and again.json() == first.json()
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (3, 3)
    assert len((await client.get("/v1/orders", headers=s.m.headers)).json()["items"]) == 1


async def test_customer_cart_checkout(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=5, price=12_000)
    headers = await f.customer(client)
    cart = (await client.post("/v1/carts", headers=headers)).json()
    await client.post(f"/v1/carts/{cart['id']}/items", headers=headers,
                      json={"variant_id": s.variant_id, "quantity": 1})
    got = await client.post(f"/v1/carts/{cart['id']}/items", headers=headers,
                            json={"variant_id": s.variant_id, "quantity": 1})
    assert got.json()["items"][0]["quantity"] == 2 and got.json()["subtotal"] == 24_000
    # Another customer cannot see or use it.
    other = await f.customer(client)
    assert (await client.get(f"/v1/carts/{cart['id']}", headers=other)).status_code == 404
    r = await client.post("/v1/checkout", headers=headers, json={
        "cart_id": cart["id"], "fulfilment": f.delivery(), "payment_method": "cod"})
    assert r.status_code == 201, r.text
    order = r.json()["orders"][0]
    assert order["customer_id"] and order["lines"][0]["quantity"] == 2
    mine = await client.get("/v1/orders", headers=headers)
    assert [o["id"] for o in mine.json()["items"]] == [order["id"]]
    assert (await client.get("/v1/orders", headers=other)).json()["items"] == []
    again = await client.post("/v1/checkout", headers=headers, json={
        "cart_id": cart["id"], "fulfilment": f.delivery(), "payment_method": "cod"})
    assert again.status_code == 409


async def test_checkout_input_errors_name_the_field(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=5)
    before = await f.levels(app)
    cases = [
        (f.checkout_body([(s.variant_id, 1)], email=None), "email"),
        (f.checkout_body([("var_nope", 1)]), "lines.0.variant_id"),
        (f.checkout_body([(s.variant_id, 0)]), "lines.0.quantity"),
        (f.checkout_body([(s.variant_id, 1)], method="bitcoin"), "payment_method"),
        (f.checkout_body([(s.variant_id, 1)], fulfilment={"type": "drone"}), "fulfilment"),
        (f.checkout_body([(s.variant_id, 1)], fulfilment={"type": "pickup", "location_id": s.warehouse["id"]}),
         "fulfilment.location_id"),
        (f.checkout_body([(s.variant_id, 1)], coupon_code="NOPE"), "coupon_code"),
        ({"fulfilment": f.delivery(), "payment_method": "cod", "email": "a@b.cn"}, "body"),
    ]
    for body, field in cases:
        r = await client.post("/v1/checkout", json=body)
        assert r.status_code == 422, (field, r.text)
        fields = [e["field"] for e in r.json()["errors"]]
        assert any(x.startswith(field) for x in fields), (field, fields)
    # The route reads its Idempotency-Key itself (no FastAPI parameter): the same limit, the same problem.
    long_key = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]),
                                 headers={"Idempotency-Key": "k" * 256})
    assert long_key.status_code == 422, long_key.text
    assert [e["field"] for e in long_key.json()["errors"]] == ["Idempotency-Key"]
    assert await f.levels(app) == before


async def test_suspended_merchant_goods_cannot_be_bought_even_from_an_old_cart(client: httpx.AsyncClient,
                                                                                admin_headers):
    s = await f.shop(client, on_hand=5)
    cart = (await client.post("/v1/carts")).json()
    await client.post(f"/v1/carts/{cart['id']}/items", json={"variant_id": s.variant_id, "quantity": 1})
    await client.post(f"/v1/admin/merchants/{s.m.id}/suspend", headers=admin_headers)
    r = await client.post("/v1/checkout", json={"cart_id": cart["id"], "email": "g@example.com",
                                                "fulfilment": f.delivery(), "payment_method": "cod"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "cart_id.0.variant_id"


async def test_promotion_discount_and_usage_limit(client: httpx.AsyncClient):
    s = await f.shop(client, on_hand=20, price=10_000)
    promo = await client.post("/v1/promotions", headers=s.m.headers, json={
        "code": "double11", "kind": "percent", "value": 20, "channels": ["online"],
        "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z", "usage_limit": 1})
    assert promo.status_code == 201, promo.text
    assert promo.json()["code"] == "DOUBLE11"
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], coupon_code="double11"))
    assert r.status_code == 201
    o = r.json()["orders"][0]
    assert (o["subtotal"], o["discount"], o["shipping"], o["total"]) == (10_000, 2_000, 1_000, 9_000)
    assert o["promotion_code"] == "DOUBLE11"
    used = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], coupon_code="DOUBLE11"))
    assert used.status_code == 409 and "used up" in used.json()["detail"]
    store_only = await client.post("/v1/promotions", headers=s.m.headers, json={
        "code": "STORE5", "kind": "amount", "value": 500, "channels": ["store"],
        "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z"})
    assert store_only.status_code == 201
    r = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)], coupon_code="STORE5"))
    assert r.status_code == 422
    bad = await client.post("/v1/promotions", headers=s.m.headers, json={
        "code": "BAD", "kind": "percent", "value": 150, "channels": ["online"],
        "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2019-01-01T00:00:00Z"})
    assert bad.status_code == 422


async def test_checkout_checks_the_caller_before_the_body_and_documents_the_body(client: httpx.AsyncClient):
    """The route resolves its caller and body itself (no FastAPI dependencies): the same order and the same
    documentation as a declared body."""
    bad_token = {"Authorization": "Bearer not-a-token"}
    r = await client.post("/v1/checkout", headers=bad_token, json={"lines": "none"})
    assert r.status_code == 401, r.text
    broken = await client.post("/v1/checkout", headers={"Content-Type": "application/json"},
                               content=b'{"lines": [{"variant_id": ')
    assert broken.status_code == 422 and [e["field"] for e in broken.json()["errors"]] == ["body"]
    spec = (await client.get("/openapi.json")).json()
    body = spec["paths"]["/v1/checkout"]["post"]["requestBody"]
    schema = body["content"]["application/json"]["schema"]
    assert body["required"] and {"lines", "cart_id", "fulfilment", "payment_method"} <= set(schema["properties"])
    fulfilment = schema["properties"]["fulfilment"]
    assert fulfilment["discriminator"] == {"propertyName": "type"}
    assert sorted(m["properties"]["type"]["const"] for m in fulfilment["oneOf"]) == ["delivery", "pickup"]
    assert "#/$defs/" not in str(spec)  # every reference in the document resolves


async def test_an_order_number_drawn_twice_is_refused_whole_and_placed_when_sent_again(
        client: httpx.AsyncClient, app, monkeypatch):
    from app.orders import rules

    s = await f.shop(client, on_hand=5)
    first = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 1)]))
    taken = first.json()["orders"][0]["number"]
    before = await f.levels(app)
    draw = rules.order_number
    draws = iter([taken])
    monkeypatch.setattr(rules, "order_number", lambda now: next(draws, None) or draw(now))
    key = {"Idempotency-Key": "clash-1"}
    clash = await client.post("/v1/checkout", headers=key, json=f.checkout_body([(s.variant_id, 2)]))
    assert clash.status_code == 503, clash.text
    assert clash.headers["Retry-After"] == "1" and clash.json()["type"].endswith("/try-again")
    assert await f.levels(app) == before  # nothing reserved, nothing recorded under the key
    again = await client.post("/v1/checkout", headers=key, json=f.checkout_body([(s.variant_id, 2)]))
    assert again.status_code == 201, again.text
    assert again.json()["orders"][0]["number"] != taken
    assert len((await client.get("/v1/orders", headers=s.m.headers)).json()["items"]) == 2
    assert await f.levels(app) == await f.ledger(app)


async def test_a_guests_key_reused_with_another_email_is_a_conflict_not_a_second_order(client: httpx.AsyncClient,
                                                                                       app):
    s = await f.shop(client, on_hand=10)
    first = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)], email="a@example.com"),
                              headers={"Idempotency-Key": "guest-key"})
    assert first.status_code == 201, first.text
    changed = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)], email="b@example.com"),
                                headers={"Idempotency-Key": "guest-key"})
    assert changed.status_code == 409 and "different request" in changed.json()["detail"]
    # The same request again is the same answer, and it is given only to the request that matches it.
    again = await client.post("/v1/checkout", json=f.checkout_body([(s.variant_id, 2)], email="a@example.com"),
                              headers={"Idempotency-Key": "guest-key"})
    assert again.status_code == 201 and again.json() == first.json()
    assert (await f.levels(app))[(s.warehouse["id"], s.variant_id)] == (10, 2)
    assert len((await client.get("/v1/orders", headers=s.m.headers)).json()["items"]) == 1
