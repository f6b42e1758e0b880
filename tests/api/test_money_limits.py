"""Every money field takes the largest value its schema allows, on both databases, and the orders made from it
carry it to the fen: the columns are as wide as the schemas (PostgreSQL's 32-bit INTEGER was not)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from app.core.clock import SHANGHAI, utcnow
from tests import factories as f

# (method, path, field) of every request field the schema takes money in; the test fails when one is added
# that it does not send its maximum to.
MONEY_FIELDS = {
    ("POST", "/v1/products", "variants.price"),
    ("POST", "/v1/products", "variants.wholesale.tiers.unit_price"),
    ("PATCH", "/v1/products/{product_id}", "variants.price"),
    ("PATCH", "/v1/products/{product_id}", "variants.wholesale.tiers.unit_price"),
    ("PUT", "/v1/products/{product_id}/options", "fill.price"),
    ("POST", "/v1/wholesale/buyers", "credit_limit"),
    ("PUT", "/v1/wholesale/buyers/{buyer_id}/prices", "prices.unit_price"),
    ("POST", "/v1/wholesale/quotes/{quote_id}/respond", "lines.unit_price"),
    ("POST", "/v1/community/group-buys", "price"),
    ("POST", "/v1/pos/events", "events.unit_price"),
    ("POST", "/v1/pos/promotions/redeem", "amount"),
    ("POST", "/v1/promotions", "value"),
    ("POST", "/v1/flash-sales", "price"),
}
MONEY_NAMES = {"price", "unit_price", "amount", "credit_limit", "value"}


def _money_maxima(spec: dict[str, Any]) -> dict[tuple[str, str, str], int]:
    """(method, path, dotted field) -> maximum of every integer money property of every request body."""
    schemas = spec["components"]["schemas"]
    found: dict[tuple[str, str, str], int] = {}

    def walk(node: Any, at: tuple[str, str], prefix: str) -> None:
        if not isinstance(node, dict):
            return
        if "$ref" in node:
            walk(schemas[node["$ref"].rsplit("/", 1)[-1]], at, prefix)
        for key in ("anyOf", "oneOf", "allOf"):
            for option in node.get(key, []):
                walk(option, at, prefix)
        if "items" in node:
            walk(node["items"], at, prefix)
        for name, prop in node.get("properties", {}).items():
            field = f"{prefix}{name}"
            options = [prop, *prop.get("anyOf", [])]
            maxima = [o["maximum"] for o in options if o.get("type") == "integer" and "maximum" in o]
            if name in MONEY_NAMES and maxima:
                found[(*at, field)] = maxima[0]
            walk(prop, at, f"{field}.")

    for path, item in spec["paths"].items():
        for method, op in item.items():
            for media in op.get("requestBody", {}).get("content", {}).values():
                walk(media.get("schema", {}), (method.upper(), path), "")
    return found


async def test_every_money_field_takes_its_schema_maximum(client: httpx.AsyncClient):
    maxima = _money_maxima((await client.get("/openapi.json")).json())
    assert set(maxima) == MONEY_FIELDS
    top = maxima[("POST", "/v1/products", "variants.price")]
    assert top == 10**12 and all(maxima[k] == top for k in MONEY_FIELDS if k[2] != "value")

    m = await f.merchant(client)
    wh = await f.location(client, m)
    store = await f.location(client, m, kind="store")
    body = f.product_body(skus=("MAX-1",), price=top, category="agri")
    body["variants"][0]["wholesale"] = {"moq": 1, "pack_size": 1, "tiers": [{"min_qty": 1, "unit_price": top}]}
    created = await client.post("/v1/products", headers=m.headers, json=body)
    assert created.status_code == 201, created.text
    product = created.json()
    variant = product["variants"][0]
    assert variant["price"] == top
    patched = await client.patch(f"/v1/products/{product['id']}", headers=m.headers, json={"variants": [
        {"sku": "MAX-1", "price": top, "wholesale": {"moq": 1, "pack_size": 1,
                                                     "tiers": [{"min_qty": 1, "unit_price": top}]}},
        {"sku": "MAX-2", "price": top}]})
    assert patched.status_code == 200, patched.text
    assert [v["price"] for v in patched.json()["variants"]] == [top, top]
    # New option values bring variants at the top price.
    other = await client.post("/v1/products", headers=m.headers,
                              json=f.product_body(skus=("MAXO",), price=top, category="agri"))
    assert other.status_code == 201, other.text
    grown = await client.put(f"/v1/products/{other.json()['id']}/options", headers=m.headers, json={
        "options": [{"name": "规格", "values": ["一", "二", "三"]}], "fill": {"price": top, "sku_prefix": "MAXO"}})
    assert grown.status_code == 200, grown.text
    assert [v["price"] for v in grown.json()["variants"]] == [top, top, top]
    for sku in ("MAX-1", "MAX-2"):
        await f.stock(client, m, wh, sku, 10**9)
        await f.stock(client, m, store, sku, 10**9)

    # A shopper's order of one unit at the top price.
    order = await client.post("/v1/checkout", json=f.checkout_body([(variant["id"], 1)]))
    assert order.status_code == 201, order.text
    assert order.json()["orders"][0]["total"] == top

    # Wholesale: the top credit limit, the top buyer price, an order and a quote at the top price.
    b = await f.buyer(client, m, credit_limit=top)
    prices = await client.put(f"/v1/wholesale/buyers/{b.id}/prices", headers=m.headers,
                              json={"prices": [{"sku": "MAX-1", "min_qty": 1, "unit_price": top}]})
    assert prices.status_code == 200, prices.text
    bought = await client.post("/v1/wholesale/orders", headers=b.headers, json={
        "merchant_id": m.id, "lines": [{"sku": "MAX-1", "quantity": 1}]})
    assert bought.status_code == 201, bought.text
    assert bought.json()["order"]["total"] == top
    quote = await client.post("/v1/wholesale/quotes", headers=b.headers, json={
        "merchant_id": m.id, "lines": [{"sku": "MAX-2", "quantity": 1}]})
    assert quote.status_code == 201, quote.text
    answered = await client.post(f"/v1/wholesale/quotes/{quote.json()['id']}/respond", headers=m.headers, json={
        "lines": [{"sku": "MAX-2", "unit_price": top}], "valid_until": (utcnow() + timedelta(days=3)).isoformat()})
    assert answered.status_code == 200, answered.text
    assert answered.json()["lines"][0]["unit_price"] == top

    # The largest quantity at the top price is a line beyond any amount: refused, naming the line.
    huge = await client.post("/v1/wholesale/orders", headers=b.headers, json={
        "merchant_id": m.id, "lines": [{"sku": "MAX-1", "quantity": 10_000_000}]})
    assert huge.status_code == 422, huge.text
    assert [(e["field"], e["code"]) for e in huge.json()["errors"]] == [("lines.0", "line_too_large")]
    big_quote = await client.post("/v1/wholesale/quotes", headers=b.headers, json={
        "merchant_id": m.id, "lines": [{"sku": "MAX-1", "quantity": 10_000_000}]})
    assert big_quote.status_code == 201, big_quote.text
    priced = await client.post(f"/v1/wholesale/quotes/{big_quote.json()['id']}/respond", headers=m.headers, json={
        "lines": [{"sku": "MAX-1", "unit_price": top}], "valid_until": (utcnow() + timedelta(days=3)).isoformat()})
    assert priced.status_code == 200, priced.text
    accepted = await client.post(f"/v1/wholesale/quotes/{big_quote.json()['id']}/accept", headers=b.headers, json={})
    assert accepted.status_code == 422, accepted.text

    # A flash sale at the top price, bought.
    flash = await client.post("/v1/flash-sales", headers=m.headers, json={
        "variant_id": variant["id"], "price": top, "quantity": 1, "per_buyer_limit": 1,
        "starts_at": utcnow().isoformat(), "ends_at": (utcnow() + timedelta(hours=1)).isoformat()})
    assert flash.status_code == 201, flash.text
    flash_buyer = await f.customer(client)
    flash_order = await client.post(f"/v1/flash-sales/{flash.json()['id']}/orders", headers=flash_buyer, json={
        "quantity": 1, "fulfilment": f.delivery(), "payment_method": "cod"})
    assert flash_order.status_code == 201, flash_order.text
    assert flash_order.json()["total"] == top

    # Community: a group-buy at the top price, joined.
    point = await f.pickup_point(client, m)
    gb = await f.group_buy(client, m, variant["id"], price=top, min_quantity=1, max_quantity=5)
    shopper = await f.customer(client)
    joined = await f.join_group_buy(client, shopper, gb["id"], point["id"])
    assert joined.status_code == 201, joined.text
    assert joined.json()["total"] == top

    # A store: a sale at the top unit price, a coupon of the top value on a basket of the top amount.
    till = await f.device(client, m, store)
    sold = await client.post("/v1/pos/events", headers=till, json={"events": [
        f.pos_event("max-1", "sale", "MAX-1", 1, utcnow().isoformat(), unit_price=top),
        f.pos_event("max-2", "sale", "MAX-1", 100_000, utcnow().isoformat(), unit_price=top)]})
    assert sold.status_code == 200, sold.text
    assert [x["status"] for x in sold.json()["results"]] == ["applied", "applied"]
    coupon = maxima[("POST", "/v1/promotions", "value")]
    promo = await client.post("/v1/promotions", headers=m.headers, json={
        "code": "MAXOFF", "kind": "amount", "value": coupon, "channels": ["online", "store"],
        "starts_at": (utcnow() - timedelta(hours=1)).isoformat(),
        "ends_at": (utcnow() + timedelta(days=1)).isoformat()})
    assert promo.status_code == 201, promo.text
    redeemed = await client.post("/v1/pos/promotions/redeem", headers=till, json={
        "code": "MAXOFF", "redemption_id": "r-max", "amount": top, "occurred_at": utcnow().isoformat()})
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["discount"] == coupon and redeemed.json()["total_after"] == top - coupon

    today = utcnow().astimezone(SHANGHAI).date()
    report = await client.get("/v1/reports/channel-share", headers=m.headers,
                              params={"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))})
    assert report.status_code == 200, report.text
    assert report.json()["offline_sales"] == top + 100_000 * top

    # A day of the dearest sales a till can report is more than 64 bits hold: its total stops there.
    dear = [f.pos_event(f"dear-{i}", "sale", "MAX-2", 100_000, utcnow().isoformat(), unit_price=top)
            for i in range(10_000)]
    r = await client.post("/v1/pos/events", headers=till, json={"events": dear})
    assert r.status_code == 200, r.text[:300]
    assert {x["status"] for x in r.json()["results"]} == {"applied"}
    report = await client.get("/v1/reports/channel-share", headers=m.headers,
                              params={"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))})
    assert report.status_code == 200, report.text
    assert report.json()["offline_sales"] == 2**63 - 1
