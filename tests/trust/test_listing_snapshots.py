"""Listing revisions (C11, C25): every order line keeps the listing as the buyer saw it."""

import asyncio
import csv
import io
import json
import os
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.catalog import revisions
from app.catalog import service as catalog_service
from app.catalog.models import ListingRevision, Product
from app.core import clock
from app.db import JSONType, make_engine, make_sessionmaker
from app.migrate import upgrade
from tests import factories as f
from tests.conftest import PG_BASE, _pg_admin
from tests.trust.helpers import order_for


async def _revision(client: httpx.AsyncClient, headers: dict[str, str], revision_id: str) -> httpx.Response:
    return await client.get(f"/v1/listing-revisions/{revision_id}", headers=headers)


async def _line(client: httpx.AsyncClient, headers: dict[str, str], order_id: str) -> dict:
    order = (await client.get(f"/v1/orders/{order_id}", headers=headers)).json()
    [line] = order["lines"]
    return dict(line)


async def test_an_order_keeps_the_listing_it_was_sold_under(client: httpx.AsyncClient, admin_headers):
    shop = await f.shop(client, on_hand=10, price=19_900)
    buyer = await f.customer(client)
    first = await order_for(client, shop, buyer)
    old_line = first["lines"][0]
    assert old_line["listing_revision_id"]

    edited = await client.patch(f"/v1/products/{shop.product['id']}", headers=shop.m.headers, json={
        "title": "新款羽绒服 2.0", "description": "更轻更暖", "variants": [{"sku": shop.sku, "price": 25_900}]})
    assert edited.status_code == 200, edited.text
    second = await order_for(client, shop, buyer)
    new_line = second["lines"][0]
    assert new_line["listing_revision_id"] != old_line["listing_revision_id"]
    assert (new_line["title"], new_line["unit_price"]) == ("新款羽绒服 2.0", 25_900)

    old = await _revision(client, buyer, (await _line(client, buyer, first["id"]))["listing_revision_id"])
    assert old.status_code == 200, old.text
    seen = old.json()
    assert seen["revision"] == 1 and seen["product_id"] == shop.product["id"]
    assert seen["content"]["title"] == shop.product["title"] == old_line["title"]
    assert seen["content"]["description"] == shop.product["description"]
    assert [(v["sku"], v["price"]) for v in seen["content"]["variants"]] == [(shop.sku, 19_900)]
    assert seen["content"]["merchant"]["id"] == shop.m.id and seen["content"]["merchant"]["name"]
    assert seen["content"]["after_sales"] == {"category_returnable": True, "return_class": "standard",
                                              "return_reason": None}
    assert seen["content_hash"] == revisions.content_hash(seen["content"])
    new = (await _revision(client, buyer, new_line["listing_revision_id"])).json()
    assert new["revision"] == 2
    assert (new["content"]["title"], new["content"]["description"]) == ("新款羽绒服 2.0", "更轻更暖")
    assert [v["price"] for v in new["content"]["variants"]] == [25_900]

    # The merchant and the admin see it too; nobody else does (the same 404 as for a missing id).
    assert (await _revision(client, shop.m.headers, seen["id"])).json() == seen
    assert (await _revision(client, admin_headers, seen["id"])).status_code == 200
    stranger = await f.customer(client)
    other_shop = await f.merchant(client)
    assert (await _revision(client, stranger, seen["id"])).status_code == 404
    assert (await _revision(client, other_shop.headers, seen["id"])).status_code == 404
    assert (await _revision(client, buyer, "lrv_nope")).status_code == 404
    assert (await client.get(f"/v1/listing-revisions/{seen['id']}")).status_code == 401


async def test_a_new_revision_only_when_the_content_changes(client: httpx.AsyncClient, app):
    m = await f.merchant(client)
    p = await f.product(client, m, status="draft")

    async def count() -> int:
        async with app.state.sessionmaker() as s:
            return int(await s.scalar(select(func.count()).select_from(ListingRevision)
                                      .where(ListingRevision.product_id == p["id"])) or 0)

    assert await count() == 1
    assert (await client.patch(f"/v1/products/{p['id']}", headers=m.headers,
                               json={"status": "active"})).status_code == 200
    assert await count() == 1  # publishing changes nothing a buyer reads
    assert (await client.patch(f"/v1/products/{p['id']}", headers=m.headers,
                               json={"title": p["title"]})).status_code == 200
    assert await count() == 1
    added = await client.patch(f"/v1/products/{p['id']}", headers=m.headers,
                               json={"variants": [{"sku": "NEW-XL", "price": 29_900, "attributes": {"size": "XL"}}]})
    assert added.status_code == 200, added.text
    assert await count() == 2


async def test_wholesale_and_community_lines_carry_the_revision(client: httpx.AsyncClient):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    await f.wholesale_product(client, m, wh, sku="RICE-5KG")
    b = await f.buyer(client, m)
    r = await client.post("/v1/wholesale/orders", headers=b.headers,
                          json={"merchant_id": m.id, "lines": [{"sku": "RICE-5KG", "quantity": 100}]})
    assert r.status_code == 201, r.text
    line = await _line(client, b.headers, r.json()["order"]["id"])
    seen = await _revision(client, b.headers, line["listing_revision_id"])
    assert seen.status_code == 200 and seen.json()["content"]["variants"][0]["wholesale"]["tiers"][-1] == {
        "min_qty": 100, "unit_price": 800}

    s = await f.shop(client, on_hand=20, price=1_500, category="fresh")
    point = await f.pickup_point(client, s.m)
    gb = await f.group_buy(client, s.m, s.variant_id)
    resident = await f.customer(client)
    joined = await f.join_group_buy(client, resident, gb["id"], point["id"], quantity=2)
    assert joined.status_code == 201, joined.text
    line = await _line(client, resident, joined.json()["id"])
    seen = await _revision(client, resident, line["listing_revision_id"])
    assert seen.status_code == 200
    assert seen.json()["content"]["after_sales"]["category_returnable"] is False  # fresh goods


async def test_the_regulator_export_names_the_listing_as_sold(client: httpx.AsyncClient, admin_headers):
    shop = await f.shop(client, on_hand=10, price=12_000)
    buyer = await f.customer(client)
    start = clock.utcnow() - timedelta(minutes=1)
    order = await order_for(client, shop, buyer, quantity=2)
    await client.patch(f"/v1/products/{shop.product['id']}", headers=shop.m.headers, json={"title": "改过的标题"})
    r = await client.get("/v1/admin/exports/transactions", headers=admin_headers,
                         params={"from": start.isoformat(), "to": (clock.utcnow() + timedelta(minutes=1)).isoformat()})
    assert r.status_code == 200, r.text
    [row] = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    revision_id = order["lines"][0]["listing_revision_id"]
    assert row["listing_revision_ids"] == revision_id
    assert json.loads(row["lines"]) == [{"sku": shop.sku, "title": shop.product["title"], "quantity": 2,
                                        "unit_price": 12_000, "total": 24_000, "listing_revision_id": revision_id}]


async def test_revisions_cannot_be_rewritten(client: httpx.AsyncClient, app, db_url: str):
    m = await f.merchant(client)
    await f.product(client, m)
    async with app.state.sessionmaker() as s:
        with pytest.raises(DBAPIError):
            await s.execute(text("UPDATE listing_revision SET content_hash = 'forged'"))
        await s.rollback()
        if db_url.startswith("postgresql"):  # SQLite leaves DELETE to the test suite's cleanup
            with pytest.raises(DBAPIError):
                await s.execute(text("DELETE FROM listing_revision"))
            await s.rollback()


_OLD_HEAD = "92a2cbc3e176"  # the schema before listing revisions


@pytest.fixture(params=["sqlite", "postgresql"])
async def old_schema_url(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[str]:
    """A fresh database migrated to the schema before listing revisions."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        await asyncio.to_thread(upgrade, url, _OLD_HEAD)
        yield url
        return
    name = f"liutong_backfill_{secrets.token_hex(4)}"
    try:
        await _pg_admin(f'CREATE DATABASE "{name}"')
    except (OSError, asyncpg.PostgresError) as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL is required under CI=true and is unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    url = PG_BASE.rsplit("/", 1)[0] + f"/{name}"
    try:
        await asyncio.to_thread(upgrade, url, _OLD_HEAD)
        yield url
    finally:
        await _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_the_migration_gives_existing_products_revision_one(old_schema_url: str):
    merchant = sa.table("merchant", *(sa.column(c) for c in ("id", "name", "kind", "licence_no", "contact_email",
                                                             "status", "created_at", "updated_at")))
    product = sa.table("product", *(sa.column(c) for c in ("id", "merchant_id", "title", "description", "category",
                                                           "status", "search_text", "created_at", "updated_at")))
    variant = sa.table("variant", sa.column("attributes", JSONType),
                       *(sa.column(c) for c in ("id", "product_id", "merchant_id", "sku", "price", "currency",
                                                "wholesale", "moq", "pack_size", "created_at")))
    tier = sa.table("price_tier", *(sa.column(c) for c in ("id", "variant_id", "min_qty", "unit_price")))
    now = clock.utcnow()
    engine = make_engine(old_schema_url, pool_size=1)
    async with engine.begin() as conn:
        await conn.execute(merchant.insert().values(id="mer_old", name="老店", kind="enterprise",
                                                    licence_no="91350100M000100Y43", contact_email="a@example.com",
                                                    status="active", created_at=now, updated_at=now))
        await conn.execute(product.insert(), [
            {"id": f"prd_old{i}", "merchant_id": "mer_old", "title": f"旧商品 {i}", "description": "老描述",
             "category": "agri" if i else "fresh", "status": "active", "search_text": "", "created_at": now,
             "updated_at": now} for i in range(2)])
        await conn.execute(variant.insert(), [
            {"id": "var_old0", "product_id": "prd_old0", "merchant_id": "mer_old", "sku": "OLD-0", "price": 500,
             "currency": "CNY", "attributes": {"weight": "1kg"}, "wholesale": False, "moq": 1, "pack_size": 1,
             "created_at": now},
            {"id": "var_old1", "product_id": "prd_old1", "merchant_id": "mer_old", "sku": "OLD-1", "price": 900,
             "currency": "CNY", "attributes": {}, "wholesale": True, "moq": 10, "pack_size": 5, "created_at": now}])
        await conn.execute(tier.insert(), [
            {"id": "tier_a", "variant_id": "var_old1", "min_qty": 50, "unit_price": 800},
            {"id": "tier_b", "variant_id": "var_old1", "min_qty": 10, "unit_price": 850}])
    await engine.dispose()

    await asyncio.to_thread(upgrade, old_schema_url)

    engine = make_engine(old_schema_url, pool_size=1)
    try:
        async with make_sessionmaker(engine)() as s:
            revs = {r.product_id: r for r in (await s.scalars(select(ListingRevision))).all()}
            assert set(revs) == {"prd_old0", "prd_old1"} and {r.revision for r in revs.values()} == {1}
            current = {pid: rid for pid, rid in (await s.execute(select(Product.id, Product.current_revision_id)))}
            assert current == {pid: r.id for pid, r in revs.items()}
            old1 = revs["prd_old1"].content
            assert old1["merchant"] == {"id": "mer_old", "name": "老店"}
            assert old1["variants"][0]["wholesale"]["tiers"] == [{"min_qty": 10, "unit_price": 850},
                                                                 {"min_qty": 50, "unit_price": 800}]
            assert revs["prd_old0"].content["after_sales"] == {"category_returnable": False,
                                                               "return_class": "standard", "return_reason": None}
            assert all(r.content_hash == revisions.content_hash(r.content) for r in revs.values())
            # The application builds the same content: nothing changed, so no revision 2.
            assert await catalog_service._revise(s, ["prd_old0", "prd_old1"]) == current
            await s.rollback()
    finally:
        await engine.dispose()
