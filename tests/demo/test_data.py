import itertools
import re

import pytest

from app.demo.data import (
    CATEGORIES,
    LOCATION_KINDS,
    MerchantSpec,
    ProductSpec,
    merchants,
    stock_for,
    uscc_check_char,
    uscc_is_valid,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
ASCII_LETTER = re.compile(r"[A-Za-z]")
SKU = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")


@pytest.fixture(scope="module")
def data() -> list[MerchantSpec]:
    return merchants()


def all_products(data: list[MerchantSpec]) -> list[ProductSpec]:
    return [p for m in data for p in m.products]


def test_deterministic(data):
    assert merchants() == data
    assert merchants() == merchants()


def test_expected_merchants(data):
    by_key = {m.key: m for m in data}
    assert set(by_key) >= {"apparel", "agri", "fresh", "homeapp", "books", "factory"}
    assert by_key["apparel"].trading_model == "b2c_mall"
    assert by_key["agri"].trading_model == "b2b_marketplace"
    assert by_key["homeapp"].trading_model == "b2c_single_store"
    assert by_key["factory"].trading_model == "b2b_own"
    books = by_key["books"]
    assert (books.kind, books.trading_model, books.icp_no) == ("individual", "c2c", None)
    assert len(books.licence_no) == 18
    assert [loc.kind for loc in books.locations] == ["store"]
    apparel_kinds = sorted(loc.kind for loc in by_key["apparel"].locations)
    assert apparel_kinds == ["store", "store", "warehouse"]
    assert sorted(loc.kind for loc in by_key["fresh"].locations) == ["pickup_point", "pickup_point", "store"]


def test_product_count(data):
    assert len(all_products(data)) >= 500


def test_every_category_present_and_valid(data):
    used = {p.category for p in all_products(data)}
    assert used == set(CATEGORIES)


def test_skus_unique_per_merchant_and_uppercase(data):
    for m in data:
        skus = [v.sku for p in m.products for v in p.variants]
        assert len(skus) == len(set(skus)), m.key
        assert all(SKU.match(s) for s in skus), m.key


def test_titles_bilingual(data):
    for p in all_products(data):
        assert CJK.search(p.title) and ASCII_LETTER.search(p.title), p.title
        assert CJK.search(p.description), p.title


def test_down_jackets_present(data):
    assert sum("羽绒" in p.title for p in all_products(data)) >= 3


def test_status_mostly_active(data):
    products = all_products(data)
    assert {p.status for p in products} <= {"active", "draft"}
    drafts = sum(p.status == "draft" for p in products)
    assert 0 < drafts <= len(products) * 0.1


def test_prices_positive_ints(data):
    for p in all_products(data):
        assert p.variants, p.title
        for v in p.variants:
            assert type(v.price) is int and v.price > 0, v.sku
            if v.wholesale:
                assert all(type(t.unit_price) is int and t.unit_price > 0 for t in v.wholesale.tiers)


def test_wholesale_tiers(data):
    checked = 0
    for p in all_products(data):
        for v in p.variants:
            w = v.wholesale
            if w is None:
                continue
            checked += 1
            assert w.moq > 0 and w.pack_size > 0
            assert 2 <= len(w.tiers) <= 4
            assert w.tiers[0].min_qty <= w.moq
            qtys = [t.min_qty for t in w.tiers]
            prices = [t.unit_price for t in w.tiers]
            assert all(a < b for a, b in itertools.pairwise(qtys)), v.sku
            assert all(a >= b for a, b in itertools.pairwise(prices)), v.sku
            assert prices[0] < v.price
    assert checked > 0


def test_wholesale_merchants_have_terms_on_every_variant(data):
    for m in data:
        if m.key in {"agri", "factory"}:
            assert all(v.wholesale is not None for p in m.products for v in p.variants)


def test_locations_and_contacts(data):
    for m in data:
        assert m.contact_email.endswith("example.com")
        assert m.locations
        for loc in m.locations:
            assert loc.kind in LOCATION_KINDS
            assert loc.address.country == "CN"
            assert len(loc.address.postal_code) == 6


def test_uscc_published_code():
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert uscc_is_valid("91350100M000100Y43")
    assert not uscc_is_valid("91350100M000100Y44")
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100Y")
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100I4")


def test_enterprise_licences_are_valid_uscc(data):
    enterprises = [m for m in data if m.kind == "enterprise"]
    assert enterprises
    for m in enterprises:
        assert len(m.licence_no) == 18
        assert uscc_is_valid(m.licence_no), m.licence_no
        assert uscc_check_char(m.licence_no[:17]) == m.licence_no[17]
        assert m.icp_no is not None and re.fullmatch(r".ICP备\d{8}号-\d", m.icp_no)


def test_stock_for_deterministic_and_plausible(data):
    values: list[int] = []
    for m in data:
        for loc in m.locations:
            for p in m.products[:40]:
                for v in p.variants:
                    q = stock_for(m.key, loc.code, v.sku)
                    assert q == stock_for(m.key, loc.code, v.sku)
                    assert q >= 0
                    values.append(q)
                    if loc.kind != "warehouse" and m.key not in {"agri", "factory"}:
                        assert q <= 200
    assert any(q == 0 for q in values)
    assert any(q >= 1000 for q in values)
    store_values = [stock_for("apparel", "SH-ST-XH", v.sku) for p in data[0].products for v in p.variants]
    assert sum(q <= 200 for q in store_values) == len(store_values)


def test_every_trading_model_is_shown(data):
    by_model: dict[str, list[MerchantSpec]] = {}
    for m in data:
        by_model.setdefault(m.trading_model, []).append(m)
    assert set(by_model) == {"b2c_mall", "b2c_single_store", "b2b_marketplace", "b2b_own", "c2c"}
    assert len(by_model["b2c_mall"]) >= 2
    c2c = by_model["c2c"]
    assert len(c2c) >= 2 and all(m.kind == "individual" and not uscc_is_valid(m.licence_no) for m in c2c)
    assert {m.self_declaration for m in c2c} >= {"own_farm_produce"}
