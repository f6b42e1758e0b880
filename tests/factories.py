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
