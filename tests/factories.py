"""Builders that go through the public API, as a client would."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from tests.conftest import ADMIN_TOKEN

_seq = itertools.count(1)
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class MerchantCtx:
    id: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.api_key)


def address(**over: Any) -> dict[str, Any]:
    base = {"name": "张三", "phone": "13800138000", "line1": "淮海中路 999 号", "district": "徐汇区",
            "city": "上海", "province": "上海", "postal_code": "200031", "country": "CN"}
    base.update(over)
    return base


async def merchant(client: httpx.AsyncClient, *, verify: bool = True, name: str | None = None,
                   kind: str = "enterprise") -> MerchantCtx:
    n = next(_seq)
    r = await client.post("/v1/merchants", json={
        "name": name or f"测试商户 {n}", "kind": kind, "licence_no": "91350100M000100Y43",
        "contact_email": f"owner{n}@example.com"})
    assert r.status_code == 201, r.text
    body = r.json()
    if verify:
        v = await client.post(f"/v1/admin/merchants/{body['id']}/verify", headers=ADMIN)
        assert v.status_code == 200, v.text
    return MerchantCtx(id=body["id"], api_key=body["api_key"])


async def location(client: httpx.AsyncClient, m: MerchantCtx, *, kind: str = "warehouse",
                   code: str | None = None, name: str | None = None) -> dict[str, Any]:
    n = next(_seq)
    r = await client.post("/v1/locations", headers=m.headers, json={
        "code": code or f"L{n}", "name": name or f"仓库 {n}", "kind": kind, "address": address()})
    assert r.status_code == 201, r.text
    return dict(r.json())


def product_body(*, title: str | None = None, category: str = "apparel", status: str = "active",
                 skus: tuple[str, ...] | None = None, price: int = 19900, **extra: Any) -> dict[str, Any]:
    n = next(_seq)
    skus = skus or (f"SKU-{n}-A",)
    body: dict[str, Any] = {
        "title": title or f"男士羽绒服 Men's Down Jacket {n}", "category": category,
        "description": "加厚保暖 warm and light", "status": status,
        "variants": [{"sku": s, "price": price, "attributes": {"size": "L"}} for s in skus]}
    body.update(extra)
    return body


async def product(client: httpx.AsyncClient, m: MerchantCtx, **kw: Any) -> dict[str, Any]:
    r = await client.post("/v1/products", headers=m.headers, json=product_body(**kw))
    assert r.status_code == 201, r.text
    return dict(r.json())


async def stock(client: httpx.AsyncClient, m: MerchantCtx, loc: dict[str, Any], sku: str, on_hand: int) -> None:
    r = await client.put(f"/v1/locations/{loc['id']}/stock/{sku}", headers=m.headers, json={"on_hand": on_hand})
    assert r.status_code == 200, r.text


@dataclass
class Shop:
    """A verified merchant with a warehouse, a store and one product (SKU `<prefix>-1`) in stock."""

    m: MerchantCtx
    warehouse: dict[str, Any]
    store: dict[str, Any]
    product: dict[str, Any]

    @property
    def variant_id(self) -> str:
        return str(self.product["variants"][0]["id"])

    @property
    def sku(self) -> str:
        return str(self.product["variants"][0]["sku"])


async def shop(client: httpx.AsyncClient, *, on_hand: int = 10, store_on_hand: int = 0, price: int = 19_900,
               category: str = "apparel", skus: tuple[str, ...] | None = None) -> Shop:
    m = await merchant(client)
    wh = await location(client, m, kind="warehouse")
    st = await location(client, m, kind="store", name="徐汇店")
    n = next(_seq)
    p = await product(client, m, skus=skus or (f"S{n}-1",), price=price, category=category)
    for v in p["variants"]:
        await stock(client, m, wh, v["sku"], on_hand)
        if store_on_hand:
            await stock(client, m, st, v["sku"], store_on_hand)
    return Shop(m, wh, st, p)


def delivery() -> dict[str, Any]:
    return {"type": "delivery", "address": address()}


def checkout_body(lines: list[tuple[str, int]], *, method: str = "cod", email: str | None = "buyer@example.com",
                  fulfilment: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"lines": [{"variant_id": v, "quantity": q} for v, q in lines],
                            "fulfilment": fulfilment or delivery(), "payment_method": method}
    if email:
        body["email"] = email
    body.update(extra)
    return body


async def customer(client: httpx.AsyncClient, *, email: str | None = None) -> dict[str, str]:
    n = next(_seq)
    email = email or f"shopper{n}@example.com"
    r = await client.post("/v1/customers", json={"email": email, "password": "s3cret-pass", "name": "李四"})
    assert r.status_code == 201, r.text
    t = await client.post("/v1/auth/token", data={"username": email, "password": "s3cret-pass"})
    assert t.status_code == 200, t.text
    return bearer(t.json()["access_token"])


async def levels(app: Any) -> dict[tuple[str, str], tuple[int, int]]:
    from app.inventory import service as inventory_service

    async with app.state.sessionmaker() as s:
        return await inventory_service.level_totals(s)


async def ledger(app: Any) -> dict[tuple[str, str], tuple[int, int]]:
    from app.inventory import service as inventory_service

    async with app.state.sessionmaker() as s:
        return {k: v for k, v in (await inventory_service.ledger_totals(s)).items() if v != (0, 0)}


# ---- wholesale -------------------------------------------------------------------------------------------

@dataclass
class BuyerCtx:
    id: str
    token: str
    merchant_id: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def buyer(client: httpx.AsyncClient, m: MerchantCtx, *, credit_limit: int = 10_000_000,
                payment_terms_days: int = 30, name: str | None = None) -> BuyerCtx:
    r = await client.post("/v1/wholesale/buyers", headers=m.headers, json={
        "name": name or f"批发客户 {next(_seq)}", "credit_limit": credit_limit,
        "payment_terms_days": payment_terms_days})
    assert r.status_code == 201, r.text
    return BuyerCtx(r.json()["id"], r.json()["token"], m.id)


async def wholesale_product(client: httpx.AsyncClient, m: MerchantCtx, loc: dict[str, Any], *, sku: str,
                            price: int = 1_200, moq: int = 10, pack_size: int = 5,
                            tiers: tuple[tuple[int, int], ...] = ((1, 1_000), (50, 900), (100, 800)),
                            on_hand: int = 1_000, category: str = "agri") -> dict[str, Any]:
    """An active product with one variant sold wholesale (moq, pack size, volume tiers), stocked at `loc`."""
    body = product_body(skus=(sku,), price=price, category=category)
    body["variants"][0]["wholesale"] = {"moq": moq, "pack_size": pack_size,
                                        "tiers": [{"min_qty": q, "unit_price": p} for q, p in tiers]}
    r = await client.post("/v1/products", headers=m.headers, json=body)
    assert r.status_code == 201, r.text
    await stock(client, m, loc, sku, on_hand)
    return dict(r.json())


async def device(client: httpx.AsyncClient, m: MerchantCtx, loc: dict[str, Any], *,
                 name: str = "till") -> dict[str, str]:
    """A POS device at `loc` (a store); returns its bearer headers."""
    r = await client.post(f"/v1/locations/{loc['id']}/devices", headers=m.headers, json={"name": name})
    assert r.status_code == 201, r.text
    return bearer(r.json()["token"])


def pos_event(event_id: str, type_: str, sku: str, quantity: int, occurred_at: str, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": type_, "sku": sku, "quantity": quantity, "occurred_at": occurred_at,
            **extra}


# ---- community -------------------------------------------------------------------------------------------

async def pickup_point(client: httpx.AsyncClient, m: MerchantCtx, *, name: str | None = None,
                       commission_rate: int = 500) -> dict[str, Any]:
    """A pickup point with its leader; the result carries `leader_token`."""
    n = next(_seq)
    r = await client.post("/v1/community/pickup-points", headers=m.headers, json={
        "name": name or f"幸福小区 {n} 号自提点", "address": address(), "leader_name": "王团长",
        "leader_phone": "13900139000", "commission_rate": commission_rate})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def group_buy(client: httpx.AsyncClient, m: MerchantCtx, variant_id: str, *, price: int = 990,
                    min_quantity: int = 10, max_quantity: int = 100, closes_in_hours: int = 2,
                    pickup_date: str | None = None, pickup_point_ids: list[str] | None = None) -> dict[str, Any]:
    """An open group-buy closing in a few hours, picked up the day after it closes (Shanghai)."""
    from datetime import timedelta

    from app.core.clock import SHANGHAI, utcnow

    closes_at = utcnow() + timedelta(hours=closes_in_hours)
    body: dict[str, Any] = {
        "variant_id": variant_id, "price": price, "min_quantity": min_quantity, "max_quantity": max_quantity,
        "closes_at": closes_at.isoformat(),
        "pickup_date": pickup_date or (closes_at.astimezone(SHANGHAI).date() + timedelta(days=1)).isoformat()}
    if pickup_point_ids is not None:
        body["pickup_point_ids"] = pickup_point_ids
    r = await client.post("/v1/community/group-buys", headers=m.headers, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def join_group_buy(client: httpx.AsyncClient, headers: dict[str, str], group_buy_id: str, point_id: str, *,
                         quantity: int = 1, method: str = "cod", key: str | None = None) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return await client.post(f"/v1/community/group-buys/{group_buy_id}/join", headers={**headers, **extra},
                             json={"quantity": quantity, "pickup_point_id": point_id, "payment_method": method})
