"""Wholesale batch orders through the HTTP API: tier prices, line errors, partial orders, idempotency, reorder."""

import httpx

from tests import factories as f


async def _setup(client: httpx.AsyncClient, **buyer_kw):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    rice = await f.wholesale_product(client, m, wh, sku="RICE-5KG")
    await f.wholesale_product(client, m, wh, sku="TEA-GREEN", price=5_000, moq=1, pack_size=1,
                              tiers=((20, 4_000),), on_hand=30)
    await f.product(client, m, skus=("RETAIL-ONLY",))
    await f.stock(client, m, wh, "RETAIL-ONLY", 100)
    b = await f.buyer(client, m, **buyer_kw)
    return m, wh, b, rice


def _order(b: f.BuyerCtx, lines, **kw):
    return {"merchant_id": b.merchant_id, "lines": [{"sku": s, "quantity": q} for s, q in lines], **kw}


async def test_tier_prices_and_a_terms_order_in_the_order_core(client: httpx.AsyncClient, app):
    m, _, b, _ = await _setup(client, payment_terms_days=45)
    r = await client.post("/v1/wholesale/orders", headers={**b.headers, "Idempotency-Key": "o1"},
                          json=_order(b, [("RICE-5KG", 120), ("TEA-GREEN", 5)]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert [(ln["row"], ln["sku"], ln["unit_price"], ln["total"], ln["status"]) for ln in body["lines"]] == [
        (1, "RICE-5KG", 800, 96_000, "accepted"), (2, "TEA-GREEN", 5_000, 25_000, "accepted")]
    order = body["order"]
    assert order["channel"] == "wholesale" and order["payment_method"] == "terms"
    assert order["status"] == "confirmed" and order["payment_status"] == "unpaid"
    assert order["total"] == 121_000 and order["shipping"] == 0 and order["buyer_id"] == b.id
    assert body["due_at"][:10] > order["created_at"][:10]
    assert {v for v in (await f.levels(app)).values()} == {(1_000, 120), (30, 5), (100, 0)}
    assert await f.levels(app) == await f.ledger(app)
    # The buyer and the merchant both see it; the merchant ships it through the order core.
    mine = await client.get("/v1/orders", headers=b.headers)
    assert [o["id"] for o in mine.json()["items"]] == [order["id"]]
    shipped = await client.post(f"/v1/orders/{order['id']}/shipments", headers=m.headers,
                                json={"carrier": "SF", "tracking_no": "SF1234567890123"})
    assert shipped.status_code == 201 and shipped.json()["status"] == "shipped"
    assert {v for v in (await f.levels(app)).values()} == {(880, 0), (25, 0), (100, 0)}


async def test_every_bad_line_is_named_and_nothing_is_reserved(client: httpx.AsyncClient, app):
    _, _, b, _ = await _setup(client)
    before = await f.levels(app)
    lines = [("RICE-5KG", 100), ("NOPE", 10), ("RICE-5KG", 50), ("TEA-GREEN", 31), ("RETAIL-ONLY", 10),
             ("TEA-GREEN", 2)]
    r = await client.post("/v1/wholesale/orders", headers=b.headers, json=_order(b, lines))
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [(e["row"], e["field"], e["sku"], e["code"]) for e in errors] == [
        (2, "lines.1", "NOPE", "unknown_sku"), (3, "lines.2", "RICE-5KG", "duplicate_sku"),
        (4, "lines.3", "TEA-GREEN", "out_of_stock"), (5, "lines.4", "RETAIL-ONLY", "not_for_wholesale"),
        (6, "lines.5", "TEA-GREEN", "duplicate_sku")]
    assert "row 1" in errors[1]["message"] and "30 available" in errors[2]["message"]
    assert await f.levels(app) == before
    assert (await client.get("/v1/orders", headers=b.headers)).json()["items"] == []
    moq = await client.post("/v1/wholesale/orders", headers=b.headers,
                            json=_order(b, [("RICE-5KG", 5), ("RICE-5KG", 12)]))
    assert [(e["code"], e["message"]) for e in moq.json()["errors"]] == [
        ("below_moq", "below the minimum order quantity of 10"), ("duplicate_sku", moq.json()["errors"][1]["message"])]
    pack = await client.post("/v1/wholesale/orders", headers=b.headers, json=_order(b, [("RICE-5KG", 12)]))
    assert pack.json()["errors"][0]["code"] == "not_pack_multiple"


async def test_partial_orders_the_good_lines_and_lists_the_rest(client: httpx.AsyncClient, app):
    _, _, b, _ = await _setup(client)
    r = await client.post("/v1/wholesale/orders", headers=b.headers, json=_order(
        b, [("NOPE", 10), ("RICE-5KG", 55), ("TEA-GREEN", 40)], mode="partial"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["accepted"], body["rejected"]) == (1, 2)
    assert [(ln["sku"], ln["status"], ln["error_code"]) for ln in body["lines"]] == [
        ("NOPE", "rejected", "unknown_sku"), ("RICE-5KG", "accepted", None), ("TEA-GREEN", "rejected", "out_of_stock")]
    assert [(ln["sku"], ln["quantity"], ln["unit_price"]) for ln in body["order"]["lines"]] == [("RICE-5KG", 55, 900)]
    assert await f.levels(app) == await f.ledger(app)
    none = await client.post("/v1/wholesale/orders", headers=b.headers,
                             json=_order(b, [("NOPE", 10)], mode="partial"))
    assert none.status_code == 422 and none.json()["errors"][0]["code"] == "unknown_sku"


async def test_idempotent_retry_and_conflicting_reuse(client: httpx.AsyncClient, app):
    _, wh, b, rice = await _setup(client)
    body = _order(b, [("RICE-5KG", 100)])
    first = await client.post("/v1/wholesale/orders", headers={**b.headers, "Idempotency-Key": "po-7"}, json=body)
    again = await client.post("/v1/wholesale/orders", headers={**b.headers, "Idempotency-Key": "po-7"}, json=body)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = await client.post("/v1/wholesale/orders", headers={**b.headers, "Idempotency-Key": "po-7"},
                              json=_order(b, [("RICE-5KG", 200)]))
    assert other.status_code == 409
    assert (await f.levels(app))[(wh["id"], rice["variants"][0]["id"])] == (1_000, 100)


async def test_buyers_only_order_from_their_own_merchant(client: httpx.AsyncClient):
    m, _, b, _ = await _setup(client)
    other = await f.merchant(client)
    r = await client.post("/v1/wholesale/orders", headers=b.headers,
                          json={**_order(b, [("RICE-5KG", 100)]), "merchant_id": other.id})
    assert r.status_code == 404
    as_merchant = await client.post("/v1/wholesale/orders", headers=m.headers, json=_order(b, [("RICE-5KG", 100)]))
    assert as_merchant.status_code == 403
    anonymous = await client.post("/v1/wholesale/orders", json=_order(b, [("RICE-5KG", 100)]))
    assert anonymous.status_code == 401


async def test_bad_json_lines_are_422_never_500(client: httpx.AsyncClient):
    _, _, b, _ = await _setup(client)
    for lines in ([], [{"sku": "RICE-5KG", "quantity": 0}], [{"sku": "", "quantity": 5}],
                  [{"sku": "RICE-5KG", "quantity": "many"}], [{"sku": "RICE-5KG"}]):
        r = await client.post("/v1/wholesale/orders", headers=b.headers,
                              json={"merchant_id": b.merchant_id, "lines": lines})
        assert r.status_code == 422, (lines, r.text)
    too_many = [{"sku": "RICE-5KG", "quantity": 10}] * 10_001
    r = await client.post("/v1/wholesale/orders", headers=b.headers,
                          json={"merchant_id": b.merchant_id, "lines": too_many})
    assert r.status_code == 422


async def test_reorder_repeats_an_order_at_todays_prices(client: httpx.AsyncClient, app):
    m, _, b, rice = await _setup(client)
    first = await client.post("/v1/wholesale/orders", headers=b.headers,
                              json=_order(b, [("RICE-5KG", 100), ("TEA-GREEN", 20)]))
    assert first.status_code == 201
    await client.patch(f"/v1/products/{rice['id']}", headers=m.headers, json={"variants": [{
        "sku": "RICE-5KG", "wholesale": {"moq": 10, "pack_size": 5, "tiers": [{"min_qty": 1, "unit_price": 950},
                                                                              {"min_qty": 100, "unit_price": 750}]}}]})
    again = await client.post(f"/v1/wholesale/orders/{first.json()['order']['id']}/reorder",
                              headers={**b.headers, "Idempotency-Key": "re-1"})
    assert again.status_code == 201, again.text
    body = again.json()
    # Today's tier for rice; the tea left in stock (10) no longer covers the 20 ordered last time.
    assert [(ln["sku"], ln["quantity"], ln["unit_price"], ln["error_code"]) for ln in body["lines"]] == [
        ("RICE-5KG", 100, 750, None), ("TEA-GREEN", 20, None, "out_of_stock")]
    assert body["order"]["id"] != first.json()["order"]["id"] and body["order"]["lines"][0]["unit_price"] == 750
    other = await f.buyer(client, m)
    assert (await client.post(f"/v1/wholesale/orders/{first.json()['order']['id']}/reorder",
                              headers=other.headers)).status_code == 404
    assert await f.levels(app) == await f.ledger(app)


async def test_stripe_payment_leaves_the_order_awaiting_payment(client: httpx.AsyncClient):
    _, _, b, _ = await _setup(client, credit_limit=0)
    r = await client.post("/v1/wholesale/orders", headers={**b.headers, "Idempotency-Key": "s-1"},
                          json=_order(b, [("RICE-5KG", 100)], payment="stripe"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["order"]["status"] == "pending_payment" and body["order"]["payment_method"] == "stripe"
    assert body["payment"]["amount"] == 80_000 and body["payment"]["client_secret"]
    assert body["due_at"] is None
