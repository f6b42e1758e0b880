"""Wholesale use cases: buyers and their price lists, batch orders (JSON and CSV), credit terms, quotes, reorder.

A batch order is checked line by line but read and written set-based: one query for the variants of
every SKU, one for their tiers, one for the buyer's price list, one (locking) read of stock, then the
order core's placement (`orders.placing.pipeline`), which reserves and writes set-based too.

Duplicate SKUs are *reported*, not merged: the first row with a SKU is taken, every later row with the
same SKU is a line error (`duplicate_sku`) naming the first row, so a quantity is never silently added up.
Row numbers are 1-based positions in the JSON `lines` list, or line numbers in the CSV file (header = 1).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Category, PriceTier, Product, Variant
from app.config import Settings
from app.core import idempotency
from app.core.auth import Principal, create_token
from app.core.clock import as_utc, rfc3339_or_none, utcnow
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.core.pagination import keyset_page
from app.db import DIALECTS, dialect_of, fetch, in_list, unpacked
from app.inventory import service as inventory_service
from app.inventory.allocation import Need, plan_delivery
from app.inventory.service import Snapshot
from app.merchants.models import Merchant
from app.orders.access import get_visible
from app.orders.models import Order
from app.orders.placing import pipeline
from app.orders.placing.drafts import DraftLine, OrderDraft
from app.orders.placing.pipeline import Priced
from app.orders.views import OrderView, view
from app.wholesale import pricing
from app.wholesale.csvfile import MalformedCsv, decode, parse_order_csv
from app.wholesale.models import Buyer, BuyerPrice, Quote, QuoteLine, WholesaleOrder
from app.wholesale.pricing import Tier
from app.wholesale.schemas import MAX_LINES, BuyerCreate, BuyerPriceIn


class LinesRejected(InvalidInput):
    type_slug = "order-lines-rejected"
    title = "Some order lines cannot be ordered"


class CreditLimitExceeded(Conflict):
    type_slug = "credit-limit-exceeded"
    title = "Beyond the buyer's open credit"


class MalformedCsvFile(DomainError):
    status = 400
    type_slug = "malformed-csv"
    title = "The CSV file cannot be read"




# ---- buyers ----------------------------------------------------------------------------------------------

async def _credit_used(session: AsyncSession, buyer_id: str) -> int:
    """What the buyer owes: the totals of its unpaid, not cancelled orders on terms."""
    used = await session.scalar(
        select(func.coalesce(func.sum(Order.total - Order.refunded), 0))
        .where(Order.buyer_id == buyer_id, Order.payment_method == "terms", Order.payment_status == "unpaid",
               Order.status != "cancelled"))
    return int(used or 0)


def _buyer_view(buyer: Buyer, used: int) -> dict[str, Any]:
    credit = pricing.Credit(buyer.credit_limit, used)
    return {"id": buyer.id, "merchant_id": buyer.merchant_id, "name": buyer.name, "credit_limit": buyer.credit_limit,
            "credit_used": used, "open_credit": credit.open, "payment_terms_days": buyer.payment_terms_days,
            "currency": buyer.currency, "created_at": buyer.created_at}


async def create_buyer(*, session: AsyncSession, merchant_id: str, body: BuyerCreate) -> tuple[Buyer, str]:
    """Register a business buyer of the merchant and issue its first buyer token."""
    buyer = Buyer(id=new_id("byr"), merchant_id=merchant_id, name=body.name, credit_limit=body.credit_limit,
                  payment_terms_days=body.payment_terms_days, currency="CNY", created_at=utcnow())
    session.add(buyer)
    await session.flush()
    token = await create_token(session, kind="buyer", merchant_id=merchant_id, subject_id=buyer.id,
                               label=body.name[:200])
    await session.commit()
    return buyer, token


async def _owned_buyer(session: AsyncSession, merchant_id: str, buyer_id: str, *, lock: bool = False) -> Buyer:
    buyer = await session.get(Buyer, buyer_id, with_for_update=lock)
    if buyer is None or buyer.merchant_id != merchant_id:
        raise NotFound("buyer", buyer_id)
    return buyer


async def issue_buyer_token(*, session: AsyncSession, merchant_id: str, buyer_id: str, label: str) -> str:
    """Another token for the same buyer (one per purchasing clerk)."""
    buyer = await _owned_buyer(session, merchant_id, buyer_id)
    token = await create_token(session, kind="buyer", merchant_id=merchant_id, subject_id=buyer.id, label=label)
    await session.commit()
    return token


async def get_buyer(*, session: AsyncSession, merchant_id: str, buyer_id: str) -> dict[str, Any]:
    """A buyer with its credit figures (limit, used, open)."""
    buyer = await _owned_buyer(session, merchant_id, buyer_id)
    return _buyer_view(buyer, await _credit_used(session, buyer.id))


async def own_credit(*, session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """The calling buyer's own account: credit limit, what it owes on terms, what it may still buy."""
    if principal.subject_id is None:
        raise NotFound("buyer")
    return await get_buyer(session=session, merchant_id=principal.tenant, buyer_id=principal.subject_id)


async def list_buyers(*, session: AsyncSession, merchant_id: str, after: str | None,
                      limit: int) -> tuple[list[dict[str, Any]], str | None]:
    buyers, last = await keyset_page(session, select(Buyer).where(Buyer.merchant_id == merchant_id), Buyer.id,
                                     after=after, limit=limit, newest_first=False)
    used: dict[str, int] = {}
    if buyers:
        used = {str(r[0]): int(r[1]) for r in (await session.execute(
            select(Order.buyer_id, func.sum(Order.total - Order.refunded))
            .where(Order.buyer_id.in_([b.id for b in buyers]), Order.payment_method == "terms",
                   Order.payment_status == "unpaid", Order.status != "cancelled")
            .group_by(Order.buyer_id))).all()}
    return [_buyer_view(b, used.get(b.id, 0)) for b in buyers], last


async def set_prices(*, session: AsyncSession, merchant_id: str, buyer_id: str,
                     prices: Sequence[BuyerPriceIn]) -> dict[str, Any]:
    """Replace the buyer's price list; every SKU must be one of the merchant's variants."""
    buyer = await _owned_buyer(session, merchant_id, buyer_id, lock=True)
    skus = {p.sku for p in prices}
    ids = {r.sku: r.id for r in (await session.execute(
        select(Variant.sku, Variant.id).where(Variant.merchant_id == merchant_id, Variant.sku.in_(skus)))).all()}
    errors = [{"field": f"prices.{i}.sku", "message": f"unknown SKU {p.sku!r}"}
              for i, p in enumerate(prices) if p.sku not in ids]
    seen: set[tuple[str, int]] = set()
    for i, p in enumerate(prices):
        if (p.sku, p.min_qty) in seen:
            errors.append({"field": f"prices.{i}", "message": f"{p.sku} from {p.min_qty} is listed twice"})
        seen.add((p.sku, p.min_qty))
    if errors:
        raise InvalidInput("some prices cannot be set", errors=errors)
    await session.execute(delete(BuyerPrice).where(BuyerPrice.buyer_id == buyer.id))
    if prices:
        await session.execute(insert(BuyerPrice), [
            {"id": new_id("bpr"), "buyer_id": buyer.id, "variant_id": ids[p.sku], "min_qty": p.min_qty,
             "unit_price": p.unit_price} for p in prices])
    out = {"buyer_id": buyer.id, "prices": [
        {"sku": p.sku, "variant_id": ids[p.sku], "min_qty": p.min_qty, "unit_price": p.unit_price}
        for p in sorted(prices, key=lambda p: (p.sku, p.min_qty))]}
    await session.commit()
    return out


# ---- evaluating an order -----------------------------------------------------------------------------------

class RequestLine(NamedTuple):
    row: int  # 1-based position in the JSON list, or the CSV file's line number
    field: str  # where the client finds the line: "lines.17" or "line 18"
    sku: str
    quantity: int | None  # None: the CSV cell is not a whole number


class CatalogItem(NamedTuple):
    variant_id: str
    product_id: str
    sku: str
    title: str
    category: str
    returnable: bool
    price: int
    terms: pricing.Terms
    sellable: bool
    listing_revision_id: str | None


@dataclass
class Outcome:
    """Every request line's result (request order) and the draft lines of the accepted ones."""

    results: list[dict[str, Any]]  # the public line results, in request order
    fields: list[str]  # where each line is in the request ("lines.17", "line 18")
    stock: Snapshot
    accepted: list[DraftLine] = field(default_factory=list)

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [{"field": f, "row": r["row"], "sku": r["sku"], "code": r["error_code"], "message": r["error"]}
                for r, f in zip(self.results, self.fields, strict=True) if r["status"] == "rejected"]

    @property
    def total(self) -> int:
        return sum(ln.quantity * ln.unit_price for ln in self.accepted)

    @property
    def rejected(self) -> int:
        return sum(1 for r in self.results if r["status"] == "rejected")


# The reads of a batch order, built once per dialect: a list of thousands of SKUs or variants is one parameter.
_CATALOG = {d: select(Variant.id, Variant.product_id, Variant.sku, Product.title, Product.category, Category.returnable,
                      Variant.price, Variant.wholesale, Variant.moq, Variant.pack_size,
                      ((Product.status == "active") & (Merchant.status == "active")).label("sellable"),
                      Product.current_revision_id)
               .join(Product, Product.id == Variant.product_id)
               .join(Category, Category.slug == Product.category)
               .join(Merchant, Merchant.id == Variant.merchant_id)
               .where(Variant.merchant_id == bindparam("merchant_id"), in_list(Variant.sku, "skus", d))
            for d in DIALECTS}
_TIERS = {d: select(PriceTier.variant_id, PriceTier.min_qty, PriceTier.unit_price)
          .where(in_list(PriceTier.variant_id, "variant_ids", d)) for d in DIALECTS}
_BUYER_TIERS = (select(BuyerPrice.variant_id, BuyerPrice.min_qty, BuyerPrice.unit_price)
                .where(BuyerPrice.buyer_id == bindparam("buyer_id")))


async def _catalog(session: AsyncSession, merchant_id: str, skus: set[str]) -> dict[str, CatalogItem]:
    rows = unpacked(await fetch(session, _CATALOG[dialect_of(session)], {"merchant_id": merchant_id,
                                                                         "skus": sorted(skus)}))
    return {sku: CatalogItem(vid, pid, sku, title, category, returnable, price,
                             pricing.Terms(wholesale, moq, pack_size), bool(sellable), revision_id)
            for vid, pid, sku, title, category, returnable, price, wholesale, moq, pack_size, sellable, revision_id
            in rows}


async def _tiers(session: AsyncSession, variant_ids: list[str]) -> dict[str, list[Tier]]:
    tiers: dict[str, list[Tier]] = defaultdict(list)
    if variant_ids:
        for vid, min_qty, price in unpacked(await fetch(session, _TIERS[dialect_of(session)],
                                                        {"variant_ids": variant_ids})):
            tiers[vid].append(Tier(min_qty, price))
    return tiers


async def _buyer_tiers(session: AsyncSession, buyer_id: str) -> dict[str, list[Tier]]:
    tiers: dict[str, list[Tier]] = defaultdict(list)
    for vid, min_qty, price in unpacked(await fetch(session, _BUYER_TIERS, {"buyer_id": buyer_id})):
        tiers[vid].append(Tier(min_qty, price))
    return tiers


def _reject(result: dict[str, Any], code: str, message: str) -> None:
    result.update(status="rejected", error_code=code, error=message, unit_price=None, total=None)


async def _evaluate(session: AsyncSession, *, buyer: Buyer, lines: Sequence[RequestLine], mode: str,
                    quoted: dict[str, int] | None) -> Outcome:
    """Check and price every line; in partial mode lines without stock are rejected, the rest accepted. Reads only:
    the stock read is what the orders' takes are planned from, and placing them checks every take again."""
    catalog = await _catalog(session, buyer.merchant_id, {ln.sku for ln in lines})
    tiers = await _tiers(session, [c.variant_id for c in catalog.values() if c.terms.wholesale and c.sellable])
    own = await _buyer_tiers(session, buyer.id)
    first_row: dict[str, int] = {}
    results: list[dict[str, Any]] = []
    candidates: list[tuple[dict[str, Any], CatalogItem, int]] = []
    for ln in lines:
        result: dict[str, Any] = {"row": ln.row, "sku": ln.sku, "quantity": ln.quantity,
                                  "unit_price": None, "total": None, "status": "accepted", "error": None,
                                  "error_code": None}
        results.append(result)
        item = catalog.get(ln.sku)
        error: tuple[str, str] | None
        if ln.sku in first_row:
            error = (pricing.DUPLICATE_SKU, f"{ln.sku} is already on row {first_row[ln.sku]}; "
                                            "put the whole quantity on one row")
        elif item is None or not item.sellable:
            error = (pricing.UNKNOWN_SKU, f"no SKU {ln.sku!r} is for sale by this merchant")
        elif ln.quantity is None:
            error = (pricing.INVALID_QUANTITY, "quantity must be a whole number")
        elif quoted is not None:
            error = None if ln.quantity >= 1 else (pricing.INVALID_QUANTITY, "quantity must be at least 1")
        else:
            error = pricing.line_error(item.terms, ln.quantity)
        first_row.setdefault(ln.sku, ln.row)
        if error is not None:
            _reject(result, *error)
            continue
        assert item is not None and ln.quantity is not None
        price = (quoted[ln.sku] if quoted is not None else
                 pricing.unit_price(list_price=item.price, tiers=tiers.get(item.variant_id, ()),
                                    quantity=ln.quantity, buyer_tiers=own.get(item.variant_id, ())))
        error = pricing.total_error(price, ln.quantity)
        if error is not None:
            _reject(result, *error)
            continue
        result.update(unit_price=price, total=price * ln.quantity)
        candidates.append((result, item, ln.quantity))
    stock = await inventory_service.read_snapshot(session, merchant_id=buyer.merchant_id,
                                                  variant_ids=sorted({c[1].variant_id for c in candidates}))
    live = candidates
    while live:
        planned = plan_delivery(sorted((Need(item.variant_id, q) for _, item, q in live), key=lambda n: n.variant_id),
                                stock.available, stock.kinds)
        if not planned.short:
            break
        short = set(planned.short)
        for result, item, _ in live:
            if item.variant_id in short:
                can = sum(max(a, 0) for (loc, vid), a in stock.available.items()
                          if vid == item.variant_id and stock.kinds.get(loc) in ("warehouse", "store"))
                _reject(result, pricing.OUT_OF_STOCK, f"out of stock: {can} available")
        live = [c for c in live if c[1].variant_id not in short]
        if mode == "all_or_nothing":
            break
    outcome = Outcome(results, [ln.field for ln in lines], stock)
    outcome.accepted = [DraftLine(item.variant_id, item.product_id, item.sku, item.title, item.category,
                                  item.returnable, q, result["unit_price"], item.listing_revision_id)
                        for result, item, q in candidates if result["status"] == "accepted"]
    return outcome


def _refuse_if_needed(outcome: Outcome, mode: str) -> None:
    errors = outcome.errors
    if errors and mode == "all_or_nothing":
        raise LinesRejected(f"{len(errors)} of {len(outcome.results)} lines cannot be ordered; nothing was ordered",
                            errors=errors)
    if not outcome.accepted:
        raise LinesRejected("no line can be ordered; nothing was ordered", errors=errors)


# ---- placing an order --------------------------------------------------------------------------------------

@dataclass
class OrderRequest:
    merchant_id: str
    mode: str
    payment: str
    lines: list[RequestLine]
    source: str  # json | csv | quote | reorder
    fingerprint: str
    ship_to: dict[str, Any] | None = None
    quoted: dict[str, int] | None = None  # sku -> unit price agreed in a quote
    on_placed: Callable[[str], Awaitable[None]] | None = None  # runs in the order's transaction


@dataclass
class _Priced(Priced):
    outcome: Outcome | None = None
    payment_terms_days: int = 0


class _BatchOrder:
    """A buyer's batch order as a placement channel: priced from its lines, one order, the buyer's credit checked
    in the placing transaction with the buyer locked, the wholesale record and the caller's step written after."""

    name = "wholesale"
    lookup_first = True  # pricing reads thousands of lines: a retry is answered before it

    def __init__(self, *, principal: Principal, request: OrderRequest, buyer_id: str) -> None:
        self.principal, self.request, self.buyer_id = principal, request, buyer_id

    async def price(self, session: AsyncSession) -> _Priced:
        buyer = await _owned_buyer(session, self.principal.tenant, self.buyer_id)
        outcome = await _evaluate(session, buyer=buyer, lines=self.request.lines, mode=self.request.mode,
                                  quoted=self.request.quoted)
        _refuse_if_needed(outcome, self.request.mode)
        fulfilment: dict[str, Any] = {"type": "delivery"}
        if self.request.ship_to:
            fulfilment["address"] = self.request.ship_to
        draft = OrderDraft(merchant_id=buyer.merchant_id, channel="wholesale", lines=outcome.accepted,
                           payment_method=self.request.payment, currency=buyer.currency, fulfilment=fulfilment,
                           buyer_id=buyer.id, charge_shipping=False, stock=outcome.stock)
        return _Priced([draft], writes_before=True, writes_after=True, outcome=outcome,
                       payment_terms_days=buyer.payment_terms_days)

    async def before(self, session: AsyncSession, priced: _Priced) -> None:
        """Orders of one buyer are checked against its open credit one after the other (the buyer row locked)."""
        buyer = await _owned_buyer(session, self.principal.tenant, self.buyer_id, lock=True)
        if self.request.payment != "terms":
            return
        credit = pricing.Credit(buyer.credit_limit, await _credit_used(session, buyer.id))
        total = priced.total
        if not credit.allows(total):
            raise CreditLimitExceeded(
                f"the order total {total} exceeds the open credit {credit.open} "
                f"(limit {credit.limit}, unpaid {credit.used})",
                extra={"order_total": total, "credit_limit": credit.limit, "credit_used": credit.used,
                       "open_credit": credit.open, "currency": buyer.currency})

    async def after(self, session: AsyncSession, priced: _Priced, orders: Sequence[OrderView]) -> None:
        order = orders[0]
        assert priced.outcome is not None
        created = datetime.fromisoformat(order["created_at"])
        await session.execute(insert(WholesaleOrder).values(
            order_id=order["id"], merchant_id=order["merchant_id"], buyer_id=self.buyer_id,
            source=self.request.source, mode=self.request.mode, rejected_lines=priced.outcome.rejected,
            due_at=self._due(priced, created), created_at=created))
        if self.request.on_placed is not None:
            await self.request.on_placed(order["id"])

    def answer(self, priced: _Priced, orders: list[OrderView], payment: dict[str, Any] | None
               ) -> dict[str, Any]:
        assert priced.outcome is not None
        return {"order": orders[0], "lines": priced.outcome.results, "accepted": len(priced.outcome.accepted),
                "rejected": priced.outcome.rejected,
                "due_at": rfc3339_or_none(self._due(priced, datetime.fromisoformat(orders[0]["created_at"]))),
                "payment": payment}

    def _due(self, priced: _Priced, created: datetime) -> datetime | None:
        return pricing.due_at(created, priced.payment_terms_days) if self.request.payment == "terms" else None


async def place_order(*, session: AsyncSession, settings: Settings, principal: Principal, request: OrderRequest,
                      idempotency_key: str | None) -> tuple[int, dict[str, Any]]:
    """Check, price, reserve and place a batch order for the calling buyer; all or nothing, or partial
    (`pipeline.place`). Stripe orders are priced once to start the payment; if stock moves before the order is
    placed and its total changes, the order is refused (409) and the payment cancelled."""
    if request.merchant_id != principal.tenant or principal.subject_id is None:
        raise NotFound("merchant", request.merchant_id)
    channel = _BatchOrder(principal=principal, request=request, buyer_id=principal.subject_id)
    return await pipeline.place(session, settings=settings, channel=channel, request=pipeline.Request(
        scope=principal.scope, key=idempotency_key, fingerprint=request.fingerprint, payment_method=request.payment,
        hold_minutes=settings.shop_order_hold_minutes))


def json_lines(lines: Sequence[tuple[str, int]]) -> list[RequestLine]:
    return [RequestLine(i + 1, f"lines.{i}", sku, qty) for i, (sku, qty) in enumerate(lines)]


def csv_lines(body: bytes) -> list[RequestLine]:
    """The lines of an order CSV; MalformedCsvFile (400) naming the line when the file cannot be read."""
    try:
        rows = parse_order_csv(decode(body), max_rows=MAX_LINES)
    except MalformedCsv as exc:
        raise MalformedCsvFile(str(exc), extra={"line": exc.line, "errors": [
            {"field": f"line {exc.line}", "line": exc.line, "message": exc.message}]}) from None
    if not rows:
        raise MalformedCsvFile("the file has a header but no order lines",
                               extra={"errors": [{"field": "body", "message": "no order lines"}]})
    return [RequestLine(r.line, f"line {r.line}", r.sku, pricing.parse_quantity(r.quantity)) for r in rows]


async def reorder(*, session: AsyncSession, settings: Settings, principal: Principal, order_id: str, mode: str,
                  payment: str | None, idempotency_key: str | None) -> tuple[int, dict[str, Any]]:
    """Order again what an earlier wholesale order of this buyer contained, at today's prices."""
    order = await get_visible(session, principal=principal, order_id=order_id)
    if order.channel != "wholesale":
        raise NotFound("wholesale order", order_id)
    previous = await view(session, order=order)
    lines = json_lines([(ln["sku"], ln["quantity"]) for ln in previous["lines"]])
    method = payment or order.payment_method
    request = OrderRequest(
        merchant_id=order.merchant_id, mode=mode, payment=method, lines=lines, source="reorder",
        fingerprint=idempotency.request_hash("wholesale-reorder", order_id, mode, method),
        ship_to=previous["fulfilment"].get("address"))
    await session.rollback()
    return await place_order(session=session, settings=settings, principal=principal, request=request,
                             idempotency_key=idempotency_key)


# ---- quotes ------------------------------------------------------------------------------------------------

async def _quote_view(session: AsyncSession, quote: Quote) -> dict[str, Any]:
    lines = (await session.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote.id)
                                   .order_by(QuoteLine.id))).all()
    return {"id": quote.id, "merchant_id": quote.merchant_id, "buyer_id": quote.buyer_id, "status": quote.status,
            "valid_until": quote.valid_until, "order_id": quote.order_id, "created_at": quote.created_at,
            "lines": [{"sku": ln.sku, "quantity": ln.quantity, "unit_price": ln.unit_price} for ln in lines]}


async def request_quote(*, session: AsyncSession, principal: Principal, merchant_id: str,
                        lines: Sequence[tuple[str, int]]) -> dict[str, Any]:
    """A buyer asks the merchant for prices on a list of SKUs and quantities."""
    if merchant_id != principal.tenant or principal.subject_id is None:
        raise NotFound("merchant", merchant_id)
    known = set((await session.scalars(select(Variant.sku).where(
        Variant.merchant_id == merchant_id, Variant.sku.in_({s for s, _ in lines})))).all())
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for i, (sku, _) in enumerate(lines):
        if sku not in known:
            errors.append({"field": f"lines.{i}.sku", "message": f"unknown SKU {sku!r}"})
        elif sku in seen:
            errors.append({"field": f"lines.{i}.sku", "message": f"{sku} is listed twice"})
        seen.add(sku)
    if errors:
        raise InvalidInput("some lines cannot be quoted", errors=errors)
    now = utcnow()
    quote = Quote(id=new_id("quo"), merchant_id=merchant_id, buyer_id=principal.subject_id, status="requested",
                  created_at=now)
    session.add(quote)
    await session.flush()
    await session.execute(insert(QuoteLine), [{"id": new_id("qli"), "quote_id": quote.id, "sku": sku,
                                               "quantity": qty, "unit_price": None} for sku, qty in lines])
    out = await _quote_view(session, quote)
    await session.commit()
    return out


async def _visible_quote(session: AsyncSession, principal: Principal, quote_id: str, *, lock: bool = False) -> Quote:
    quote = await session.get(Quote, quote_id, with_for_update=lock)
    mine = quote is not None and quote.merchant_id == principal.merchant_id and (
        principal.kind == "merchant" or (principal.kind == "buyer" and quote.buyer_id == principal.subject_id))
    if quote is None or not mine:
        raise NotFound("quote", quote_id)
    return quote


async def get_quote(*, session: AsyncSession, principal: Principal, quote_id: str) -> dict[str, Any]:
    return await _quote_view(session, await _visible_quote(session, principal, quote_id))


async def respond_quote(*, session: AsyncSession, principal: Principal, quote_id: str,
                        prices: Sequence[tuple[str, int]], valid_until: datetime) -> dict[str, Any]:
    """The merchant prices every line of a quote, valid until a given time (it may answer again before acceptance)."""
    quote = await _visible_quote(session, principal, quote_id, lock=True)
    if quote.status == "accepted":
        raise Conflict("the quote has been accepted already")
    if as_utc(valid_until) <= utcnow():
        raise field_error("valid_until", "must be in the future")
    lines = {ln.sku: ln for ln in (await session.scalars(select(QuoteLine).where(
        QuoteLine.quote_id == quote.id))).all()}
    given = dict(prices)
    errors = [{"field": f"lines.{i}.sku", "message": f"{sku} is not in this quote"}
              for i, (sku, _) in enumerate(prices) if sku not in lines]
    errors += [{"field": "lines", "message": f"no price for {sku}"} for sku in sorted(lines) if sku not in given]
    if errors:
        raise InvalidInput("every line of the quote needs one price", errors=errors)
    for sku, line in lines.items():
        line.unit_price = given[sku]
    quote.status, quote.valid_until, quote.answered_at = "answered", as_utc(valid_until), utcnow()
    await session.flush()
    out = await _quote_view(session, quote)
    await session.commit()
    return out


async def accept_quote(*, session: AsyncSession, settings: Settings, principal: Principal, quote_id: str,
                       payment: str, idempotency_key: str | None) -> tuple[int, dict[str, Any]]:
    """The buyer accepts an answered, unexpired quote: an order at the quoted prices (all lines or none)."""
    quote = await _visible_quote(session, principal, quote_id)
    if principal.kind != "buyer":
        raise NotFound("quote", quote_id)
    lines = (await session.scalars(select(QuoteLine).where(QuoteLine.quote_id == quote.id)
                                   .order_by(QuoteLine.id))).all()
    fingerprint = idempotency.request_hash("wholesale-quote-accept", quote_id, payment)
    if idempotency_key:
        found = await idempotency.lookup(session, scope=principal.scope, key=idempotency_key,
                                         fingerprint=fingerprint)
        if found is not None:
            return found
    if quote.status != "answered":
        raise Conflict(f"the quote is {quote.status}; only an answered quote can be accepted")
    if quote.valid_until is None or as_utc(quote.valid_until) <= utcnow():
        raise Conflict("the quote has expired; ask for a new one",
                       extra={"valid_until": rfc3339_or_none(quote.valid_until)})

    async def mark_accepted(order_id: str) -> None:
        done = await session.execute(update(Quote).where(Quote.id == quote_id, Quote.status == "answered")
                                     .values(status="accepted", order_id=order_id))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise Conflict("the quote has been accepted already")

    request = OrderRequest(
        merchant_id=quote.merchant_id, mode="all_or_nothing", payment=payment,
        lines=json_lines([(ln.sku, ln.quantity) for ln in lines]), source="quote", fingerprint=fingerprint,
        quoted={ln.sku: int(ln.unit_price or 0) for ln in lines}, on_placed=mark_accepted)
    await session.rollback()
    return await place_order(session=session, settings=settings, principal=principal, request=request,
                             idempotency_key=idempotency_key)
