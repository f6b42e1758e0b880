"""The authorisation matrix: every API operation, called by every principal that does not own the resource.

Generated, not hand-picked: the operations come from the app's OpenAPI schema, so a new route is in the
matrix the day it is added. Merchant A owns real resources of every kind (locations, a device, a product, an
order of customer 1, a cart, a wholesale buyer and quote, a pickup point and its leader, a group-buy, a
service slot, a POS conflict, a complaint, a review, a campaign). Every operation is called with A's ids in
its path (and A's id in a `merchant_id` query parameter, and a body naming A's resources) by each of:
anonymous, another customer, merchant B, a device of B's store, a wholesale buyer of B and B's pickup-point
leader. None of them owns anything of A's, so:

- nothing answers 500;
- an operation that names A's resources answers 401/403/404/405/409/422, unless it is in PUBLIC below;
- no 2xx answer to a non-public operation carries one of A's private ids;
- afterwards every row of A's (and every customer-owned row) is exactly as it was.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select

from app.core.clock import SHANGHAI, utcnow
from app.db import Base
from tests import factories as f
from tests import pictures

DENIED = {401, 403, 404, 405, 409, 422}

# Operations that anyone may call on another merchant's public resources. Each is public by design:
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/healthz"): "liveness probe",
    ("GET", "/readyz"): "readiness probe",
    ("POST", "/v1/merchants"): "merchant sign-up",
    ("GET", "/v1/products"): "the public catalogue (active products of verified merchants)",
    ("GET", "/v1/products/{product_id}"): "a public product page (drafts answer 404 to non-owners)",
    ("GET", "/v1/products/{product_id}/variant"): "the storefront's pick of a variant by its options",
    ("GET", "/v1/categories"): "the category tree",
    ("GET", "/v1/search/suggest"): "search-box suggestions from public titles",
    ("GET", "/v1/inventory/{sku}"): "public availability; on_hand is shown only to the owner",
    ("POST", "/v1/customers"): "shopper sign-up",
    ("POST", "/v1/auth/token"): "shopper log-in",
    ("POST", "/v1/carts"): "anyone may start a cart",
    ("POST", "/v1/checkout"): "anyone may buy A's products; the order is A's by design",
    ("GET", "/v1/promotions"): "public promotions of verified merchants",
    ("GET", "/v1/merchants/{merchant_id}"): "the public merchant profile (licence shown as the law asks)",
    ("GET", "/v1/platform"): "the platform operator's public information",
    ("GET", "/v1/merchants/{merchant_id}/reviews"): "public reviews",
    ("GET", "/v1/reviews/{review_id}"): "a public review",
    ("POST", "/v1/complaints"): "anyone may complain about a product or merchant",
    ("GET", "/v1/enforcement"): "the public enforcement list",
    ("POST", "/v1/ip-notices"): "any rights holder may file an IP notice against a listing",
    ("GET", "/v1/ip-cases"): "IP cases and their outcomes are published (ECL art. 44)",
    ("GET", "/v1/ip-cases/{case_id}"): "a published IP case (the rights holder's contact only to seller and admin)",
    ("GET", "/v1/campaigns"): "public campaign list",
    ("GET", "/v1/collections"): "an active merchant's collections are its shop's public groupings",
    ("GET", "/v1/collections/{collection_id}"): "a public collection (of an active merchant)",
    ("GET", "/v1/collections/{collection_id}/products"): "its products on sale (drafts only to the owner)",
    ("GET", "/v1/campaigns/{campaign_id}"): "a public campaign page",
    ("GET", "/v1/community/group-buys"): "open group-buys are public",
    ("GET", "/v1/community/group-buys/{group_buy_id}"): "an open group-buy is public",
    ("POST", "/v1/community/group-buys/{group_buy_id}/join"): "any shopper may join A's group-buy",
    ("GET", "/v1/community/service-slots"): "bookable slots are public",
    ("POST", "/v1/community/service-slots/{slot_id}/book"): "any shopper may book A's service",
    ("POST", "/v1/payments/stripe/webhook"): "authenticated by Stripe's signature, not a principal",
    ("GET", "/v1/carriers"): "the carriers orders ship with and their tracking-number formats",
    ("GET", "/v1/flash-sales/{sale_id}"): "a flash sale's price, what is left and its countdown are public",
    ("GET", "/v1/order-terms/{terms_version}"): "the published order terms, every version (C15)",
    ("POST", "/v1/flash-sales/{sale_id}/orders"): "any signed-in shopper may buy A's flash sale",
    ("GET", "/v1/rules/versions"): "the platform's trading rules are public, every version (ECL art. 33)",
    ("GET", "/v1/rules/versions/{version}"): "one version of the public rules and its public comments",
    ("POST", "/v1/rules/versions/{version}/comments"): "anyone may comment on a rules change (ECL art. 34)",
    ("POST", "/v1/rules/versions/{version}/decision"): "every merchant answers a rules change for itself",
    ("GET", "/v1/unsubscribe/{token}"): "the one-click link in a commercial message: its random token is the key",
}
# Public operations that create A's rows when they succeed: called only by their own tests, not here.
PUBLIC_WRITES = {
    ("POST", "/v1/checkout"), ("POST", "/v1/community/group-buys/{group_buy_id}/join"),
    ("POST", "/v1/community/service-slots/{slot_id}/book"), ("POST", "/v1/complaints"),
    ("POST", "/v1/carts"), ("POST", "/v1/customers"), ("POST", "/v1/merchants"),
    ("POST", "/v1/flash-sales/{sale_id}/orders"), ("POST", "/v1/rules/versions/{version}/comments"),
    ("POST", "/v1/rules/versions/{version}/decision"), ("POST", "/v1/ip-notices"),
}
# Rows nobody's request may change, except these (they record the attempts themselves).
# Reads whose owner is the shopper, not the merchant (the merchant's own view is elsewhere).
SHOPPER_READS = {"/v1/carts/{cart_id}", "/v1/complaints/{complaint_id}"}
# Reads of the platform's own records, for the admin only (nothing of a merchant's to own).
ADMIN_READS = {"/v1/admin/rules/versions/{version}/decisions"}
# Reads only the regulator liaison may make (C20: the legal-hold store), not even the order's merchant.
REGULATOR_READS = {"/v1/regulator/legal-hold/{order_id}"}
# Operations on the caller's own personal data: the path names a field of the caller's, never A's resources.
SELF_SERVICE = {("DELETE", "/v1/me/data/{field}")}
OTHER_CUSTOMER = "other-shopper@example.com"  # may close its own account (POST /v1/me/close)
# search_term (title words for suggestions) and search_miss (searches that found nothing) are the platform's,
# counted from every merchant's listings and every shopper's searches.
# catalog_version: counted up by every principal's own catalogue writes (its one row is nobody's)
SNAPSHOT_SKIP = {"audit_log", "idempotency_key", "processed_webhook", "category", "alembic_version", "search_term",
                 "search_miss", "catalog_version"}


def _later(**kw: int) -> str:
    return (utcnow() + timedelta(**kw)).isoformat()


async def _setup(client: httpx.AsyncClient) -> dict[str, Any]:
    """Merchant A with one resource of every kind, and the principals that own none of them."""
    s = await f.shop(client, on_hand=50, store_on_hand=5)
    a = s.m
    r = await client.post(f"/v1/locations/{s.store['id']}/devices", headers=a.headers, json={"name": "till"})
    device = r.json()
    till = f.bearer(device["token"])
    shopper = await f.customer(client)
    cart = (await client.post("/v1/carts", headers=shopper)).json()
    await client.post(f"/v1/carts/{cart['id']}/items", headers=shopper,
                      json={"variant_id": s.variant_id, "quantity": 1})
    order = (await client.post("/v1/checkout", headers=shopper, json=f.checkout_body([(s.variant_id, 1)]))).json()
    order_id = order["orders"][0]["id"]
    for step, body in (("shipments", {"carrier": "SF", "tracking_no": "SF1234567890123"}), ("deliver", None),
                       ("complete", None)):
        assert (await client.post(f"/v1/orders/{order_id}/{step}", headers=a.headers, json=body)).status_code < 300
    review = await client.post(f"/v1/orders/{order_id}/reviews", headers=shopper, json={"rating": 5, "text": "好"})
    assert review.status_code == 201, review.text
    asked = await client.post(f"/v1/orders/{order_id}/invoice-request", headers=shopper,
                              json={"kind": "personal", "title": "李四"})
    assert asked.status_code == 200, asked.text
    invoice = await client.post(f"/v1/orders/{order_id}/invoices", headers=a.headers)
    assert invoice.status_code == 201, invoice.text
    returned = await client.post(f"/v1/orders/{order_id}/returns", headers=shopper,
                                 json={"lines": [{"variant_id": s.variant_id, "quantity": 1}]})
    assert returned.status_code == 201, returned.text
    # The returned unit sells again only under a condition label (C35).
    assert (await client.patch(f"/v1/products/{s.product['id']}", headers=a.headers, json={
        "variants": [{"sku": s.sku, "condition_label": "二次销售"}]})).status_code == 200
    open_order = (await client.post("/v1/checkout", headers=shopper, json=f.checkout_body(
        [(s.variant_id, 2)], fulfilment={"type": "pickup", "location_id": s.store["id"]}))).json()["orders"][0]
    sale = f.pos_event("walk-in-1", "sale", s.sku, 4, _later(seconds=1), unit_price=18_000)
    assert (await client.post("/v1/pos/events", headers=till, json={"events": [sale]})).status_code == 200
    [conflict] = (await client.get("/v1/inventory/conflicts", headers=a.headers)).json()["items"]
    buyer = await f.buyer(client, a)
    quote = await client.post("/v1/wholesale/quotes", headers=buyer.headers, json={
        "merchant_id": a.id, "lines": [{"sku": s.sku, "quantity": 3}]})
    assert quote.status_code == 201, quote.text
    point = await f.pickup_point(client, a)
    gb = await f.group_buy(client, a, s.variant_id, pickup_point_ids=[point["id"]])
    service = await f.product(client, a, category="services", price=8_800)
    starts = utcnow() + timedelta(days=1)
    slot = await client.post("/v1/community/service-slots", headers=a.headers, json={
        "variant_id": service["variants"][0]["id"], "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(), "capacity": 3})
    assert slot.status_code == 201, slot.text
    complaint = await client.post("/v1/complaints", headers=shopper, json={
        "target_type": "product", "target_id": s.product["id"], "reason": "描述与实物不符"})
    assert complaint.status_code == 201, complaint.text
    campaign = await client.post("/v1/campaigns", headers=a.headers, json={
        "slug": "a-spring", "title": "春节年货节", "starts_at": _later(days=1), "ends_at": _later(days=10),
        "product_ids": [s.product["id"]]})
    assert campaign.status_code == 201, campaign.text
    flash = await client.post("/v1/flash-sales", headers=a.headers, json={
        "variant_id": s.variant_id, "price": 990, "quantity": 2, "per_buyer_limit": 1,
        "starts_at": _later(days=1), "ends_at": _later(days=2)})
    assert flash.status_code == 201, flash.text
    webhook = await client.post("/v1/webhooks", headers=a.headers, json={
        "url": "https://erp.example.com/hooks", "events": ["*"]})
    assert webhook.status_code == 201, webhook.text
    licence_change = await client.post("/v1/licence-changes", headers=a.headers,
                                       json={"icp_no": "沪ICP备12345678号-1"})
    assert licence_change.status_code == 201, licence_change.text
    store_promo = await client.post("/v1/promotions", headers=a.headers, json={
        "code": "A-STORE", "kind": "amount", "value": 100, "channels": ["store"], "starts_at": _later(days=-1),
        "ends_at": _later(days=3)})
    assert store_promo.status_code == 201, store_promo.text
    redemption = await client.post("/v1/pos/promotions/redeem", headers=till, json={
        "code": "A-STORE", "redemption_id": "a-till-1", "amount": 1_000, "occurred_at": _later(seconds=0)})
    assert redemption.status_code == 200, redemption.text
    picture = await client.post(f"/v1/products/{s.product['id']}/media", headers=a.headers,
                                files={"file": ("a.png", pictures.png())})
    assert picture.status_code == 201, picture.text
    transfer = await client.post("/v1/transfers", headers=a.headers, json={
        "from_location_id": s.warehouse["id"], "to_location_id": s.store["id"],
        "lines": [{"sku": s.sku, "quantity": 1}]})
    assert transfer.status_code == 201, transfer.text
    collection = await client.post("/v1/collections", headers=a.headers, json={
        "title": "春季上新", "product_ids": [s.product["id"]]})
    assert collection.status_code == 201, collection.text
    template = await client.post("/v1/shipping-templates", headers=a.headers, json={
        "name": "包邮", "basis": "piece", "rate": {"first": 1, "first_fee": 0}})
    assert template.status_code == 201, template.text
    disputed = await f.product(client, a)
    ip_case = await client.post("/v1/ip-notices", json={
        "product_id": disputed["id"], "rights_holder": {"name": "权利人", "email": "legal@example.com"},
        "right_type": "trademark", "right_reference": "第 1 号", "notice": "侵权",
        "evidence": ["https://evidence.example.com/a.pdf"]})
    assert ip_case.status_code == 201, ip_case.text
    job = await client.post("/v1/imports/stock", headers={**a.headers, "content-type": "text/csv"},
                            content=f"sku,location,on_hand\n{s.sku},NOWHERE,1\n".encode())
    assert job.status_code == 202, job.text

    rules = await client.post("/v1/admin/rules", headers=f.ADMIN, json={
        "version": "2030.1", "title": "平台规则", "body": "第一条", "summary": "首次发布",
        "effective_at": _later(days=8)})
    assert rules.status_code == 201, rules.text
    message = await client.post("/v1/admin/marketing/messages", headers=f.ADMIN,
                                json={"subject": "年货节", "body": "全场包邮"})
    assert message.status_code == 201, message.text
    b = await f.shop(client, on_hand=5, store_on_hand=5)
    b_point = await f.pickup_point(client, b.m)
    principals = {
        "anonymous": {},
        "customer": await f.customer(client, email=OTHER_CUSTOMER),
        "merchant_b": b.m.headers,
        "device_b": await f.device(client, b.m, b.store),
        "buyer_b": (await f.buyer(client, b.m)).headers,
        "leader_b": f.bearer(b_point["leader_token"]),
    }
    ids = {
        "merchant_id": a.id, "location_id": s.store["id"], "device_id": device["id"],
        "product_id": s.product["id"], "variant_id": s.variant_id, "sku": s.sku, "cart_id": cart["id"],
        "order_id": open_order["id"], "buyer_id": buyer.id, "quote_id": quote.json()["id"],
        "pickup_point_id": point["id"], "group_buy_id": gb["id"], "slot_id": slot.json()["id"],
        "conflict_id": conflict["id"], "complaint_id": complaint.json()["id"], "review_id": review.json()["id"],
        "campaign_id": campaign.json()["id"], "webhook_id": webhook.json()["id"], "return_id": returned.json()["id"],
        "revision_id": order["orders"][0]["lines"][0]["listing_revision_id"],
        "change_id": licence_change.json()["id"],
        "redemption_id": redemption.json()["redemption_id"],
        "media_id": picture.json()["id"], "transfer_id": transfer.json()["id"], "job_id": job.json()["id"],
        "warehouse_id": s.warehouse["id"], "provider": "wechatpay", "collection_id": collection.json()["id"],
        "sale_id": flash.json()["id"], "template_id": template.json()["id"], "version": rules.json()["version"],
        "invoice_id": invoice.json()["id"], "field": "phone", "terms_version": "current",
        "case_id": ip_case.json()["id"], "message_id": message.json()["id"], "token": "not-a-sent-token",
    }
    private = {ids[k] for k in ("device_id", "cart_id", "order_id", "buyer_id", "quote_id", "conflict_id",
                                "complaint_id", "webhook_id", "return_id", "change_id", "transfer_id",
                                "job_id", "invoice_id")} | {
        order_id, device["token"], buyer.token, point["leader_token"], webhook.json()["secret"]}
    other_customer_id = (await client.get("/v1/me", headers=principals["customer"])).json()["id"]
    return {"a": a, "shop": s, "ids": ids, "principals": principals, "private": private,
            "completed_order_id": order_id, "other_customer_id": other_customer_id}


def _bodies(ids: dict[str, str]) -> dict[tuple[str, str], Any]:
    """A well-formed body per operation, naming A's resources, so the call gets past validation."""
    later = _later(days=3)
    today = utcnow().astimezone(SHANGHAI).date().isoformat()
    line = {"variant_id": ids["variant_id"], "quantity": 1}
    return {
        ("POST", "/v1/admin/merchants/{merchant_id}/verify"): None,
        ("POST", "/v1/locations"): {"code": "EVIL", "name": "x", "kind": "store", "address": f.address()},
        ("POST", "/v1/locations/{location_id}/devices"): {"name": "evil"},
        ("POST", "/v1/products"): f.product_body(skus=(ids["sku"],)),
        ("PATCH", "/v1/products/{product_id}"): {"title": "hacked", "status": "draft"},
        ("POST", "/v1/pos/events"): {"events": [f.pos_event("evil-1", "sale", ids["sku"], 1, _later(seconds=1))]},
        ("POST", "/v1/pos/promotions/redeem"): {"code": "A-STORE", "redemption_id": "evil-r-1", "amount": 1_000,
                                                "occurred_at": _later(seconds=1)},
        ("POST", "/v1/inventory/conflicts/{conflict_id}/resolve"): {"resolution": "accepted"},
        ("PUT", "/v1/locations/{location_id}/stock/{sku}"): {"on_hand": 0},
        ("POST", "/v1/carts/{cart_id}/items"): line,
        ("POST", "/v1/promotions"): {"code": "EVIL10", "kind": "percent", "value": 10, "channels": ["online"],
                                     "starts_at": _later(days=-1), "ends_at": later},
        ("POST", "/v1/orders/{order_id}/cancel"): {"reason": "hacked"},
        ("POST", "/v1/orders/{order_id}/shipments"): {"carrier": "SF", "tracking_no": "SF6666666666666"},
        ("POST", "/v1/orders/{order_id}/collect"): {"pickup_code": "000000"},
        ("POST", "/v1/shipping-templates"): {"name": "evil", "basis": "piece", "rate": {"first": 1, "first_fee": 1}},
        ("PUT", "/v1/shipping-templates/{template_id}"): {"name": "hacked", "basis": "piece",
                                                          "rate": {"first": 1, "first_fee": 99_999}},
        ("PUT", "/v1/delivery-promise"): {"ship_within_hours": 720, "delivery_days": 60},
        ("POST", "/v1/logistics/{provider}/push"): {"param": "{}", "sign": "0" * 32},
        ("POST", "/v1/orders/{order_id}/returns"): {"lines": [line], "reason": "hacked"},
        ("POST", "/v1/orders/{order_id}/invoice-request"): {"kind": "personal", "title": "hacked"},
        ("POST", "/v1/orders/{order_id}/returns/{return_id}/reject"): {
            "code": "hygiene_seal_broken", "evidence": ["https://evil.example.com/p.jpg"]},
        ("PUT", "/v1/return-policy"): {"refund_on": "request", "free_return_shipping": True},
        ("POST", "/v1/wholesale/buyers"): {"name": "evil buyer"},
        ("PUT", "/v1/wholesale/buyers/{buyer_id}/prices"): {
            "prices": [{"sku": ids["sku"], "unit_price": 1}]},
        ("POST", "/v1/wholesale/orders"): {"merchant_id": ids["merchant_id"], "lines": [
            {"sku": ids["sku"], "quantity": 1}]},
        ("POST", "/v1/wholesale/orders/csv"): f"sku,quantity\n{ids['sku']},1\n",
        ("POST", "/v1/wholesale/orders/{order_id}/reorder"): None,
        ("POST", "/v1/wholesale/quotes"): {"merchant_id": ids["merchant_id"], "lines": [
            {"sku": ids["sku"], "quantity": 1}]},
        ("POST", "/v1/wholesale/quotes/{quote_id}/respond"): {
            "lines": [{"sku": ids["sku"], "unit_price": 1}], "valid_until": later},
        ("POST", "/v1/community/pickup-points"): {
            "name": "evil", "address": f.address(), "leader_name": "x", "leader_phone": "13900139000",
            "commission_rate": 500, "location_id": ids["location_id"]},
        ("POST", "/v1/community/pickup-points/{pickup_point_id}/collect"): {"pickup_code": "000000"},
        ("POST", "/v1/community/group-buys"): {
            "variant_id": ids["variant_id"], "price": 1, "min_quantity": 1, "max_quantity": 2,
            "closes_at": _later(hours=2), "pickup_date": today, "pickup_point_ids": [ids["pickup_point_id"]]},
        ("POST", "/v1/community/service-slots"): {
            "variant_id": ids["variant_id"], "starts_at": _later(days=1), "ends_at": _later(days=2), "capacity": 1},
        ("PUT", "/v1/seller-profile"): {"trading_model": "b2c_single_store"},
        ("POST", "/v1/orders/{order_id}/reviews"): {"rating": 1, "text": "hacked"},
        ("POST", "/v1/reviews/{review_id}/reply"): {"reply": "hacked"},
        ("POST", "/v1/admin/reviews/{review_id}/mask"): {"reason": "hacked"},
        ("POST", "/v1/admin/complaints/{complaint_id}/resolve"): {"outcome": "upheld", "note": "hacked"},
        ("POST", "/v1/admin/products/{product_id}/takedown"): {"reason": "hacked"},
        ("POST", "/v1/ip-cases/{case_id}/counter-notice"): {"statement": "hacked",
                                                           "evidence": ["https://evil.example.com/a.pdf"]},
        ("POST", "/v1/ip-cases/{case_id}/action"): {"case_key": "guessed-key", "kind": "lawsuit",
                                                    "reference": "hacked", "evidence": ["https://evil.example.com/b"]},
        ("POST", "/v1/admin/enforcement/warnings"): {"merchant_id": ids["merchant_id"], "reason": "hacked",
                                                     "ends_at": later},
        ("POST", "/v1/admin/merchants/{merchant_id}/suspend"): {"reason": "hacked"},
        ("POST", "/v1/flash-sales"): {"variant_id": ids["variant_id"], "price": 1, "quantity": 1,
                                      "per_buyer_limit": 1, "starts_at": _later(seconds=1), "ends_at": later},
        ("POST", "/v1/campaigns"): {"slug": "evil", "title": "evil", "starts_at": _later(days=1), "ends_at": later,
                                    "product_ids": [ids["product_id"]]},
        ("POST", "/v1/webhooks"): {"url": "https://evil.example.com/hooks", "events": ["*"]},
        ("PATCH", "/v1/products/{product_id}/media/{media_id}"): {"alt": "hacked", "position": 0},
        ("PUT", "/v1/products/{product_id}/options"): {"options": [{"name": "size", "values": ["L", "XL"]}],
                                                       "fill": {"price": 1}},
        ("POST", "/v1/locations/{location_id}/stock/{sku}/adjust"): {"quantity": -1, "reason": "damaged"},
        ("PUT", "/v1/locations/{location_id}/stock/{sku}/threshold"): {"low_stock": 1},
        ("POST", "/v1/products/bulk-edit"): {"product_ids": [ids["product_id"]], "status": "archived",
                                             "price_percent": 50},
        ("POST", "/v1/products/{product_id}/duplicate"): {"sku_suffix": "-EVIL"},
        ("POST", "/v1/collections"): {"title": "evil", "product_ids": [ids["product_id"]]},
        ("PATCH", "/v1/collections/{collection_id}"): {"title": "hacked"},
        ("POST", "/v1/collections/{collection_id}/products"): {"product_ids": [ids["product_id"]]},
        ("POST", "/v1/campaigns/{campaign_id}/items"): {"product_ids": [ids["product_id"]],
                                                        "collection_ids": [ids["collection_id"]]},
        ("POST", "/v1/orders/{order_id}/returns/{return_id}/dispute"): {"reason": "hacked"},
        ("POST", "/v1/admin/mediation/{return_id}/decide"): {"outcome": "refund", "note": "hacked"},
        ("POST", "/v1/admin/merchants/{merchant_id}/reject"): {"reason": "hacked"},
        ("PUT", "/v1/admin/merchants/{merchant_id}/self-operated"): {"self_operated": True},
        ("PUT", "/v1/seller-record"): {"registered_address": "被篡改的地址 1 号"},
        ("POST", "/v1/shop-closure"): {"closes_at": _later(days=40), "note": "hacked"},
        ("POST", "/v1/transfers"): {"from_location_id": ids["warehouse_id"], "to_location_id": ids["location_id"],
                                    "lines": [{"sku": ids["sku"], "quantity": 1}]},
    }


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in schema["paths"].items() for method, op in ops.items()]


def _query(op: dict[str, Any], ids: dict[str, str]) -> dict[str, str]:
    today = utcnow().astimezone(SHANGHAI).date().isoformat()
    fill = {"date": today, "from": today, "to": today, **ids}
    return {p["name"]: fill[p["name"]] for p in op.get("parameters", [])
            if p["in"] == "query" and (p.get("required") or p["name"] == "merchant_id") and p["name"] in fill}


async def _snapshot(app: Any, merchant_id: str, location_ids: list[str],
                    other_customer_id: str) -> dict[str, list[str]]:
    """Every row of A's, and every row of tables without a tenant (but other principals' own), as text."""
    out: dict[str, list[str]] = {}
    async with app.state.sessionmaker() as session:
        for table in Base.metadata.sorted_tables:
            if table.name in SNAPSHOT_SKIP:
                continue
            stmt = select(table)
            if "merchant_id" in table.c:
                stmt = stmt.where(table.c.merchant_id == merchant_id)
            elif table.name == "merchant":
                stmt = stmt.where(table.c.id == merchant_id)
            elif table.name == "customer":
                stmt = stmt.where(table.c.email != OTHER_CUSTOMER)
            elif "customer_id" in table.c:  # the other customer's own rows (its consents) are its to change
                stmt = stmt.where(or_(table.c.customer_id.is_(None), table.c.customer_id != other_customer_id))
            elif "location_id" in table.c:
                stmt = stmt.where(table.c.location_id.in_(location_ids))
            rows = (await session.execute(stmt)).all()
            out[table.name] = sorted(json.dumps([str(v) for v in row], ensure_ascii=False) for row in rows)
    return out


async def test_no_principal_reaches_another_merchants_resources(client: httpx.AsyncClient, app):
    ctx = await _setup(client)
    ids: dict[str, str] = ctx["ids"]
    bodies = _bodies(ids)
    schema = (await client.get("/openapi.json")).json()
    operations = _operations(schema)
    assert len(operations) > 90  # the whole API, not a sample
    locations = [ctx["shop"].store["id"], ctx["shop"].warehouse["id"]]
    before = await _snapshot(app, ctx["a"].id, locations, ctx["other_customer_id"])
    failures: list[str] = []
    calls = 0
    for method, template, op in operations:
        key = (method, template)
        if key in PUBLIC_WRITES:
            continue
        path = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)
        body = bodies.get(key)
        names_a = key not in SELF_SERVICE and (
            "{" in template or "merchant_id" in _query(op, ids)
            or any(v in json.dumps(body) for k, v in ids.items()
                   if k not in ("sku", "field", "version", "terms_version")))
        for who, headers in ctx["principals"].items():
            kw: dict[str, Any] = {"params": _query(op, ids), "headers": dict(headers)}
            if isinstance(body, str):
                kw["content"] = body
                kw["headers"]["Content-Type"] = "text/csv"
            elif body is not None:
                kw["json"] = body
            r = await client.request(method, path, **kw)
            calls += 1
            where = f"{who} {method} {path} -> {r.status_code} {r.text[:200]}"
            if r.status_code >= 500:
                failures.append("server error: " + where)
            elif key in PUBLIC:
                continue
            elif names_a and r.status_code not in DENIED:
                failures.append("not denied: " + where)
            elif r.is_success and any(secret in r.text for secret in ctx["private"]):
                failures.append("leaks A's ids: " + where)
    assert not failures, "\n".join(failures)
    assert calls > 400
    # The control: the same reads by A itself succeed, so the denials above were about who asked.
    refused_to_owner = []
    for method, template, op in operations:
        if (method == "GET" and "{" in template and (method, template) not in PUBLIC
                and template not in SHOPPER_READS | ADMIN_READS | REGULATOR_READS):
            path = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], template)
            r = await client.get(path, headers=ctx["a"].headers, params=_query(op, ids))
            if not r.is_success:
                refused_to_owner.append(f"{template} -> {r.status_code}")
    assert not refused_to_owner, refused_to_owner
    after = await _snapshot(app, ctx["a"].id, locations, ctx["other_customer_id"])
    changed = [t for t in before if before[t] != after[t]]
    assert not changed, {t: (set(after[t]) - set(before[t])) for t in changed}
