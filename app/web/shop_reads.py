"""What the shopper's pages read: browsing with sort, filters and pages, product cards, availability in words,
reviews of a product, and the promotions a price can show. Public data only; both databases."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.media import service as media_service
from app.catalog.models import Product, Variant
from app.catalog.search import service as search_service
from app.core.clock import utcnow
from app.inventory.models import StockLevel
from app.inventory.sync import sync_status
from app.merchants import verification
from app.merchants.models import Location, Merchant
from app.orders.models import Order, OrderLine
from app.retail.models import Promotion
from app.trust import credit
from app.trust.models import Review
from app.trust.reputation import credit_facts, credit_score_of

PAGE_SIZE = 24
MAX_PAGE = 400  # deeper pages are refused as "no such page" rather than scanned
SORTS = ("relevance", "price_asc", "price_desc", "newest", "best_selling", "credit")
PICKUP_KINDS = ("store", "pickup_point")
# Below this many units a product page says how many are left (仅剩 3 件); above it, just 有货.
FEW_LEFT = 5


@dataclass(frozen=True)
class Browse:
    """A listing's query as the URL carries it (every field round-trips through `query`)."""

    q: str = ""
    category: str | None = None
    sort: str = "relevance"
    min_price: int | None = None  # fen
    max_price: int | None = None  # fen
    in_stock: bool = False
    city: str | None = None
    page: int = 1
    extra: Mapping[str, str] = field(default_factory=dict)  # other parameters a page keeps (e.g. none today)

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> Browse:
        """Read from query parameters; anything unreadable is ignored rather than refused (a shopper's URL)."""
        def yuan(name: str) -> int | None:
            raw = (params.get(name) or "").strip().replace(",", "").replace("¥", "")
            try:
                value = round(float(raw) * 100)
            except ValueError:
                return None
            return value if 0 <= value <= 10**12 else None

        try:
            page = int(params.get("page") or 1)
        except ValueError:
            page = 1
        sort = params.get("sort") or "relevance"
        return cls(q=(params.get("q") or "").strip()[:100], category=(params.get("category") or None),
                   sort=sort if sort in SORTS else "relevance", min_price=yuan("min"), max_price=yuan("max"),
                   in_stock=params.get("in_stock") == "1", city=(params.get("city") or "").strip()[:50] or None,
                   page=max(1, min(page, MAX_PAGE)))

    def query(self, **changes: Any) -> str:
        """This listing's query string, with `changes` applied (page resets to 1 unless given)."""
        values: dict[str, Any] = {"q": self.q, "category": self.category, "sort": self.sort,
                                  "min": _yuan_text(self.min_price), "max": _yuan_text(self.max_price),
                                  "in_stock": "1" if self.in_stock else None, "city": self.city, "page": None}
        values.update(changes)
        from urllib.parse import urlencode
        kept = {k: v for k, v in values.items()
                if v not in (None, "") and not (k == "sort" and v == "relevance") and not (k == "page" and v == 1)}
        return urlencode(kept)

    @property
    def filtered(self) -> bool:
        return bool(self.min_price is not None or self.max_price is not None or self.in_stock or self.city)


def _yuan_text(fen: int | None) -> str | None:
    if fen is None:
        return None
    return f"{fen // 100}" if fen % 100 == 0 else f"{fen / 100:.2f}"


def _public() -> Select[Any]:
    return (select(Product.id).join(Merchant, Merchant.id == Product.merchant_id)
            .where(Product.status == "active", Merchant.status == "active", Merchant.listed))


def _free() -> Any:
    return StockLevel.on_hand - StockLevel.reserved - StockLevel.safety_stock


async def browse(session: AsyncSession, b: Browse, *, merchant_id: str | None = None,
                 product_ids: Sequence[str] | None = None) -> tuple[list[dict[str, Any]], int]:
    """One page of product cards for the listing `b`, and how many products match in all."""
    stmt = _public()
    if merchant_id:
        stmt = stmt.where(Product.merchant_id == merchant_id)
    if product_ids is not None:
        stmt = stmt.where(Product.id.in_(list(product_ids)))
    if b.category:
        stmt = stmt.where(Product.category == b.category)
    match = await search_service.matching(session, b.q) if b.q else None
    if match is not None:
        stmt = stmt.where(match.condition)
    if b.min_price is not None or b.max_price is not None:
        price_ok = [Variant.product_id == Product.id]
        if b.min_price is not None:
            price_ok.append(Variant.price >= b.min_price)
        if b.max_price is not None:
            price_ok.append(Variant.price <= b.max_price)
        stmt = stmt.where(exists().where(*price_ok))
    if b.in_stock:
        stmt = stmt.where(exists().where(StockLevel.variant_id == Variant.id, Variant.product_id == Product.id,
                                         _free() > 0))
    if b.city:
        stmt = stmt.where(exists().where(
            StockLevel.variant_id == Variant.id, Variant.product_id == Product.id, _free() > 0,
            Location.id == StockLevel.location_id, Location.kind.in_(PICKUP_KINDS),
            Location.address["city"].as_string().in_(_city_names(b.city))))
    total = int(await session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    order: list[Any]
    if b.sort in ("price_asc", "price_desc"):
        low = select(func.min(Variant.price)).where(Variant.product_id == Product.id).scalar_subquery()
        order = [low.asc() if b.sort == "price_asc" else low.desc(), Product.id.desc()]
    elif b.sort == "best_selling":
        sold = (select(func.coalesce(func.sum(OrderLine.quantity), 0)).join(Order, Order.id ==
                                                                           OrderLine.order_id)
                .where(OrderLine.product_id == Product.id, Order.status != "cancelled").scalar_subquery())
        order = [sold.desc(), Product.id.desc()]
    elif b.sort == "credit":  # the seller's credit score, as its shop page shows it (C12)
        order = [credit_score_of(Product.merchant_id).desc(), Product.id.desc()]
    elif b.sort == "relevance" and match is not None:
        # A product whose title holds the words comes before one that only mentions them in its description.
        order = [match.rank.desc(), Product.id.desc()]
    else:
        order = [Product.id.desc()]
    ids = list((await session.scalars(stmt.order_by(*order).offset((b.page - 1) * PAGE_SIZE)
                                      .limit(PAGE_SIZE))).all())
    return await cards(session, ids), total


def _city_names(city: str) -> list[str]:
    """上海 and 上海市 are the same city to a shopper."""
    bare = city.removesuffix("市")
    return [bare, bare + "市"]


async def cards(session: AsyncSession, ids: Sequence[str]) -> list[dict[str, Any]]:
    """Product cards in the order of `ids`: title, price range, first picture, seller, rating, in stock."""
    if not ids:
        return []
    rows = (await session.execute(
        select(Product.id, Product.title, Product.merchant_id, Merchant.name,
               func.min(Variant.price), func.max(Variant.price), func.min(Variant.currency),
               Merchant.kind, Merchant.licence_no, Merchant.self_operated)
        .join(Merchant, Merchant.id == Product.merchant_id).join(Variant, Variant.product_id == Product.id)
        .where(Product.id.in_(list(ids))).group_by(Product.id, Product.title, Product.merchant_id, Merchant.name,
                                                   Merchant.kind, Merchant.licence_no, Merchant.self_operated)
    )).all()
    stocked = set((await session.scalars(
        select(Variant.product_id).join(StockLevel, StockLevel.variant_id == Variant.id)
        .where(Variant.product_id.in_(list(ids)), _free() > 0).distinct())).all())
    pictures, _ = await media_service.media_of(session, list(ids))
    ratings = await seller_ratings(session, {r.merchant_id for r in rows})
    by_id = {r.id: {"id": r.id, "title": r.title, "merchant_id": r.merchant_id, "seller": r[3], "price_min": r[4],
                    "price_max": r[5], "currency": r[6] or "CNY", "picture": next(iter(pictures.get(r.id) or []), None),
                    "rating": ratings.get(r.merchant_id), "in_stock": r.id in stocked,
                    "is_ad": False,  # no paid placements; a card that is one says 广告 (C12)
                    **seller_marks(r.kind, r.licence_no, r.self_operated)} for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def seller_marks(kind: str, licence_no: str, self_operated: bool) -> dict[str, Any]:
    """What a card or page says about who sells (C5, C8): registered or not, and the platform's own goods (自营).
    The licence number itself never leaves here."""
    return {"registration": verification.registration_type(kind, licence_no), "self_operated": bool(self_operated)}


async def seller_ratings(session: AsyncSession, merchant_ids: set[str]) -> dict[str, float | None]:
    """Each merchant's average review rating (None before its first review)."""
    if not merchant_ids:
        return {}
    rows = (await session.execute(select(Review.merchant_id, func.count(), func.sum(Review.rating))
                                  .where(Review.merchant_id.in_(merchant_ids)).group_by(Review.merchant_id))).all()
    found = {r[0]: credit.average_rating(int(r[1]), int(r[2] or 0)) for r in rows}
    return {m: found.get(m) for m in merchant_ids}


async def pickup_cities(session: AsyncSession) -> list[str]:
    """Cities with a store or pickup point of an active merchant, for the "pick up near me" filter."""
    rows = (await session.scalars(
        select(Location.address["city"].as_string()).join(Merchant, Merchant.id == Location.merchant_id)
        .where(Location.kind.in_(PICKUP_KINDS), Merchant.status == "active", Merchant.listed).distinct())).all()
    return sorted({str(c).removesuffix("市") for c in rows if c})


# ---- one product ---------------------------------------------------------------------------------------------

async def availability(session: AsyncSession, variant_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Per variant: units that can be promised online and the stores it can be collected at today. The counts
    per place stay inside: the page says 有货 / 仅剩 3 件 / 可到店自提: 浦东店."""
    out: dict[str, dict[str, Any]] = {v: {"available": 0, "pickup": []} for v in variant_ids}
    if not variant_ids:
        return out
    rows = (await session.execute(
        select(StockLevel.variant_id, StockLevel.location_id, Location.name, Location.kind, _free().label("free"))
        .join(Location, Location.id == StockLevel.location_id)
        .where(StockLevel.variant_id.in_(list(variant_ids))).order_by(Location.name))).all()
    held = {loc for loc, status in (await sync_status(session, {r.location_id for r in rows})).items()
            if status.out_of_touch}
    for r in rows:
        free = 0 if r.location_id in held else max(int(r.free), 0)
        out[r.variant_id]["available"] += free
        if free > 0 and r.kind in PICKUP_KINDS:
            out[r.variant_id]["pickup"].append(r.name)
    return out


def picker(product: Mapping[str, Any], stock: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The option pickers: for each option its values, and for each value whether some variant with it exists
    and whether one is in stock (the page's script narrows this to the other options chosen)."""
    options = product.get("options") or []
    out = []
    for o in options:
        values = []
        for value in o["values"]:
            having = [v for v in product["variants"] if (v.get("attributes") or {}).get(o["name"]) == value]
            values.append({"value": value, "exists": bool(having),
                           "in_stock": any(stock.get(v["id"], {}).get("available", 0) > 0 for v in having)})
        out.append({"name": o["name"], "values": values, "swatch": _is_colour(o["name"])})
    return out


def _is_colour(name: str) -> bool:
    return name in ("颜色", "颜色分类", "色", "colour", "color", "Colour", "Color")


async def live_promotions(session: AsyncSession, merchant_id: str) -> list[dict[str, Any]]:
    """The merchant's coupon codes usable online now, best first by what they take off ¥100."""
    now = utcnow()
    rows = (await session.scalars(select(Promotion).where(
        Promotion.merchant_id == merchant_id, Promotion.starts_at <= now, Promotion.ends_at > now,
        or_(Promotion.usage_limit.is_(None), Promotion.used_count < Promotion.usage_limit)))).all()
    promos = [{"code": p.code, "kind": p.kind, "value": p.value} for p in rows
              if "online" in (p.channels or {}).get("channels", [])]
    return sorted(promos, key=lambda p: promoted_price(10_000, p))[:3]


def promoted_price(price: int, promo: Mapping[str, Any]) -> int:
    """One unit's price after a promotion (percent off, or an amount off), never below zero."""
    if promo["kind"] == "percent":
        return price - price * int(promo["value"]) // 100
    return max(price - int(promo["value"]), 0)


async def product_reviews(session: AsyncSession, product_id: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """Reviews of orders that held this product, newest first; masked ones say so instead of their text."""
    from app.trust import declarations

    rows = (await session.execute(
        select(Review.rating, Review.text, Review.reply, Review.masked_at, Review.created_at)
        .where(Review.order_id.in_(select(OrderLine.order_id).where(OrderLine.product_id == product_id)))
        .order_by(Review.id.desc()).limit(limit))).all()
    return [{"rating": r.rating, "text": declarations.MASKED_NOTICE if r.masked_at else r.text, "reply": r.reply,
             "created_at": r.created_at} for r in rows]


async def seller_summary(session: AsyncSession, merchant_id: str) -> dict[str, Any]:
    """A seller's name, rating and number of ratings, for a product page."""
    merchant = await session.get(Merchant, merchant_id)
    facts = await credit_facts(session, merchant_id=merchant_id)
    marks = seller_marks(merchant.kind, merchant.licence_no, merchant.self_operated) if merchant else {}
    return {"id": merchant_id, "name": merchant.name if merchant else "",
            "rating": credit.average_rating(facts.rating_count, facts.rating_sum), "rating_count": facts.rating_count,
            **marks}
